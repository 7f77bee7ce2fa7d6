#include "dataplane/worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <vector>

#include "dataplane/rx_ahead.hpp"

namespace sgfw::dataplane {

int worker_main(void* arg) {
  auto* w = static_cast<WorkerSetup*>(arg);
  Pipeline pipeline(w->index, w->tx, w->port_counters, w->flows);
  // One receive-ahead buffer per (port, queue) (rx_ahead.hpp), allocated before the loop.
  std::vector<RxAhead<kBurst>> ahead(w->rx.size());
  uint32_t empty_polls = 0;
  w->publisher->online(w->index);
  while (!w->stop->load(std::memory_order_relaxed)) {
    uint64_t start = rte_rdtsc();
    uint64_t got = 0;
    bool judged = false;  // a held burst judged by a poll that received nothing is work too
    runtime::Snapshot* snap = w->publisher->acquire();
    if (w->taps != nullptr)
      pipeline.arm(w->taps->capture.load(std::memory_order_acquire), w->taps->trace.load(std::memory_order_acquire));
    for (size_t r = 0; r < w->rx.size(); ++r) {
      const uint16_t port = w->rx[r].first, dpdk_port = w->tx.dpdk_port[port], queue = w->rx[r].second;
      const Polled did = ahead[r].poll(
          [&](rte_mbuf** bufs, uint16_t max) { return rte_eth_rx_burst(dpdk_port, queue, bufs, max); },
          [&](rte_mbuf** pkts, uint16_t n, rte_mbuf* const* next, uint16_t next_n) {
            pipeline.process(*snap, port, pkts, n, start, next, next_n);
          });
      got += did.received;
      judged |= did.judged != 0;
    }
    pipeline.flush();
    w->publisher->quiescent(w->index);
    runtime::bump(w->stats->loops);
    if (got != 0 || judged) {
      runtime::bump(w->stats->packets, got);
      runtime::bump(w->stats->busy_cycles, rte_rdtsc() - start);
      const ClassifyCaches& cc = pipeline.classify_caches();
      runtime::set(w->stats->classify_cache_hits, cc.v4.hits() + cc.v6.hits());
      runtime::set(w->stats->classify_cache_misses, cc.v4.misses() + cc.v6.misses());
      runtime::set(w->stats->classify_cache_bypassed, cc.v4.bypassed() + cc.v6.bypassed());
      empty_polls = 0;
    } else if (w->idle_sleep_us != 0 && ++empty_polls >= kEmptyPollsBeforeSleep) {
      // Quiescent above, so a sleeping worker holds no snapshot: a policy swap waits
      // at most one sleep for it.
      rte_delay_us_sleep(w->idle_sleep_us);
    }
  }
  // The bursts still held are judged and sent before the worker leaves.
  runtime::Snapshot* snap = w->publisher->acquire();
  for (size_t r = 0; r < w->rx.size(); ++r)
    ahead[r].drain([&](rte_mbuf** pkts, uint16_t n, rte_mbuf* const* next, uint16_t next_n) {
      pipeline.process(*snap, w->rx[r].first, pkts, n, rte_rdtsc(), next, next_n);
    });
  pipeline.flush();
  w->publisher->quiescent(w->index);
  w->publisher->offline(w->index);
  return 0;
}

}  // namespace sgfw::dataplane
