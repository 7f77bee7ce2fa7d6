// The run-to-completion packet pipeline of one worker (docs/design/packet-path.md), in
// stages over one burst:
//  0. express: parse; established packets pass after one connection lookup;
//  1. admit: anti-spoofing, ARP, forwarding target (survivors become Pending);
//  2. connections: bulk connection lookups; related ICMP errors; echo state;
//  3. rule checks: new, stateless and revalidated packets, grouped per rte_acl context;
//  4. verdicts in packet order: connections created, advanced or revoked, fragment
//     trains followed, packets buffered for tx.
// IPv6 frames take the same stages 2-4 (family.hpp) after their own stage 1 (neighbour
// discovery, RA guard, DHCPv6, link-local), in a second pass over the burst.
// Data path: no allocation, no locks but the connection table's (connection creation
// and answer only), no exceptions, no logging; every drop increments exactly one
// reason counter.
// Capture and trace (docs/capture.md, observe.cpp): armed per loop with arm(); when
// neither is armed a burst costs a few predictable branches and drop() one.
// Thread-safety: one Pipeline per worker lcore; the Snapshot is shared read-only
// (only this worker's counter block is written).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "acl/address_table.hpp"
#include "capture/taps.hpp"
#include "core/drop_reason.hpp"
#include "dataplane/classify_cache.hpp"
#include "flow/flow_table.hpp"
#include "logs/log_ring.hpp"
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
  bool keep_established = false;
  bool tcp_loose = false;
  // Benchmark floor only (sgfw-bench `null`): parse, anti-spoofing and forwarding, but
  // no connection tracking and no rule checks. Never set by the daemon.
  bool forward_only = false;
  // The IPv6 twins (docs/design/flow-table.md), required as well.
  flow::FlowTable6* table6 = nullptr;
  flow::FlowTable6* fragments6 = nullptr;
  // Connection and drop logs (docs/logs.md): admit and drop records go to `log` (null:
  // logs off, the packet path pays one test per new connection); end records come
  // from the tables' end hooks (logs/end_records.hpp).
  logs::LogRing* log = nullptr;
  bool log_connections = false;  // admit records (the connections file is configured)
  bool log_drops = false;        // drop records (the drops file is configured)
};

// burst.hpp and family.hpp: the burst context, per address family.
struct Ipv4Family;
struct Ipv6Family;
template <class F>
struct PendingOf;  // one packet between the stages
template <class F>
struct BurstOf;    // the packets of one family of one burst
struct Parsed;     // stage 1's parse results

class Pipeline {
 public:
  Pipeline(unsigned worker, const TxTarget& tx, runtime::PortCounters* port_counters, const FlowContext& flows)
      : worker_(worker), tx_(tx), port_counters_(port_counters), flows_(flows) {}

  // Judges and forwards (or frees) n <= kBurst packets received on sgfw port `in_port`
  // at TSC time `now`. Packets may stay buffered for tx until flush(). next/next_n:
  // the packets the caller has received and will pass next (rx_ahead.hpp), or none;
  // their frames' first lines are prefetched before this burst is parsed.
  void process(runtime::Snapshot& snap, uint16_t in_port, rte_mbuf** pkts, uint16_t n, uint64_t now,
               rte_mbuf* const* next = nullptr, uint16_t next_n = 0);

  // Transmits every buffered packet; what a port refuses is dropped as tx-failed.
  void flush();

  // The capture and trace taps for the next bursts (nullptr: none), read by the worker
  // once per loop from capture::Taps. The taps outlive the bursts that use them (RCU).
  // The classification caches' hits and misses (tests, benchmarks).
  [[nodiscard]] const ClassifyCaches& classify_caches() const { return caches_; }
  // Other caches from now on (benchmarks, tests: ClassifyCaches::none(), exhaustive()).
  // Control path, between bursts.
  void set_classify_caches(ClassifyCaches caches) { caches_ = std::move(caches); }
  void arm(capture::CaptureTap* cap, capture::TraceTap* trace) {
    cap_ = cap;
    trace_ = trace;
  }

 private:
  using Burst = BurstOf<Ipv4Family>;
  using Burst6 = BurstOf<Ipv6Family>;
  // Stage 1 (stage_admit.cpp): parse; then the express stage (stage_express.cpp)
  // passes established packets after one connection lookup, per family; the MAC and address
  // lookups of the rest; anti-spoofing, ARP, forwarding target.
  void parse_burst(Parsed& out, rte_mbuf** pkts, uint16_t n, uint16_t in_port);
  template <class F>
  void express(Parsed& ps, runtime::Snapshot& snap, uint16_t in_port, uint64_t now);
  void lookup_links(Parsed& out, runtime::Snapshot& snap, uint16_t in_port);
  // Stage 1 for the IPv4 frames of the burst (in one function with admit_one and
  // admit_ip: a call per frame cost `null` a few cycles).
  void admit_burst(Burst& b, runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint64_t now);
  void admit_one(Burst& b, runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i, uint64_t now);
  void forward_arp(runtime::Snapshot& snap, uint16_t in_port, rte_mbuf* m, uint32_t src_vm, uint64_t src_mac,
                   const packet::ParsedPacket& p);
  void classify_icmp(PendingOf<Ipv4Family>& q, const packet::ParsedPacket& p, bool from_uplink, uint64_t now);
  // Link services (stage_link_services.cpp): DHCP client and server messages.
  bool admit_dhcp(runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i);
  // The IPv6 frames of a burst, all stages (stage_admit6.cpp); stage 1 for one frame.
  void process6(runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint64_t now);
  void admit6_one(Burst6& b, runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i, uint64_t now);
  void classify_icmp(PendingOf<Ipv6Family>& q, const packet::ParsedPacket& p, bool from_uplink, uint64_t now);
  // Steps 4-7 for either family, then the packet is queued (admit_ip.hpp).
  template <class F>
  [[gnu::always_inline]] void admit_ip(BurstOf<F>& b, runtime::Snapshot& snap, uint16_t in_port,
                                       const Parsed& ps, uint16_t i, const typename F::Addr& src_addr,
                                       const typename F::Addr& dst_addr, acl::AddressInfo src,
                                       acl::AddressInfo dst, uint64_t now);
  // IPv6 link services (stage_link_services6.cpp): neighbour discovery, RA guard, MLD,
  // DHCPv6. Each returns true when it passed or dropped the frame.
  bool admit_nd(runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i);
  bool admit_dhcp6(runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i);
  // A multicast frame to every port but `in_port` (ARP requests, multicast ND).
  void flood(rte_mbuf* m, uint16_t in_port, bool vm_ports_only, uint16_t uplink);
  // Stages 2-4, one code for both families (family.hpp), instantiated for both.
  template <class F>
  void lookup_connections(BurstOf<F>& b, runtime::Snapshot& snap, uint16_t in_port, uint64_t now);
  template <class F>
  void classify(BurstOf<F>& b, runtime::Snapshot& snap);
  template <class F>
  void verdicts(BurstOf<F>& b, runtime::Snapshot& snap, uint16_t in_port, uint64_t now);
  template <class F>
  bool follow_fragment(PendingOf<F>& q, runtime::Snapshot& snap, uint16_t in_port, uint64_t now);
  template <class F>
  bool related_still_valid(PendingOf<F>& q, runtime::Snapshot& snap, uint16_t in_port);
  template <class F>
  void begin_connections(BurstOf<F>& b, runtime::Snapshot& snap, uint64_t now, typename F::PendingInsert* begun);
  template <class F>
  bool create_connection(PendingOf<F>& q, runtime::Snapshot& snap, uint16_t in_port, uint64_t now,
                         typename F::PendingInsert& begun, flow::LinkLater& later);
  template <class F>
  void advance_connection(PendingOf<F>& q, uint64_t gen, uint64_t now);
  template <class F>
  void advance_entry(int32_t pos, bool src_is_lo, uint8_t proto, uint8_t tcp_flags, uint32_t len, uint64_t now);
  // A `drop` record of a first packet (stage_verdicts.cpp); `denied`: the check that
  // denied it (0, 1) or -1.
  template <class F>
  void log_drop(const PendingOf<F>& q, const runtime::Snapshot& snap, core::DropReason why, int denied, uint64_t now);
  template <class F>
  void remember_train(const PendingOf<F>& q, runtime::Snapshot& snap, uint64_t now);
  template <class F>
  void run_stages(BurstOf<F>& b, runtime::Snapshot& snap, uint16_t in_port, uint64_t now) {
    if (ntraced_ != 0) [[unlikely]] trace_stage(b, capture::Stage::kAdmit);
    lookup_connections(b, snap, in_port, now);
    if (ntraced_ != 0) [[unlikely]] trace_stage(b, capture::Stage::kConnections);
    classify(b, snap);
    if (ntraced_ != 0) [[unlikely]] trace_stage(b, capture::Stage::kRules);
    verdicts(b, snap, in_port, now);
    if (ntraced_ != 0) [[unlikely]] trace_stage(b, capture::Stage::kVerdict);
  }
  // Capture and trace of one burst (observe.cpp), called only while a tap is armed:
  // received frames captured, traced packets picked after the parse, one event per stage.
  // Cold: out of the hot code's way (.text.unlikely), never inlined into it.
  [[gnu::cold]] void begin_observe(rte_mbuf** pkts, uint16_t n, uint16_t in_port);
  [[gnu::cold]] void trace_start(const runtime::Snapshot& snap, const Parsed& ps, uint16_t in_port, uint64_t now);
  [[gnu::cold]] void trace_after_express(const Parsed& ps);
  template <class F>
  [[gnu::cold]] void trace_stage(const BurstOf<F>& b, capture::Stage done);
  [[gnu::cold]] void observe_drop(rte_mbuf* m, uint16_t in_port, core::DropReason r);
  [[gnu::cold]] void end_observe();
  // Transmit and counting (pipeline.cpp). A dropped frame is counted at once and freed
  // with the burst's other dropped frames at the end of process() (one bulk free).
  void drop(rte_mbuf* m, uint16_t in_port, core::DropReason r, runtime::PolicyCounters* pc, uint32_t vm);
  void free_dropped();
  template <class F>
  void pass(const PendingOf<F>& q, runtime::PolicyCounters* pc) {
    if (q.src_vm != acl::kNoVm) runtime::bump(pc->vm_allowed[q.src_vm]);
    if (q.dst_vm != acl::kNoVm && q.dst_vm != q.src_vm) runtime::bump(pc->vm_allowed[q.dst_vm]);
    send(q.m, q.out_port);
  }
  // Inline: once per forwarded frame (a call cost `null` a few cycles per frame).
  void send(rte_mbuf* m, uint16_t out_port) {
    if (tx_len_[out_port] == kTxBuffer) [[unlikely]] flush_port(out_port);
    tx_buf_[out_port][tx_len_[out_port]++] = m;
  }
  void flush_port(uint16_t port);

  unsigned worker_;
  TxTarget tx_;
  runtime::PortCounters* port_counters_;  // [nports], this worker's
  FlowContext flows_;
  ClassifyCaches caches_;  // stage 3's memo of rte_acl answers (classify_cache.hpp)
  rte_mbuf* tx_buf_[kMaxTxPorts][kTxBuffer];
  rte_mbuf* dropped_[kBurst];
  uint16_t ndropped_ = 0;
  uint16_t tx_len_[kMaxTxPorts] = {};
  // Capture and trace (observe.cpp).
  struct TraceSlot {
    rte_mbuf* m;
    uint16_t idx;      // in Parsed
    int16_t pend;      // in its family's burst, or -1
    uint8_t path;      // before stage 4
    bool ended;        // passed by the express stage, or dropped
    bool v6;
    capture::TraceRecord rec;
  };
  static constexpr uint8_t kMaxTraced = 4;  // per burst
  capture::CaptureTap* cap_ = nullptr;
  capture::TraceTap* trace_ = nullptr;
  bool observing_ = false;  // this burst: drop() calls observe_drop()
  uint8_t ntraced_ = 0;
  capture::Stage trace_stage_ = capture::Stage::kParse;  // where a drop now happens
  TraceSlot traced_[kMaxTraced];
};

}  // namespace sgfw::dataplane
