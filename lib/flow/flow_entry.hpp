// One connection's record in the connection table (flow_table.hpp; docs/design/
// flow-table.md, "The entry"): the hot part an established packet reads and writes,
// one cache line, and the cold part the slow paths and the control thread read.
// Thread-safety: fields written after insertion are atomics (workers and the control
// thread); the rest is written once, before the entry is published.
#pragma once

#include <atomic>
#include <cstdint>

#include "flow/conn_state.hpp"
#include "flow/flow_key.hpp"

namespace sgfw::flow {

// A stable VM id (0 .. max_vm_ids-1) or none: the end is not a local VM.
inline constexpr uint32_t kNoVmId = 0xffffffffu;

// FlowEntry::flags bits.
inline constexpr uint8_t kOrigIsLo = 1;        // the originator is the key's lo endpoint
inline constexpr uint8_t kInHalfOpen = 2;      // on the table's half-open list
inline constexpr uint8_t kInInbound = 4;       // FlowEntry::inbound: on the responder VM's inbound half-open list
inline constexpr uint8_t kStatelessTrain = 8;  // fragment trains: the first fragment created no connection

// The creation time is kept coarse (TSC >> kCreatedShift: ~6 ms at 2.6 GHz) in 32 bits,
// so that the first cache line holds the express word and the counters; ages are right
// for connections younger than 2^56 TSC ticks (~320 days at 2.6 GHz).
inline constexpr unsigned kCreatedShift = 24;

// One connection, in two parallel arrays indexed by its position (docs/design/
// flow-table.md, "The entry"): the hot part, one cache line for either family, holds
// everything an established packet reads and writes (state, last_seen, generation, the
// express word, the packet and byte counters); the cold part what only the slow paths
// and the control thread read (rules, VM ids, and the key, which the index compares:
// flow_index.hpp). Past the lookup, an established packet touches the hot line only;
// the hot array is as dense as one line per connection allows. Fields written after insertion are
// atomics (both directions of a connection may be handled by different workers).
template <class Key>
struct alignas(64) BasicFlowEntry {
  std::atomic<ConnState> state;         // 1
  // 1: kOrigIsLo, kStatelessTrain (written before the entry is published), kInHalfOpen
  // (changed only under the table's half-open list lock: a load and a store)
  std::atomic<uint8_t> flags;
  uint8_t train_proto;                  // 1: fragment trains: the first fragment's upper-layer protocol
  std::atomic<uint8_t> inbound;         // 1: kInInbound (changed only under the VM's inbound list lock)
  uint32_t created_coarse;              // 4: TSC of the first packet >> kCreatedShift
  std::atomic<uint64_t> last_seen;      // 8: TSC of the last packet
  std::atomic<uint64_t> generation;     // 8: policy generation that admitted / re-checked it
  // 8: connections: the packet path's express word (written and read by lib/dataplane
  // only, docs/design/packet-path.md "Express path"; 0: none); fragment trains: the
  // first fragment's L4 ports (train_sport_be(), train_dport_be()).
  std::atomic<uint64_t> express;
  // 32: packets and bytes (frame length) per direction, [0] from the originator, [1]
  // from the responder, counting every packet that passed (the first one included).
  // Added with a relaxed load and store, not an atomic read-modify-write (no lock
  // prefix on the packet path): two workers adding to the same direction at the same
  // instant may lose one addition (RSS sends one direction to one queue; docs/logs.md).
  std::atomic<uint64_t> packets[2];
  std::atomic<uint64_t> bytes[2];

  // Counts one passed packet of `len` bytes from the originator (dir 0) or the
  // responder (dir 1). Data path: two loads and two stores, no atomic read-modify-write.
  void count(unsigned dir, uint32_t len) {
    packets[dir].store(packets[dir].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    bytes[dir].store(bytes[dir].load(std::memory_order_relaxed) + len, std::memory_order_relaxed);
  }
  // Fragment trains: the first fragment's L4 source and destination ports (ICMP echo:
  // the key's ports), wire order.
  [[nodiscard]] uint16_t train_sport_be() const {
    return static_cast<uint16_t>(express.load(std::memory_order_relaxed) >> 16);
  }
  [[nodiscard]] uint16_t train_dport_be() const {
    return static_cast<uint16_t>(express.load(std::memory_order_relaxed));
  }
  // TSC ticks since the first packet, at kCreatedShift resolution.
  [[nodiscard]] uint64_t age(uint64_t now) const {
    return static_cast<uint64_t>(static_cast<uint32_t>((now >> kCreatedShift) - created_coarse)) << kCreatedShift;
  }
  [[nodiscard]] bool orig_is_lo() const { return (flags.load(std::memory_order_relaxed) & kOrigIsLo) != 0; }
};

// The cold part of a connection (above): written when it is created (and the rules
// when it is re-checked), read by the slow paths and the control thread.
template <class Key>
struct BasicFlowCold {
  using Addr = typename Key::Addr;      // uint32_t (IPv4), Addr6 (IPv6), network order
  std::atomic<uint32_t> egress_rule;    // 4: deciding rule id + 1 (0: no such check)
  std::atomic<uint32_t> ingress_rule;   // 4
  uint32_t vm_id[2];                    // 8: local VM at the originator's / responder's end, or kNoVmId
  Key key;                              // 16 (IPv4), 40 (IPv6)

  // The originator's address and port (first packet's source), in wire order;
  // `orig_is_lo` is the hot part's orig_is_lo().
  [[nodiscard]] Addr orig_addr_be(bool orig_is_lo) const { return orig_is_lo ? key.addr_lo : key.addr_hi; }
  [[nodiscard]] uint16_t orig_port_be(bool orig_is_lo) const { return orig_is_lo ? key.port_lo : key.port_hi; }
  [[nodiscard]] Addr resp_addr_be(bool orig_is_lo) const { return orig_is_lo ? key.addr_hi : key.addr_lo; }
  [[nodiscard]] uint16_t resp_port_be(bool orig_is_lo) const { return orig_is_lo ? key.port_hi : key.port_lo; }
};
using FlowEntry = BasicFlowEntry<FlowKey>;
using FlowEntry6 = BasicFlowEntry<FlowKey6>;
using FlowCold = BasicFlowCold<FlowKey>;
using FlowCold6 = BasicFlowCold<FlowKey6>;
// The fields of an established packet: one cache line, for either family.
static_assert(sizeof(FlowEntry) == 64);
static_assert(sizeof(FlowEntry6) == 64);
static_assert(sizeof(FlowCold) == 32);
static_assert(sizeof(FlowCold6) == 56);

}  // namespace sgfw::flow
