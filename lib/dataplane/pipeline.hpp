// The run-to-completion packet pipeline of one worker (docs/design/packet-path.md), in
// stages over one burst:
//  1. admit: parse, anti-spoofing, ARP, forwarding target (survivors become Pending);
//  2. connections: bulk connection lookups; related ICMP errors; echo state;
//  3. rule checks: new, stateless and revalidated packets, grouped per rte_acl context;
//  4. verdicts in packet order: connections created, advanced or revoked, fragment
//     trains followed, packets buffered for tx.
// Data path: no allocation, no locks but the connection table's (connection creation
// and answer only), no exceptions, no logging; every drop increments exactly one
// reason counter.
// Thread-safety: one Pipeline per worker lcore; the Snapshot is shared read-only
// (only this worker's counter block is written).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "core/drop_reason.hpp"
#include "flow/flow_table.hpp"
#include "packet/parsed_packet.hpp"
#include "runtime/counters.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::dataplane {

inline constexpr uint16_t kBurst = 32;
inline constexpr uint16_t kTxBuffer = 64;
inline constexpr uint16_t kMaxTxPorts = 32;  // Debian's DPDK: RTE_MAX_ETHPORTS

// Where a pipeline sends packets: DPDK port ids and the tx queue this worker owns.
struct TxTarget {
  uint16_t nports = 0;
  uint16_t dpdk_port[kMaxTxPorts] = {};
  uint16_t txq = 0;
};

// Connection tracking shared by all workers.
struct FlowContext {
  flow::FlowTable* table = nullptr;      // required: connections
  flow::FlowTable* fragments = nullptr;  // required: allowed first fragments (15 s)
  // The IPv6 twins (docs/design/flow-table.md). Both or neither: without them every
  // IPv6 frame is dropped as unsupported-ethertype (the daemon always sets them).
  flow::FlowTable6* table6 = nullptr;
  flow::FlowTable6* fragments6 = nullptr;
  bool keep_established = false;
  bool tcp_loose = false;
  // Benchmark floor only (sgfw-bench `null`): parse, anti-spoofing and forwarding, but
  // no connection tracking and no rule checks. Never set by the daemon.
  bool forward_only = false;
};

struct Pending;  // one packet between the stages (burst.hpp)

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
  struct Burst;   // burst.hpp
  struct Parsed;  // burst.hpp
  // Stage 1 (stage_admit.cpp): parse, anti-spoofing, ARP, forwarding target.
  void admit(Burst& b, runtime::Snapshot& snap, uint16_t in_port, rte_mbuf** pkts, uint16_t n, uint64_t now);
  void parse_burst(Parsed& out, runtime::Snapshot& snap, uint16_t in_port, rte_mbuf** pkts, uint16_t n);
  void admit_one(Burst& b, runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i, uint64_t now);
  void forward_arp(runtime::Snapshot& snap, uint16_t in_port, rte_mbuf* m, uint32_t src_vm, uint64_t src_mac,
                   const packet::ParsedPacket& p);
  // Link services (stage_link_services.cpp): DHCP client and server messages.
  bool admit_dhcp(runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i);
  void classify_icmp(Pending& q, const packet::ParsedPacket& p, bool from_uplink, uint64_t now);
  // Stage 2 (stage_connections.cpp): bulk connection lookups.
  void lookup_connections(Burst& b, runtime::Snapshot& snap, uint16_t in_port, uint64_t now);
  // Stage 3 (stage_classify.cpp): rule checks grouped per rte_acl context.
  void classify(Burst& b, runtime::Snapshot& snap);
  // Stage 4 (stage_verdicts.cpp): verdicts in packet order.
  void verdicts(Burst& b, runtime::Snapshot& snap, uint16_t in_port, uint64_t now);
  bool follow_fragment(Pending& q, runtime::Snapshot& snap, uint16_t in_port, uint64_t now);
  bool related_still_valid(Pending& q, runtime::Snapshot& snap, uint16_t in_port);
  bool create_connection(Pending& q, runtime::Snapshot& snap, uint16_t in_port, uint64_t now);
  void advance_connection(Pending& q, uint64_t now);
  void remember_train(const Pending& q, runtime::Snapshot& snap, uint64_t now);
  // Transmit and counting (pipeline.cpp).
  void drop(rte_mbuf* m, uint16_t in_port, core::DropReason r, runtime::PolicyCounters* pc, uint32_t vm);
  void pass(const Pending& q, runtime::PolicyCounters* pc);
  void send(rte_mbuf* m, uint16_t out_port);
  void flush_port(uint16_t port);

  unsigned worker_;
  TxTarget tx_;
  runtime::PortCounters* port_counters_;  // [nports], this worker's
  FlowContext flows_;
  rte_mbuf* tx_buf_[kMaxTxPorts][kTxBuffer];
  uint16_t tx_len_[kMaxTxPorts] = {};
};

}  // namespace sgfw::dataplane
