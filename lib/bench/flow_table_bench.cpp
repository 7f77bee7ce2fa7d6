#include "bench/flow_table_bench.hpp"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "eal/eal_session.hpp"
#include "flow/flow_table.hpp"

namespace sgfw::bench {

namespace {

flow::FlowKey key_of(uint32_t i) {
  return flow::make_flow_key(17, rte_cpu_to_be_32(0x0a000000u + (i & 0xffff)), rte_cpu_to_be_16(1024),
                             rte_cpu_to_be_32(0xc6120000u + (i >> 16)), rte_cpu_to_be_16(53));
}

// Inserts keys [from, to) with stride; returns elapsed TSC cycles.
uint64_t insert_range(flow::FlowTable& t, uint32_t from, uint32_t to, uint32_t stride) {
  uint64_t t0 = rte_rdtsc();
  for (uint32_t i = from; i < to; i += stride) {
    int32_t pos;
    flow::NewConnection c;
    c.key = key_of(i);
    c.state = flow::ConnState::kUdpOneWay;
    c.orig_vm = 0;
    c.generation = 1;
    c.egress_rule = 1;
    (void)t.insert(c, t0, &pos);
  }
  return rte_rdtsc() - t0;
}

}  // namespace

core::Expected<nlohmann::ordered_json> run_flow_table_bench(const FlowTableBenchOptions& o) {
  auto args = eal::offline_args("sgfw-bench-ft", 4096);
  auto eal = eal::EalSession::init(args);
  if (!eal) return core::make_error(eal.error().message);
  uint64_t hz = rte_get_tsc_hz();
  auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc("ft-rcu", rte_rcu_qsbr_get_memsize(2), RTE_CACHE_LINE_SIZE));
  rte_rcu_qsbr_init(qs, 2);
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (unsigned writers : {1u, 2u}) {
    std::vector<double> rates;
    for (unsigned rep = 0; rep < o.repeats; ++rep) {
      flow::FlowTableOptions fo;
      fo.capacity = o.connections;
      fo.per_vm_limit = o.connections;
      fo.max_vm_ids = 1;
      fo.timeouts = flow::make_timeouts(hz, 1000, 1000, 1000, 1000, 1000, 1000, 1000);
      auto t = flow::FlowTable::create(fo, "ftb-" + std::to_string(writers) + "-" + std::to_string(rep), qs);
      if (!t) return core::make_error(t.error().message);
      uint64_t start = rte_rdtsc();
      if (writers == 1) {
        insert_range(**t, 0, o.connections, 1);
      } else {
        // Writers need an lcore id for rte_hash's per-lcore free-slot cache.
        std::vector<std::thread> th;
        for (unsigned w = 0; w < writers; ++w)
          th.emplace_back([&, w]() {
            rte_thread_register();
            insert_range(**t, w, o.connections, writers);
            rte_thread_unregister();
          });
        for (auto& x : th) x.join();
      }
      double secs = static_cast<double>(rte_rdtsc() - start) / static_cast<double>(hz);
      if ((*t)->size() != o.connections) return core::make_error("flow-table bench: inserts lost");
      rates.push_back(static_cast<double>(o.connections) / secs);
    }
    std::sort(rates.begin(), rates.end());
    rows.push_back({{"writers", writers}, {"connections", o.connections},
                    {"inserts_per_second", rates[rates.size() / 2]}, {"min", rates.front()},
                    {"max", rates.back()}, {"repeats", rates.size()}});
  }
  rte_free(qs);
  return nlohmann::ordered_json{{"cpus", std::thread::hardware_concurrency()}, {"rows", rows}};
}

}  // namespace sgfw::bench
