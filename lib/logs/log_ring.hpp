// The hand-off from the workers to the log writer (docs/logs.md, "Hand-off"): one
// multi-producer / single-consumer rte_ring of fixed-size Records. push() never blocks
// and never allocates: a full ring drops the record and counts it per file. The control
// thread (the single consumer) may also push (expiry, flush); when it finds the ring
// full it drains it first (set_consumer), so its own records are not lost.
// Thread-safety: push() from any thread; pop_burst() and set_consumer() on the
// consumer thread only; lost() from any thread.
#pragma once

#include <pthread.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>
#include <memory>
#include <string>

#include "core/expected.hpp"
#include "core/unique_handle.hpp"
#include "logs/record.hpp"

namespace sgfw::logs {

class LogRing {
 public:
  LogRing(const LogRing&) = delete;
  LogRing& operator=(const LogRing&) = delete;
  ~LogRing() = default;

  // Control path. `size`: records, a power of two (rte_ring). Error: rte_ring could
  // not be created (a name in use, no memory, a size that is not a power of two).
  [[nodiscard]] static core::Expected<std::unique_ptr<LogRing>> create(const std::string& name, unsigned size);

  // Data path: hands `r` over, or counts it lost (ring full). True if handed over.
  bool push(const Record& r) {
    if (rte_ring_mp_enqueue_elem(ring_.get(), const_cast<Record*>(&r), sizeof(Record)) == 0) return true;
    if (drain_ && pthread_equal(pthread_self(), consumer_)) {
      drain_(drain_ctx_);
      if (rte_ring_mp_enqueue_elem(ring_.get(), const_cast<Record*>(&r), sizeof(Record)) == 0) return true;
    }
    lost_[static_cast<size_t>(file_of(r.kind))].fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // Consumer: up to n records into out; returns how many.
  unsigned pop_burst(Record* out, unsigned n) {
    return rte_ring_sc_dequeue_burst_elem(ring_.get(), out, sizeof(Record), n, nullptr);
  }
  // Consumer: the calling thread is the consumer; `drain(ctx)` empties the ring.
  void set_consumer(void (*drain)(void*), void* ctx) {
    consumer_ = pthread_self();
    drain_ctx_ = ctx;
    drain_ = drain;
  }
  [[nodiscard]] uint64_t lost(File f) const { return lost_[static_cast<size_t>(f)].load(std::memory_order_relaxed); }
  [[nodiscard]] unsigned count() const { return rte_ring_count(ring_.get()); }

 private:
  LogRing() = default;
  core::UniqueHandle<rte_ring, rte_ring_free> ring_;
  void (*drain_)(void*) = nullptr;
  void* drain_ctx_ = nullptr;
  pthread_t consumer_{};
  std::atomic<uint64_t> lost_[kFileCount] = {};
};

}  // namespace sgfw::logs
