#include "bench/traffic_bench.hpp"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "acl/acl_context.hpp"
#include "bench/machine_info.hpp"
#include "bench/traffic_frames.hpp"
#include "dataplane/pipeline.hpp"
#include "ports/ports.hpp"
#include "eal/eal_session.hpp"
#include "flow/flow_table.hpp"
#include "logs/end_records.hpp"
#include "logs/log_writer.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::bench {

namespace {

using Json = nlohmann::ordered_json;

enum class Kind : uint8_t { kEstablished, kNew, kDeny };

// --logs: a log ring, the connection tables' end hooks and a writer to /dev/null.
struct BenchLogs {
  struct NoNames final : logs::Names {
    const std::string* vm(uint32_t) const override { return nullptr; }
    const std::string* rule(uint64_t, uint32_t) const override { return nullptr; }
  };
  NoNames names;
  std::unique_ptr<logs::LogRing> ring;
  std::unique_ptr<logs::LogWriter> writer;
  flow::FlowTable* t4 = nullptr;
  flow::FlowTable6* t6 = nullptr;

  core::Status start(const std::string& name, dataplane::FlowContext& fc) {
    auto r = logs::LogRing::create(name, 1u << 14);
    if (!r) return core::make_error(r.error().message);
    ring = std::move(*r);
    logs::LogWriterOptions lo;
    lo.connections = "/dev/null";
    lo.drops = "/dev/null";
    lo.time.tsc_hz = rte_get_tsc_hz();
    auto w = logs::LogWriter::open(lo, ring.get(), &names);
    if (!w) return core::make_error(w.error().message);
    writer = std::move(*w);
    ring->set_consumer(nullptr, nullptr);  // the pipeline runs on this thread: never drain inside a timed pass
    fc.log = ring.get();
    fc.log_connections = fc.log_drops = true;
    t4 = fc.table;
    t6 = fc.table6;
    logs::install_end_hook(*t4, ring.get());
    logs::install_end_hook(*t6, ring.get());
    return {};
  }
  void drain() {
    if (writer) writer->drain(rte_rdtsc());
  }
  Json summary() const {
    Json j;
    for (logs::File f : {logs::File::kConnections, logs::File::kDrops}) {
      logs::FileCounters c = writer->counters(f);
      j[f == logs::File::kConnections ? "connections" : "drops"] =
          Json{{"written", c.written}, {"suppressed", c.suppressed}, {"lost", c.lost}};
    }
    return j;
  }
  ~BenchLogs() {
    drain();
    if (t4) logs::install_end_hook(*t4, nullptr);
    if (t6) logs::install_end_hook(*t6, nullptr);
  }
};

struct Bench {
  const TrafficOptions& o;
  runtime::Snapshot* snap = nullptr;
  flow::FlowTable* flows = nullptr;    // family 4
  flow::FlowTable6* flows6 = nullptr;  // family 6
  dataplane::TxTarget tx;
  std::vector<runtime::PortCounters> port_counters;
  rte_mempool* pool = nullptr;
  uint32_t round = 0;
  // Packets through the pipeline (timed or not) and, of them, kDeny ones: the sanity
  // check's expectation (verify()).
  uint64_t sent = 0, denied = 0, deny_frames = 0, new_frames = 0;

  // Frames for one scenario: `kinds` decides each packet's role.
  std::vector<rte_mbuf*> mbufs;
  std::vector<Kind> kinds;

  void build_frames(const std::vector<Kind>& k) {
    for (auto* m : mbufs) rte_pktmbuf_free(m);
    mbufs.assign(k.size(), nullptr);
    kinds = k;
    deny_frames = static_cast<uint64_t>(std::count(k.begin(), k.end(), Kind::kDeny));
    new_frames = static_cast<uint64_t>(std::count(k.begin(), k.end(), Kind::kNew));
    if (rte_pktmbuf_alloc_bulk(pool, mbufs.data(), static_cast<unsigned>(mbufs.size())) != 0) {
      mbufs.clear();
      return;
    }
    for (size_t i = 0; i < k.size(); ++i) {
      unsigned vm = static_cast<unsigned>(i % o.vms);
      uint32_t c = static_cast<uint32_t>(i / o.vms);
      if (k[i] == Kind::kDeny)
        write_traffic_frame(mbufs[i], o.family, o.packet_size, vm, kTrafficDenyNet + (c & 0xff),
                            static_cast<uint16_t>(1024 + (c >> 8) % 60000), 53);
      else
        write_traffic_frame(mbufs[i], o.family, o.packet_size, vm, kTrafficAllowNet + (c & 0x1ffff),
                            static_cast<uint16_t>(1024 + (c >> 17)), 4789);
    }
  }

  // New connections for the next round: fresh source ports on every kNew packet; with
  // `scan`, fresh denied destinations (203.0.0.0/8, no rule's) on every kDeny packet.
  void renew(bool scan = false) {
    ++round;
    for (size_t i = 0; i < mbufs.size(); ++i) {
      if (scan && kinds[i] == Kind::kDeny) {
        renew_traffic_frame(mbufs[i], o.family, static_cast<uint16_t>(1024 + i % 60000),
                            0xcb000000u | static_cast<uint32_t>((i * 2654435761u + round * 40503u) & 0xffffff));
        continue;
      }
      if (kinds[i] != Kind::kNew) continue;
      renew_traffic_frame(mbufs[i], o.family, static_cast<uint16_t>(1024 + (round * 7919 + i) % 64000),
                          kTrafficAllowNet + 0x10000 + static_cast<uint32_t>((i + round * 104729) & 0xffff));
    }
  }

  // Untimed: an empty connection table of the scenario's family.
  void flush_connections() {
    if (o.family == 6) flows6->flush();
    else flows->flush();
  }

  // Connections created so far: every admitted new connection counts one rule hit.
  uint64_t connections_created() const {
    uint64_t n = 0;
    for (uint64_t h : snap->counters(0).rule_hits) n += runtime::read(h);
    return n;
  }

  // One pass over every frame; returns TSC cycles spent in the pipeline.
  uint64_t pass(dataplane::Pipeline& pl) {
    for (auto* m : mbufs) rte_mbuf_refcnt_set(m, 2);  // tx/drop releases one reference
    uint64_t t0 = rte_rdtsc();
    for (size_t i = 0; i < mbufs.size(); i += dataplane::kBurst) {
      uint16_t n = static_cast<uint16_t>(std::min<size_t>(dataplane::kBurst, mbufs.size() - i));
      // The next burst is received before this one is judged (a worker's receive-ahead,
      // rx_ahead.hpp); a NIC writes its mbuf headers just before rx returns (timed).
      for (size_t j = i + n; j < std::min(mbufs.size(), i + n + dataplane::kBurst); ++j) rte_prefetch0(mbufs[j]);
      auto next_n = static_cast<uint16_t>(std::min<size_t>(dataplane::kBurst, mbufs.size() - i - n));
      pl.process(*snap, 0, &mbufs[i], n, t0, &mbufs[i] + n, next_n);
      pl.flush();
    }
    uint64_t cycles = rte_rdtsc() - t0;
    sent += mbufs.size();
    denied += deny_frames;
    return cycles;
  }
};

Json row(const std::string& scenario, const TrafficOptions& o, unsigned connections, std::vector<double> cpp,
         uint64_t hz, double new_share) {
  std::sort(cpp.begin(), cpp.end());
  double med = cpp[cpp.size() / 2];
  Json r{{"scenario", scenario},           {"family", o.family},
         {"vms", o.vms},
         {"rules_per_vm", o.rules_per_vm}, {"connections", connections},
         {"packet_size", o.packet_size},   {"mpps", static_cast<double>(hz) / med / 1e6},
         {"cycles_per_packet", med},       {"cycles_min", cpp.front()},
         {"cycles_max", cpp.back()},       {"repeats", cpp.size()}};
  if (new_share > 0) r["connections_per_second"] = static_cast<double>(hz) / med * new_share;
  return r;
}

}  // namespace

core::Expected<Json> run_traffic_bench(const TrafficOptions& o) {
  if (o.family != 4 && o.family != 6) return core::make_error("--family must be 4 or 6");
  if (o.packet_size < min_traffic_frame(o.family) || o.packet_size > 1500)
    return core::make_error("--packet-size must be " + std::to_string(min_traffic_frame(o.family)) +
                            "..1500 for IPv" + std::to_string(o.family));
  if (o.vms == 0 || o.vms > 4096) return core::make_error("--vms must be 1..4096");
  if (o.rules_per_vm == 0) return core::make_error("--rules must be at least 1");
  for (const auto& sc : o.scenarios)
    if (std::find(kTrafficScenarios.begin(), kTrafficScenarios.end(), sc) == kTrafficScenarios.end())
      return core::make_error("unknown scenario '" + sc + "' (null, established, new, deny, deny-scan, mixed)");
  acl::ClassifyAlg alg = RTE_ACL_CLASSIFY_DEFAULT;
  if (o.classify != "default") {
    bool found = false;
    for (size_t a = 0; a < acl::kAlgorithmCount; ++a)
      if (o.classify == acl::kAlgorithms[a].name) alg = acl::kAlgorithms[a].alg, found = true;
    if (!found) return core::make_error("unknown --classify method '" + o.classify + "'");
  }
  std::vector<std::string> eal_args = eal::offline_args("sgfw-bench", o.memory_mb);
  if (o.hugepages) {
    eal_args.erase(std::remove(eal_args.begin(), eal_args.end(), "--no-huge"), eal_args.end());
    eal_args.push_back("--in-memory");
  }
  auto eal = eal::EalSession::init(eal_args);
  if (!eal) return core::make_error(eal.error().message);

  unsigned max_conn = std::max(o.connections, o.extra_1m ? 1000000u : 0u);
  config::DaemonConfig cfg;
  cfg.workers = 1;
  cfg.ports = {{"vms", "net_null0,no-rx=1", false}, {"uplink", "net_null1,no-rx=1", true}};
  // Frames: every connection's packet once (plus room for the rest), small data room.
  unsigned nbufs = max_conn + 8192 + 4096;
  rte_mempool* pool = rte_pktmbuf_pool_create("bench-frames", nbufs, 0, 0,
                                              static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + std::max(o.packet_size, 128u)),
                                              SOCKET_ID_ANY);
  auto port_pool = ports::create_mbuf_pool(2, 1);
  if (!pool || !port_pool) return core::make_error("cannot allocate mbufs (raise --memory-mb)");
  auto ports = ports::setup_ports(cfg, *port_pool);
  if (!ports) return core::make_error(ports.error().message);
  if (auto st = ports::start_ports(*ports); !st) return core::make_error(st.error().message);

  runtime::PortLayout layout{{"vms", "uplink"}, 1};
  auto snap = runtime::Snapshot::build(make_traffic_policy(o), layout, 1, 1, {});
  if (!snap) return core::make_error(snap.error().message);
  if (alg != RTE_ACL_CLASSIFY_DEFAULT) {
    // Contexts are shared with nobody here: switching their method is safe.
    if ((*snap)->set_classify_algorithm(alg) != 0)
      return core::make_error("classify method " + o.classify + " not supported on this CPU");
  }
  auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc("bench-rcu", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
  rte_rcu_qsbr_init(qs, 1);  // no reader online: grace periods end at once
  uint64_t hz = rte_get_tsc_hz();

  Json report;
  MachineInfo mi = machine_info();
  report["machine"] = Json{{"cpu", mi.cpu}, {"tsc_hz", hz}, {"hugepages", o.hugepages},
                           {"classify_cache", !o.no_classify_cache},
                           {"classify", alg == RTE_ACL_CLASSIFY_DEFAULT ? std::string("default") : o.classify}};
  report["rows"] = Json::array();

  struct Run {
    std::string scenario;
    unsigned connections;
  };
  std::vector<Run> runs;
  for (const auto& s : o.scenarios) runs.push_back({s, o.connections});
  if (o.extra_1m) runs.push_back({"established", 1000000});

  for (const auto& run : runs) {
    const std::string& sc = run.scenario;
    unsigned conns = run.connections;
    flow::FlowTableOptions fo;
    fo.capacity = conns + conns / 2 + 1024;  // `new` rounds flush the table: it never fills
    fo.per_vm_limit = fo.capacity;
    fo.per_vm_inbound_half_open = fo.capacity;
    fo.max_vm_ids = 2 * 4096;
    fo.timeouts = flow::make_timeouts(hz, 100000, 100000, 100000, 100000, 100000, 100000, 100000);
    // Both families' tables, as the daemon has them (the connection tables sharing one
    // VM quota); the frames are of one family, so the other family's tables stay empty.
    static unsigned table_no = 0;
    const std::string no = std::to_string(table_no++);
    auto quota = flow::VmQuota::create(fo.max_vm_ids, fo.per_vm_limit);
    auto table = flow::FlowTable::create(fo, "bench-flows-" + no, qs, quota);
    if (!table) return core::make_error(table.error().message);
    auto table6 = flow::FlowTable6::create(fo, "bench-flows6-" + no, qs, quota);
    if (!table6) return core::make_error(table6.error().message);
    flow::FlowTableOptions frag_opts;
    frag_opts.capacity = 1024;
    frag_opts.per_vm_limit = 1024;
    frag_opts.max_vm_ids = 1;
    frag_opts.timeouts = fo.timeouts;
    auto frag = flow::FlowTable::create(frag_opts, "bench-frags-" + no, qs);
    if (!frag) return core::make_error(frag.error().message);
    auto frag6 = flow::FlowTable6::create(frag_opts, "bench-frags6-" + no, qs);
    if (!frag6) return core::make_error(frag6.error().message);

    Bench b{o};
    b.snap = snap->get();
    b.flows = table->get();
    b.flows6 = table6->get();
    b.pool = pool;
    b.tx.nports = 2;
    b.tx.dpdk_port[0] = (*ports)[0].dpdk_port;
    b.tx.dpdk_port[1] = (*ports)[1].dpdk_port;
    b.port_counters.resize(2);
    dataplane::FlowContext fc;
    fc.table = table->get();
    fc.fragments = frag->get();
    fc.table6 = table6->get();
    fc.fragments6 = frag6->get();
    fc.forward_only = sc == "null";
    BenchLogs log_sink;
    if (o.logs) {
      if (auto st = log_sink.start("bench-logs-" + no, fc); !st) return core::make_error(st.error().message);
    }
    dataplane::Pipeline pl(0, b.tx, b.port_counters.data(), fc);
    if (o.no_classify_cache) pl.set_classify_caches(dataplane::ClassifyCaches::none());

    std::vector<Kind> kinds(conns, Kind::kEstablished);
    if (sc == "new") kinds.assign(conns, Kind::kNew);
    const bool scan = sc == "deny-scan";  // no key repeats: every pass gets fresh destinations
    if (sc == "deny" || scan) kinds.assign(std::min(conns, 65536u), Kind::kDeny);
    if (sc == "mixed") {
      std::mt19937 rng(1);
      for (auto& k : kinds) {
        unsigned r = rng() % 100;
        k = r < 90 ? Kind::kEstablished : r < 99 ? Kind::kNew : Kind::kDeny;
      }
    }
    b.build_frames(kinds);
    if (b.mbufs.empty()) return core::make_error("cannot allocate frames (raise --memory-mb)");
    double new_share = sc == "new" ? 1.0 : sc == "mixed" ? 0.09 : 0.0;

    std::vector<double> cpp;
    uint64_t created = 0, expect_created = 0;  // in the timed passes
    for (unsigned rep = 0; rep < o.repeats; ++rep) {
      uint64_t cycles = 0, packets = 0;
      for (unsigned ps = 0; ps < o.passes; ++ps) {
        if (sc == "new" || sc == "mixed" || scan || (ps == 0 && rep == 0)) {
          // Untimed: start from an empty table, then (re-)establish the live ones.
          b.flush_connections();
          b.renew(scan);
          if (sc != "new" && sc != "null" && !scan) {
            b.pass(pl);  // creates the established connections (and this round's new ones)
            b.renew();   // so the timed pass sees the "new" packets as new again
          }
        }
        log_sink.drain();  // untimed: the control thread's work
        const uint64_t created0 = b.connections_created();
        cycles += b.pass(pl);
        packets += b.mbufs.size();
        created += b.connections_created() - created0;
        expect_created += b.new_frames;
      }
      cpp.push_back(static_cast<double>(cycles) / static_cast<double>(packets));
    }
    // Sanity: the scenario did what it says (all forwarded / all dropped), else an error.
    uint64_t tx = runtime::read(b.port_counters[1].tx), drops = 0;
    for (size_t r = 0; r < core::kDropReasonCount; ++r) drops += runtime::read(b.port_counters[0].drops[r]);
    const uint64_t no_rule = runtime::read(b.port_counters[0].drops[static_cast<size_t>(core::DropReason::kNoRule)]);
    if (tx != b.sent - b.denied || drops != b.denied || no_rule != b.denied || created != expect_created)
      return core::make_error("IPv" + std::to_string(o.family) + " " + sc + ": of " + std::to_string(b.sent) +
                              " packets expected " + std::to_string(b.sent - b.denied) + " forwarded and " +
                              std::to_string(b.denied) + " dropped by no-rule, " + std::to_string(expect_created) +
                              " connections created while timed; got " + std::to_string(tx) + " forwarded, " +
                              std::to_string(drops) + " dropped (" + std::to_string(no_rule) + " no-rule), " +
                              std::to_string(created) + " created");
    Json rj = row(sc, o, conns, cpp, hz, new_share);
    rj["forwarded"] = tx;
    rj["dropped"] = drops;
    rj["connections_live"] = o.family == 6 ? b.flows6->size() : b.flows->size();
    const auto& cc = pl.classify_caches();  // stage 3's cache, every pass (timed or not)
    rj["classify_cache_hits"] = o.family == 6 ? cc.v6.hits() : cc.v4.hits();
    rj["classify_cache_misses"] = o.family == 6 ? cc.v6.misses() : cc.v4.misses();
    rj["classify_cache_bypassed"] = o.family == 6 ? cc.v6.bypassed() : cc.v4.bypassed();
    if (o.logs) rj["logs"] = log_sink.summary();
    report["rows"].push_back(std::move(rj));
    for (auto* m : b.mbufs) {
      rte_mbuf_refcnt_set(m, 1);
      rte_pktmbuf_free(m);
    }
    b.mbufs.clear();
  }
  ports::stop_ports(*ports);
  return report;
}

std::string traffic_table(const Json& r) {
  std::ostringstream s;
  s << "machine: " << r["machine"]["cpu"].get<std::string>() << ", TSC " << r["machine"]["tsc_hz"].get<uint64_t>() / 1000000
    << " MHz, hugepages " << (r["machine"]["hugepages"].get<bool>() ? "yes" : "no") << ", classify "
    << r["machine"]["classify"].get<std::string>() << "\n";
  char line[256];
  std::snprintf(line, sizeof(line), "%-12s %3s %5s %6s %8s %5s %8s %9s %9s %9s %12s\n", "scenario", "fam", "vms", "rules",
                "conns", "size", "Mpps", "cyc/pkt", "min", "max", "new conn/s");
  s << line;
  for (const auto& row : r["rows"]) {
    std::string cps = row.contains("connections_per_second")
                          ? std::to_string(static_cast<long>(row["connections_per_second"].get<double>()))
                          : "-";
    std::snprintf(line, sizeof(line), "%-12s %3u %5u %6u %8u %5u %8.2f %9.1f %9.1f %9.1f %12s\n",
                  row["scenario"].get<std::string>().c_str(), row["family"].get<unsigned>(), row["vms"].get<unsigned>(),
                  row["rules_per_vm"].get<unsigned>(), row["connections"].get<unsigned>(),
                  row["packet_size"].get<unsigned>(), row["mpps"].get<double>(), row["cycles_per_packet"].get<double>(),
                  row["cycles_min"].get<double>(), row["cycles_max"].get<double>(), cps.c_str());
    s << line;
  }
  return s.str();
}

}  // namespace sgfw::bench
