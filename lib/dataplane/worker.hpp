// The poll-mode loop of one worker lcore: for each (port, rx queue) it owns, rx burst
// -> Pipeline::process -> tx flush (a full burst is judged at that queue's next poll,
// with the burst received then passed along: rx_ahead.hpp; a stopping worker judges
// what it holds), reading the current snapshot once per loop and
// reporting an RCU quiescent state at the end of every loop (it then holds no snapshot
// and no capture or trace tap).
// Thread-safety: one Worker per lcore; `current` and `stop` are shared atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "capture/taps.hpp"
#include "dataplane/pipeline.hpp"
#include "runtime/publisher.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::dataplane {

struct alignas(64) WorkerStats {
  uint64_t packets = 0;      // received
  uint64_t busy_cycles = 0;  // TSC cycles of loop iterations that received or judged packets
  uint64_t loops = 0;
  // The classification caches of both families (classify_cache.hpp), copied after each
  // loop that received or judged packets: checks answered, looked up and not found, bypassed.
  uint64_t classify_cache_hits = 0;
  uint64_t classify_cache_misses = 0;
  uint64_t classify_cache_bypassed = 0;
};

struct WorkerSetup {
  unsigned index = 0;
  std::vector<std::pair<uint16_t, uint16_t>> rx;  // (sgfw port, rx queue)
  TxTarget tx;
  runtime::PortCounters* port_counters = nullptr;  // [nports] for this worker
  WorkerStats* stats = nullptr;
  runtime::Publisher* publisher = nullptr;
  FlowContext flows;
  const std::atomic<bool>* stop = nullptr;
  // Capture and trace (docs/capture.md): loaded once per loop; nullptr: never armed.
  capture::Taps* taps = nullptr;
  // > 0: after kEmptyPollsBeforeSleep polls that found nothing, sleep this long before
  // each next poll until a packet comes (docs/configuration.md, `worker_idle_sleep_us`).
  uint32_t idle_sleep_us = 0;
};

inline constexpr uint32_t kEmptyPollsBeforeSleep = 1024;

// rte_eal_remote_launch entry point; arg is a WorkerSetup*.
int worker_main(void* arg);

}  // namespace sgfw::dataplane
