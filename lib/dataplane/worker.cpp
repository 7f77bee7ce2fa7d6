#include "dataplane/worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>

namespace sgfw::dataplane {

int worker_main(void* arg) {
  auto* w = static_cast<WorkerSetup*>(arg);
  Pipeline pipeline(w->index, w->tx, w->port_counters, w->flows);
  rte_mbuf* pkts[kBurst];
  uint32_t empty_polls = 0;
  w->publisher->online(w->index);
  while (!w->stop->load(std::memory_order_relaxed)) {
    uint64_t start = rte_rdtsc();
    uint64_t got = 0;
    runtime::Snapshot* snap = w->publisher->acquire();
    if (w->taps != nullptr)
      pipeline.arm(w->taps->capture.load(std::memory_order_acquire), w->taps->trace.load(std::memory_order_acquire));
    for (auto [port, queue] : w->rx) {
      uint16_t n = rte_eth_rx_burst(w->tx.dpdk_port[port], queue, pkts, kBurst);
      if (n == 0) continue;
      got += n;
      pipeline.process(*snap, port, pkts, n, start);
    }
    pipeline.flush();
    w->publisher->quiescent(w->index);
    runtime::bump(w->stats->loops);
    if (got) {
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
  pipeline.flush();
  w->publisher->offline(w->index);
  return 0;
}

}  // namespace sgfw::dataplane
