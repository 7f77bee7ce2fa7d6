// Publishes policy snapshots to the workers with RCU (DPDK rte_rcu_qsbr):
//  1. the control thread builds a complete snapshot off to the side;
//  2. publish() stores its pointer with one release store (workers load it with
//     acquire once per burst, so they see either the old or the new snapshot, whole);
//  3. publish() then starts a grace period and waits until every online worker has
//     reported a quiescent state after the store (workers report at the end of each
//     loop iteration, when they hold no snapshot pointer); it spins for microseconds,
//     then sleeps between checks, so that it never holds off a worker sharing its CPU;
//  4. only then is the old snapshot handed back to the caller to read its final
//     counters and free it. No worker can still hold it. (docs/design/update-protocol.md)
// Thread-safety: acquire()/quiescent()/online()/offline() from worker `w` only;
// publish()/current() from the single control thread.
#pragma once

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <memory>

#include "core/expected.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::runtime {

class Publisher {
 public:
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;
  ~Publisher();

  // `first` is published at once (before any worker runs). Error: rte_rcu setup.
  [[nodiscard]] static core::Expected<std::unique_ptr<Publisher>> create(unsigned workers,
                                                                        std::unique_ptr<Snapshot> first);

  // --- worker side (data path) ---
  void online(unsigned w) { rte_rcu_qsbr_thread_online(qs_, w); }
  void offline(unsigned w) { rte_rcu_qsbr_thread_offline(qs_, w); }
  [[nodiscard]] Snapshot* acquire() const { return current_.load(std::memory_order_acquire); }
  void quiescent(unsigned w) { rte_rcu_qsbr_quiescent(qs_, w); }

  // --- control side ---
  [[nodiscard]] Snapshot* current() const { return current_.load(std::memory_order_acquire); }
  // The workers' RCU variable (the connection table recycles positions with it).
  [[nodiscard]] rte_rcu_qsbr* rcu() const { return qs_; }
  // Swaps `next` in, waits for the grace period, returns the previous snapshot, which no
  // worker references any more.
  [[nodiscard]] std::unique_ptr<Snapshot> publish(std::unique_ptr<Snapshot> next);

 private:
  Publisher() = default;
  void wait_for_workers(uint64_t token) const;  // the grace period of `token`
  rte_rcu_qsbr* qs_ = nullptr;
  std::atomic<Snapshot*> current_{nullptr};
  std::unique_ptr<Snapshot> owned_;  // the published snapshot
};

}  // namespace sgfw::runtime
