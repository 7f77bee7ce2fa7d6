#include "rig.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "config/policy_loader.hpp"
#include "daemon/flow_tables.hpp"
#include "ports/ports.hpp"
#include "eal/eal_session.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::scenario {

namespace {

std::unique_ptr<eal::EalSession> g_eal;
rte_mempool* g_pool = nullptr;
std::vector<ports::PortRuntime> g_ports;
std::atomic<unsigned> g_rigs{0};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "scenario rig: %s\n", what.c_str());
  std::abort();
}

config::DaemonConfig base_config() {
  config::DaemonConfig c;
  for (size_t i = 0; i < kPorts.size(); ++i)
    c.ports.push_back({kPorts[i], "net_ring" + std::to_string(i), kPorts[i] == "uplink"});
  c.workers = 1;
  return c;
}

void drain(uint16_t dpdk_port, std::vector<Out>* out, const std::string& name) {
  rte_mbuf* pkts[64];
  for (;;) {
    uint16_t n = rte_eth_rx_burst(dpdk_port, 0, pkts, 64);
    for (uint16_t i = 0; i < n; ++i) {
      if (out) {
        const uint8_t* d = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
        out->push_back({name, Bytes(d, d + rte_pktmbuf_data_len(pkts[i]))});
      }
      rte_pktmbuf_free(pkts[i]);
    }
    if (n < 64) return;
  }
}

}  // namespace

RigEal::RigEal() {
  std::vector<std::string> args = eal::offline_args("sgfw-scenario", 1024);
  for (size_t i = 0; i < kPorts.size(); ++i) args.push_back("--vdev=net_ring" + std::to_string(i));
  auto s = eal::EalSession::init(args);
  if (!s) die(s.error().message);
  g_eal = std::make_unique<eal::EalSession>(std::move(*s));
  g_pool = rte_pktmbuf_pool_create("scenario-mbufs", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!g_pool) die("mbuf pool");
  auto ports = ports::setup_ports(base_config(), g_pool);
  if (!ports) die(ports.error().message);
  g_ports = std::move(*ports);
  if (auto st = ports::start_ports(g_ports); !st) die(st.error().message);
}

RigEal::~RigEal() {
  ports::stop_ports(g_ports);
  g_ports.clear();
  g_eal.reset();
}

Rig::Rig(const std::string& policy_yaml, RigOptions options) : cfg_(base_config()) {
  unsigned id = g_rigs.fetch_add(1);
  cfg_.flows = options.flows;
  cfg_.limits = options.limits;
  cfg_.acl_max_size = options.acl_max_size;
  char tmpl[] = "/dev/shm/sgfw-scenario-XXXXXX";  // persisted policies: no disk fsync
  if (!mkdtemp(tmpl)) die("mkdtemp");
  dir_ = tmpl;
  policy_path_ = dir_ + "/policy.yaml";
  cfg_.policy = policy_path_;
  std::ofstream(policy_path_) << policy_yaml;
  auto policy = config::load_policy_text(policy_yaml, "scenario.yaml");
  if (!policy) throw std::runtime_error(policy.error().message);
  runtime::PortLayout layout;
  layout.names = cfg_.port_names();
  layout.uplink = static_cast<uint16_t>(cfg_.uplink_index());
  auto snap = runtime::Snapshot::build(std::move(*policy), layout, 1, 1, acl::BuildOptions{});
  if (!snap) throw std::runtime_error(snap.error().message);
  auto pub = runtime::Publisher::create(1, std::move(*snap));
  if (!pub) die(pub.error().message);
  publisher_ = std::move(*pub);

  now_ = rte_rdtsc();
  // The daemon's tables: both families, the connection tables sharing one VM quota.
  auto tables = daemon::FlowTables::create(cfg_, rte_get_tsc_hz(), publisher_->rcu(), "scn", std::to_string(id));
  if (!tables) die(tables.error().message);
  tables_ = std::move(*tables);

  view_counters_.assign(1, std::vector<runtime::PortCounters>(g_ports.size()));
  worker_stats_.resize(1);
  dataplane::TxTarget tx;
  tx.nports = static_cast<uint16_t>(g_ports.size());
  for (size_t p = 0; p < g_ports.size(); ++p) tx.dpdk_port[p] = g_ports[p].dpdk_port;
  pipeline_ = std::make_unique<dataplane::Pipeline>(0, tx, view_counters_[0].data(), tables_.context(cfg_));
  dataplane_access_ = std::make_unique<daemon::LiveDataplane>(daemon::LiveDataplaneParts{
      &g_ports, &view_counters_, &worker_stats_, tables_.connections.get(), tables_.connections6.get()});
  control_ = std::make_unique<control::ControlPlane>(cfg_, publisher_.get(), dataplane_access_.get(), policy_yaml);
  if (!control_->assign_vm_ids(*publisher_->current())) die("assign_vm_ids");
  for (const auto& p : g_ports) drain(p.dpdk_port, nullptr, p.name);
}

Rig::~Rig() {
  for (const auto& p : g_ports) drain(p.dpdk_port, nullptr, p.name);
  control_.reset();
  pipeline_.reset();
  std::filesystem::remove_all(dir_);
}

uint16_t Rig::port_index(const std::string& name) const {
  for (size_t i = 0; i < kPorts.size(); ++i)
    if (kPorts[i] == name) return static_cast<uint16_t>(i);
  die("no port " + name);
}

std::vector<Out> Rig::send(const std::string& port, const std::vector<Bytes>& frames) {
  std::vector<Out> out;
  for (size_t off = 0; off < frames.size(); off += dataplane::kBurst) {
    rte_mbuf* pkts[dataplane::kBurst];
    uint16_t n = static_cast<uint16_t>(std::min<size_t>(dataplane::kBurst, frames.size() - off));
    for (uint16_t i = 0; i < n; ++i) {
      const Bytes& f = frames[off + i];
      pkts[i] = rte_pktmbuf_alloc(g_pool);
      if (!pkts[i]) die("mbuf alloc");
      void* d = rte_pktmbuf_append(pkts[i], static_cast<uint16_t>(f.size()));
      if (!d) die("frame too large for an mbuf");
      std::memcpy(d, f.data(), f.size());
    }
    pipeline_->process(*publisher_->acquire(), port_index(port), pkts, n, now_);
    pipeline_->flush();
    for (const auto& p : g_ports) drain(p.dpdk_port, &out, p.name);  // the rings hold ~1k frames
  }
  return out;
}

bool Rig::passes(const std::string& from, const Bytes& frame, const std::string& to) {
  auto out = send(from, frame);
  return out.size() == 1 && out[0].port == to && out[0].frame == frame;
}

void Rig::sync_clock() { now_ = std::max(now_, rte_rdtsc()); }

void Rig::advance(double seconds) { now_ += static_cast<uint64_t>(seconds * static_cast<double>(rte_get_tsc_hz())); }

uint64_t Rig::drops(core::DropReason r) const {
  uint64_t t = 0;
  for (const auto& c : view_counters_[0]) t += runtime::read(c.drops[static_cast<size_t>(r)]);
  return t;
}

uint64_t Rig::port_drops(const std::string& port, core::DropReason r) const {
  return runtime::read(view_counters_[0][port_index(port)].drops[static_cast<size_t>(r)]);
}

}  // namespace sgfw::scenario
