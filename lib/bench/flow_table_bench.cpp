#include "bench/flow_table_bench.hpp"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "eal/eal_session.hpp"
#include "flow/flow_table.hpp"

namespace sgfw::bench {

namespace {

// Connection i: 10.0.x.y:1024 -> 198.18.x.y:53 (IPv6: the same in 2001:db8::/96).
void key_of(uint32_t i, flow::FlowKey* k) {
  *k = flow::make_flow_key(17, rte_cpu_to_be_32(0x0a000000u + (i & 0xffff)), rte_cpu_to_be_16(1024),
                           rte_cpu_to_be_32(0xc6120000u + (i >> 16)), rte_cpu_to_be_16(53));
}
void key_of(uint32_t i, flow::FlowKey6* k) {
  flow::Addr6 src{0x20, 0x01, 0x0d, 0xb8}, dst{0x20, 0x01, 0x0d, 0xb8};
  uint32_t s = rte_cpu_to_be_32(0x0a000000u + (i & 0xffff)), d = rte_cpu_to_be_32(0xc6120000u + (i >> 16));
  std::memcpy(&src[12], &s, 4);
  std::memcpy(&dst[12], &d, 4);
  *k = flow::make_flow_key6(17, src.data(), rte_cpu_to_be_16(1024), dst.data(), rte_cpu_to_be_16(53));
}

// Inserts keys [from, to) with stride as a worker does, a burst of 32 at a time
// (insert_begin, then insert_finish for each, then link_half_open); returns elapsed
// TSC cycles.
template <class Table>
uint64_t insert_range(Table& t, uint32_t from, uint32_t to, uint32_t stride) {
  constexpr uint32_t kBurst = 32;
  typename Table::PendingInsert burst[kBurst];
  typename Table::PendingInsert* ptrs[kBurst];
  flow::LinkLater later;
  uint64_t t0 = rte_rdtsc();
  uint32_t i = from;
  while (i < to) {
    uint32_t n = 0;
    for (; n < kBurst && i < to; ++n, i += stride) {
      typename Table::NewConnection& c = burst[n].c;
      key_of(i, &c.key);
      c.state = flow::ConnState::kUdpOneWay;
      c.orig_vm = 0;
      c.generation = 1;
      c.egress_rule = 1;
      ptrs[n] = &burst[n];
    }
    t.insert_begin(ptrs, n, t0);
    for (uint32_t k = 0; k < n; ++k)
      if (burst[k].result == flow::InsertResult::kInserted) t.insert_finish(burst[k], t0, later);
    t.link_half_open(later);
  }
  return rte_rdtsc() - t0;
}

// Looks every key [0, n) up in bursts of 32 (rte_hash_lookup_bulk, as the workers do),
// `rounds` times; returns lookups per second. Every key must be found.
template <class Table>
core::Expected<double> lookup_rate(const Table& t, uint32_t n, unsigned rounds, uint64_t hz) {
  using Key = typename Table::key_type;
  std::vector<Key> keys(n);
  for (uint32_t i = 0; i < n; ++i) key_of(i, &keys[i]);
  constexpr uint32_t kBurst = 32;
  const Key* ptrs[kBurst];
  int32_t pos[kBurst];
  uint64_t found = 0;
  uint64_t t0 = rte_rdtsc();
  for (unsigned r = 0; r < rounds; ++r)
    for (uint32_t i = 0; i < n; i += kBurst) {
      uint32_t m = std::min(kBurst, n - i);
      for (uint32_t j = 0; j < m; ++j) ptrs[j] = &keys[i + j];
      t.lookup_bulk(ptrs, m, pos);
      for (uint32_t j = 0; j < m; ++j) found += pos[j] >= 0;
    }
  double secs = static_cast<double>(rte_rdtsc() - t0) / static_cast<double>(hz);
  if (found != uint64_t{n} * rounds) return core::make_error("flow-table bench: lookups missed");
  return static_cast<double>(found) / secs;
}

template <class Table>
core::Expected<nlohmann::ordered_json> run_family(const FlowTableBenchOptions& o, rte_rcu_qsbr* qs, uint64_t hz) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::vector<double> lookups;
  for (unsigned writers : {1u, 2u}) {
    std::vector<double> rates;
    for (unsigned rep = 0; rep < o.repeats; ++rep) {
      flow::FlowTableOptions fo;
      fo.capacity = o.connections;
      fo.per_vm_limit = o.connections;
      fo.max_vm_ids = 1;
      fo.timeouts = flow::make_timeouts(hz, 1000, 1000, 1000, 1000, 1000, 1000, 1000);
      auto t = Table::create(fo, "ftb-" + std::to_string(writers) + "-" + std::to_string(rep), qs);
      if (!t) return core::make_error(t.error().message);
      uint64_t start = rte_rdtsc();
      if (writers == 1) {
        insert_range(**t, 0, o.connections, 1);
      } else {
        std::vector<std::thread> th;
        for (unsigned w = 0; w < writers; ++w)
          th.emplace_back([&, w]() { insert_range(**t, w, o.connections, writers); });
        for (auto& x : th) x.join();
      }
      double secs = static_cast<double>(rte_rdtsc() - start) / static_cast<double>(hz);
      if ((*t)->size() != o.connections) return core::make_error("flow-table bench: inserts lost");
      rates.push_back(static_cast<double>(o.connections) / secs);
      if (writers == 1) {
        auto l = lookup_rate(**t, o.connections, 3, hz);
        if (!l) return core::make_error(l.error().message);
        lookups.push_back(*l);
      }
    }
    std::sort(rates.begin(), rates.end());
    rows.push_back({{"writers", writers}, {"connections", o.connections},
                    {"inserts_per_second", rates[rates.size() / 2]}, {"min", rates.front()},
                    {"max", rates.back()}, {"repeats", rates.size()}});
  }
  std::sort(lookups.begin(), lookups.end());
  return nlohmann::ordered_json{
      {"family", o.family},
      {"entry_bytes", sizeof(typename Table::FlowEntry)},
      {"cpus", std::thread::hardware_concurrency()},
      {"rows", rows},
      {"lookups", {{"connections", o.connections}, {"burst", 32}, {"lookups_per_second", lookups[lookups.size() / 2]},
                   {"min", lookups.front()}, {"max", lookups.back()}, {"repeats", lookups.size()}}}};
}

}  // namespace

core::Expected<nlohmann::ordered_json> run_flow_table_bench(const FlowTableBenchOptions& o) {
  if (o.family != 4 && o.family != 6) return core::make_error("flow-table bench: --family is 4 or 6");
  if (o.repeats == 0) return core::make_error("flow-table bench: --repeats must be at least 1");
  auto args = eal::offline_args("sgfw-bench-ft", 4096);
  auto eal = eal::EalSession::init(args);
  if (!eal) return core::make_error(eal.error().message);
  uint64_t hz = rte_get_tsc_hz();
  auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc("ft-rcu", rte_rcu_qsbr_get_memsize(2), RTE_CACHE_LINE_SIZE));
  if (!qs) return core::make_error("flow-table bench: rte_zmalloc failed");
  rte_rcu_qsbr_init(qs, 2);
  auto r = o.family == 6 ? run_family<flow::FlowTable6>(o, qs, hz) : run_family<flow::FlowTable>(o, qs, hz);
  rte_free(qs);
  return r;
}

}  // namespace sgfw::bench
