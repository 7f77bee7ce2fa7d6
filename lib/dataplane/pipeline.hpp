// The run-to-completion packet pipeline of one worker: parse -> anti-spoofing and
// forwarding (semantics.md §5) -> rule checks through the per-VM rte_acl contexts,
// grouped per context (§3) -> tx. Data path: no allocation, no locks, no exceptions,
// no logging; every drop increments exactly one reason counter (§6).
// Thread-safety: one Pipeline per worker lcore; the Snapshot is shared read-only
// (only this worker's counter block is written).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "config/daemon_config.hpp"
#include "core/drop_reason.hpp"
#include "flow/flow_table.hpp"
#include "runtime/counters.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::dataplane {

inline constexpr uint16_t kBurst = 32;
inline constexpr uint16_t kTxBuffer = 64;

// Where a pipeline sends packets: DPDK port ids and the tx queue this worker owns.
struct TxTarget {
  uint16_t nports = 0;
  uint16_t dpdk_port[config::kMaxPorts] = {};
  uint16_t txq = 0;
};

// Connection tracking shared by all workers (semantics.md §4).
struct FlowContext {
  flow::FlowTable* table = nullptr;      // required: connections
  flow::FlowTable* fragments = nullptr;  // required: allowed first fragments (15 s)
  bool keep_established = false;
  bool tcp_loose = false;
  // Benchmark floor only (sgfw-bench `null`): parse, anti-spoofing and forwarding, but
  // no connection tracking and no rule checks. Never set by the daemon.
  bool forward_only = false;
};

class Pipeline {
 public:
  Pipeline(unsigned worker, const TxTarget& tx, runtime::PortCounters* port_counters, const FlowContext& flows)
      : worker_(worker), tx_(tx), port_counters_(port_counters), flows_(flows) {}

  // Judges and forwards (or frees) n <= kBurst packets received on sgfw port `in_port`
  // at TSC time `now`. Packets may stay buffered for tx until flush().
  void process(runtime::Snapshot& snap, uint16_t in_port, rte_mbuf** pkts, uint16_t n, uint64_t now);

  // Transmits every buffered packet; what a port refuses is dropped as tx-failed.
  void flush();

 private:
  void drop(rte_mbuf* m, uint16_t in_port, core::DropReason r, runtime::PolicyCounters* pc, uint32_t vm);
  void send(rte_mbuf* m, uint16_t out_port);
  void flush_port(uint16_t port);

  unsigned worker_;
  TxTarget tx_;
  runtime::PortCounters* port_counters_;  // [nports], this worker's
  FlowContext flows_;
  rte_mbuf* tx_buf_[config::kMaxPorts][kTxBuffer];
  uint16_t tx_len_[config::kMaxPorts] = {};
};

}  // namespace sgfw::dataplane
