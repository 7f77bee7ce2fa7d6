// The capture and trace taps (docs/capture.md): what the control thread arms for the
// workers and what they hand back. A tap is filled in by the control thread, published
// through Taps (one atomic pointer each), read by every worker once per poll loop, and
// freed only after an RCU grace period (the workers' quiescent states) once unarmed.
// Data path: offer()/take() never block, allocate only from the tap's preallocated
// mempool, and count what they cannot hand over (ring full, mempool empty) as lost.
// Thread-safety: the filter fields are written before the tap is armed and read-only
// after; the counters are atomics; the rings are multi-producer, single-consumer.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>

#include "capture/trace_record.hpp"
#include "packet/parsed_packet.hpp"

namespace sgfw::capture {

inline constexpr uint32_t kSnapLen = 2048;     // bytes of a frame captured; longer ones truncated
inline constexpr uint16_t kAnyPort = 0xffff;   // CaptureTap::port: no port filter

struct CaptureTap {
  // Filter (AND-ed): only dropped frames; received on sgfw port `port`; from the VM with
  // MAC vm_mac on port vm_port, or to vm_mac.
  bool drops_only = false;
  uint16_t port = kAnyPort;
  bool by_vm = false;
  uint64_t vm_mac = 0;  // as dataplane's mac_u64: the six bytes, first one highest
  uint16_t vm_port = 0;
  uint64_t count = 0;            // matching frames to take, then the capture is done
  rte_ring* ring = nullptr;      // pcapng-formatted copies; hash.usr: drop reason + 1, or 0
  rte_mempool* pool = nullptr;   // the copies' mbufs (rte_pcapng_mbuf_size(kSnapLen) + comment room)
  alignas(64) std::atomic<uint64_t> taken{0};  // matching frames taken (lost ones included)
  std::atomic<uint64_t> lost{0};               // taken but not handed over (pool empty, ring full)

  // Whether a frame received on `in_port` passes the port and VM filters.
  [[nodiscard]] bool matches(uint16_t in_port, const rte_mbuf* m) const;
  // Data path: takes a matching frame while fewer than `count` were taken: a pcapng copy
  // (rte_pcapng_copy, interface = dpdk_port) onto the ring. reason_plus1: 0 for none.
  void offer(uint16_t in_port, uint16_t dpdk_port, const rte_mbuf* m, uint8_t reason_plus1);
  [[nodiscard]] bool done() const { return taken.load(std::memory_order_relaxed) >= count; }
};

struct TraceTap {
  // The tuple, matched in either direction: family 4 or 6, the protocol, the two ends
  // (IPv4: network order in the first 4 bytes) and their ports in wire order (0: any;
  // ICMP echo: the identifier is not matched).
  uint8_t family = 4;
  uint8_t proto = 0;
  uint8_t a[16] = {}, b[16] = {};
  uint16_t a_port_be = 0, b_port_be = 0;
  uint32_t count = 0;          // packets to follow
  rte_ring* ring = nullptr;    // TraceRecord elements (rte_ring_create_elem)
  alignas(64) std::atomic<uint32_t> taken{0};
  std::atomic<uint32_t> lost{0};  // followed but the ring was full

  [[nodiscard]] bool matches(const packet::ParsedPacket& p) const;
  // Claims one of the `count` packets; false once all are claimed.
  [[nodiscard]] bool take();
  void hand_over(const TraceRecord& r);
  [[nodiscard]] bool done() const { return taken.load(std::memory_order_relaxed) >= count; }
};

// The armed taps of the process: the daemon's workers load both once per poll loop.
struct Taps {
  std::atomic<CaptureTap*> capture{nullptr};
  std::atomic<TraceTap*> trace{nullptr};
};

// The one instance the daemon's workers and control thread share.
[[nodiscard]] Taps& process_taps();

}  // namespace sgfw::capture
