#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/policy_loader.hpp"
#include "control/control_plane.hpp"
#include "eal/eal_session.hpp"
#include "entries.hpp"
#include "runtime/publisher.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::fuzz {

namespace {

const char* kPolicy = R"(subnets:
  - {name: net, cidr: 10.0.0.0/24}
securityGroups:
  - name: web
    rules:
      - {name: https, direction: Ingress, protocol: TCP, port: 443, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {direction: Egress, protocol: UDP, portRange: 1000-1100, remote: {subnetRef: {name: net}}}
      - {direction: Ingress, protocol: All, remote: {securityGroupRef: {name: web}}}
  - name: "null"
vms:
  - {name: a, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1], securityGroups: [web, default-allow-ssh]}
  - {name: b, port: p1, mac: "02:00:00:00:00:02", ips: [10.0.0.2]}
  - {name: far, ips: [10.9.0.1]}
)";

// A data plane with one VM port, one worker and no connection table.
class FakeDataplane final : public control::DataplaneAccess {
 public:
  std::vector<control::PortInfo> ports() const override { return {{"p1", "net_null0", false, 1}, {"up", "net_null1", true, 1}}; }
  control::Totals port_totals(size_t) const override { return {}; }
  std::vector<control::WorkerInfo> workers() const override { return {control::WorkerInfo{}}; }
  double tsc_hz() const override { return 1e9; }
  control::FlowTableInfo flow_table() const override { return {}; }
  void for_each_flow(const std::function<void(const control::FlowRecord&)>&) const override {}
  size_t flush_flows(const std::vector<bool>*) override { return 0; }
  size_t reclaim_flows(uint32_t) override { return 0; }
};

struct State {
  std::unique_ptr<eal::EalSession> eal;
  std::unique_ptr<runtime::Publisher> publisher;
  FakeDataplane dataplane;
  std::unique_ptr<control::ControlPlane> control;
};

State* g_state = nullptr;
// The tmpfs directory of the persisted policies, removed when the process exits (a
// run, a replay test) so that runs do not pile up in /dev/shm.
std::string g_shm_dir;
void remove_shm_dir() {
  std::error_code ec;
  std::filesystem::remove_all(g_shm_dir, ec);
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "control fuzz target: %s\n", what.c_str());
  std::abort();
}

}  // namespace

void control_init() {
  if (g_state) return;
  auto* s = new State();
  auto eal = eal::EalSession::init(
      {"--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry", "--log-level=*:error",
       "--file-prefix", "sgfw-fuzz-control-" + std::to_string(getpid())});
  if (!eal) die("EAL: " + eal.error().message);
  s->eal = std::make_unique<eal::EalSession>(std::move(*eal));
  // Persisted policies go to tmpfs, one file replaced atomically per accepted change.
  std::string dir = "/dev/shm/sgfw-fuzz-" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  g_shm_dir = dir;
  std::atexit(remove_shm_dir);
  config::DaemonConfig cfg;
  cfg.ports = {{"p1", "net_null0", false}, {"up", "net_null1", true}};
  cfg.policy = dir + "/policy.yaml";
  { std::ofstream(cfg.policy) << kPolicy; }
  auto pol = config::load_policy_text(kPolicy, cfg.policy);
  if (!pol) die(pol.error().message);
  runtime::PortLayout layout;
  layout.names = cfg.port_names();
  layout.uplink = static_cast<uint16_t>(cfg.uplink_index());
  auto snap = runtime::Snapshot::build(std::move(*pol), layout, 1, 1, acl::BuildOptions{});
  if (!snap) die(snap.error().message);
  auto pub = runtime::Publisher::create(1, std::move(*snap));
  if (!pub) die(pub.error().message);
  s->publisher = std::move(*pub);
  s->control = std::make_unique<control::ControlPlane>(cfg, s->publisher.get(), &s->dataplane, kPolicy);
  if (!s->control->assign_vm_ids(*s->publisher->current())) std::abort();
  g_state = s;
}

int control_request(const uint8_t* data, size_t size) {
  control_init();
  std::string line(reinterpret_cast<const char*>(data), size);
  line = line.substr(0, line.find('\n'));  // the socket server hands over one line
  control::Peer peer{1000, 1000, 1};
  std::string reply = g_state->control->handle_now(line, peer);
  if (reply.find('\n') != std::string::npos) die("reply spans lines: " + reply.substr(0, 200));
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean())
    die("reply is not {\"ok\": bool, ...}: " + reply.substr(0, 200));
  if (!j["ok"].get<bool>() && (!j.contains("error") || !j["error"].is_string())) die("error reply without error");
  if (j.contains("error"))
    for (char c : j["error"].get<std::string>())
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) die("raw control character in an error");
  g_state->control->reclaim();
  return 0;
}

}  // namespace sgfw::fuzz
