// Connection protocol state (docs/enforcement.md §4): a pure state machine, unit-tested
// without a table. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sgfw::flow {

enum class ConnState : uint8_t {
  kFree = 0,        // slot unused
  kTcpSynSent,      // SYN from the originator
  kTcpSynRecv,      // SYN-ACK from the responder
  kTcpEstablished,  // handshake completed (or picked up with tcp_loose)
  kTcpFinWait,      // a FIN seen in one direction
  kTcpClosing,      // FINs seen in both directions
  kTcpTimeWait,     // last ACK after both FINs
  kTcpClosed,       // RST seen
  kUdpOneWay,       // UDP, only the originator has sent
  kUdpTwoWay,       // UDP, answered
  kIcmpEcho,        // echo request seen (reply passes)
  kIcmpEchoReplied,
  kOtherOneWay,     // other IP protocols
  kOtherTwoWay,
  kDead,            // removed (revoked, evicted, flushed): being reclaimed
  kFragmentTrain,   // fragment table: the first fragment of this datagram was allowed
  kTcpLooseOpen,    // tcp_loose: picked up from a mid-stream packet, not answered yet
  kTcpLooseClosing, // tcp_loose: picked up from a FIN, not answered yet
};
inline constexpr size_t kConnStateCount = 18;

const char* to_string(ConnState s);

namespace tcp {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20;

// Invalid combinations (dropped as invalid-tcp-flags whatever the state): SYN+FIN,
// SYN+RST, FIN+RST, no flags at all, FIN without ACK (includes Xmas/FIN scans).
[[nodiscard]] inline bool flags_invalid(uint8_t f) {
  uint8_t core = f & (kFin | kSyn | kRst | kAck);
  if ((f & (kFin | kSyn | kRst | kPsh | kAck | kUrg)) == 0) return true;
  if ((core & (kSyn | kFin)) == (kSyn | kFin)) return true;
  if ((core & (kSyn | kRst)) == (kSyn | kRst)) return true;
  if ((core & (kFin | kRst)) == (kFin | kRst)) return true;
  if ((core & kFin) && !(core & kAck)) return true;
  return false;
}

// A packet that may open a connection: SYN without ACK.
[[nodiscard]] inline bool is_syn_only(uint8_t f) { return (f & (kSyn | kAck)) == kSyn; }

// The next state after a packet with `flags` in direction `from_originator`.
[[nodiscard]] ConnState next(ConnState s, uint8_t flags, bool from_originator);

// The state of a connection picked up (tcp_loose) from a packet that is not a SYN, or
// kFree when the packet may not create one (any RST).
[[nodiscard]] ConnState loose_pickup(uint8_t flags);
}  // namespace tcp

// Answered (both sides have spoken, TCP handshake done): never evicted for a new
// connection. Every other live state is "half-open" (docs/design/flow-table.md).
[[nodiscard]] bool is_established(ConnState s);
[[nodiscard]] bool is_tcp_reusable(ConnState s);  // a new SYN may replace it (closed/time-wait)

// Whether a packet of a connection in state `s` (TCP: with `tcp_flags`), from the
// originator or the responder, leaves the state as it is: the steady states, where the
// express stage (lib/dataplane/stage_express.cpp) only counts the packet and its time.
// TCP established without FIN or RST (tcp::next keeps it); the two-way states of UDP,
// ICMP echo and other protocols, which have no transition out; their one-way states
// while the originator sends (only an answer moves them, Pipeline::advance_entry).
[[nodiscard]] inline bool keeps_state(ConnState s, uint8_t tcp_flags, bool from_orig) {
  switch (s) {
    case ConnState::kTcpEstablished:
      return (tcp_flags & (tcp::kFin | tcp::kRst)) == 0;
    case ConnState::kUdpTwoWay:
    case ConnState::kIcmpEchoReplied:
    case ConnState::kOtherTwoWay:
      return true;
    case ConnState::kUdpOneWay:
    case ConnState::kIcmpEcho:
    case ConnState::kOtherOneWay:
      return from_orig;
    default:
      return false;
  }
}

}  // namespace sgfw::flow
