// Connection protocol state (lib/flow/conn_state.*) and the canonical connection key
// (lib/flow/flow_key.hpp): pure, no EAL, no table. docs/enforcement.md §4; catalogue S05, S07, S13.
#define BOOST_TEST_MODULE conn_state
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <ostream>

#include "flow/conn_state.hpp"
#include "flow/flow_key.hpp"

namespace sgfw::flow {
inline std::ostream& operator<<(std::ostream& o, ConnState s) { return o << to_string(s); }
}  // namespace sgfw::flow

using namespace sgfw::flow;
using namespace sgfw::flow::tcp;

namespace {

constexpr uint8_t kEce = 0x40, kCwr = 0x80;

// The invalid classes, written independently of the implementation.
bool reference_invalid(uint8_t f) {
  bool fin = f & kFin, syn = f & kSyn, rst = f & kRst, psh = f & kPsh, ack = f & kAck, urg = f & kUrg;
  bool null = !fin && !syn && !rst && !psh && !ack && !urg;  // ECE/CWR alone count as no flags
  return null || (syn && fin) || (syn && rst) || (fin && rst) || (fin && !ack);
}

bool same(const FlowKey& a, const FlowKey& b) { return std::memcmp(&a, &b, sizeof(FlowKey)) == 0; }

uint32_t ip(const char* s) {
  in_addr a{};
  BOOST_REQUIRE(inet_pton(AF_INET, s, &a) == 1);
  return a.s_addr;  // network byte order, as read from a packet
}

}  // namespace

BOOST_AUTO_TEST_CASE(invalid_flag_classes) {
  // SYN+FIN (with or without anything else), SYN+RST, FIN+RST.
  for (uint8_t extra : {0, int(kAck), int(kPsh), int(kUrg), int(kAck | kPsh)}) {
    BOOST_TEST(flags_invalid(kSyn | kFin | extra), "syn+fin +" << int(extra));
    BOOST_TEST(flags_invalid(kSyn | kRst | extra), "syn+rst +" << int(extra));
    BOOST_TEST(flags_invalid(kFin | kRst | extra), "fin+rst +" << int(extra));
  }
  // Null scan: no flags at all (ECE/CWR alone are not flags that make a segment valid).
  BOOST_TEST(flags_invalid(0));
  BOOST_TEST(flags_invalid(kEce));
  BOOST_TEST(flags_invalid(kEce | kCwr));
  // FIN without ACK: the bare FIN scan, FIN+PSH, FIN+URG.
  BOOST_TEST(flags_invalid(kFin));
  BOOST_TEST(flags_invalid(kFin | kPsh));
  BOOST_TEST(flags_invalid(kFin | kUrg));
  // Xmas: FIN+PSH+URG, and every flag set.
  BOOST_TEST(flags_invalid(kFin | kPsh | kUrg));
  BOOST_TEST(flags_invalid(kFin | kSyn | kRst | kPsh | kAck | kUrg));
  BOOST_TEST(flags_invalid(0xff));

  // The segments of ordinary connections are valid.
  for (uint8_t ok : {int(kSyn), int(kSyn | kAck), int(kAck), int(kAck | kPsh), int(kFin | kAck),
                     int(kFin | kAck | kPsh), int(kRst), int(kRst | kAck), int(kSyn | kEce | kCwr),
                     int(kSyn | kAck | kEce), int(kAck | kUrg)})
    BOOST_TEST(!flags_invalid(ok), "valid " << int(ok));
}

BOOST_AUTO_TEST_CASE(invalid_flags_match_the_reference_for_every_byte) {
  for (unsigned f = 0; f < 256; ++f)
    BOOST_TEST(flags_invalid(static_cast<uint8_t>(f)) == reference_invalid(static_cast<uint8_t>(f)), "flags " << f);
}

BOOST_AUTO_TEST_CASE(syn_only_opens) {
  BOOST_TEST(is_syn_only(kSyn));
  BOOST_TEST(is_syn_only(kSyn | kPsh));
  BOOST_TEST(is_syn_only(kSyn | kEce | kCwr));
  BOOST_TEST(!is_syn_only(kSyn | kAck));
  BOOST_TEST(!is_syn_only(kAck));
  BOOST_TEST(!is_syn_only(kFin | kAck));
  BOOST_TEST(!is_syn_only(kRst));
  BOOST_TEST(!is_syn_only(0));
  for (unsigned f = 0; f < 256; ++f)
    BOOST_TEST(is_syn_only(static_cast<uint8_t>(f)) == ((f & kSyn) && !(f & kAck)), "flags " << f);
}

// S05: SYN -> SYN-ACK -> ACK -> FIN -> FIN -> ACK, the state at every step.
BOOST_AUTO_TEST_CASE(full_tcp_lifecycle) {
  ConnState s = ConnState::kTcpSynSent;                         // created by the SYN
  s = next(s, kSyn, true);                                      // retransmitted SYN
  BOOST_TEST(s == ConnState::kTcpSynSent);
  s = next(s, kSyn | kAck, false);
  BOOST_TEST(s == ConnState::kTcpSynRecv);
  s = next(s, kAck, true);
  BOOST_TEST(s == ConnState::kTcpEstablished);
  s = next(s, kAck | kPsh, false);                              // data both ways
  s = next(s, kAck | kPsh, true);
  BOOST_TEST(s == ConnState::kTcpEstablished);
  s = next(s, kFin | kAck, true);
  BOOST_TEST(s == ConnState::kTcpFinWait);
  s = next(s, kAck, false);                                     // ACK of the first FIN
  BOOST_TEST(s == ConnState::kTcpFinWait);
  s = next(s, kFin | kAck, false);
  BOOST_TEST(s == ConnState::kTcpClosing);
  s = next(s, kFin | kAck, false);                              // retransmitted FIN
  BOOST_TEST(s == ConnState::kTcpClosing);
  s = next(s, kAck, true);
  BOOST_TEST(s == ConnState::kTcpTimeWait);
  s = next(s, kAck, true);                                      // stays until it expires
  BOOST_TEST(s == ConnState::kTcpTimeWait);
  BOOST_TEST(is_tcp_reusable(s));                               // S08: a new SYN may replace it
}

BOOST_AUTO_TEST_CASE(fin_from_the_responder_first_and_fin_on_the_handshake_ack) {
  ConnState s = next(ConnState::kTcpEstablished, kFin | kAck, false);
  BOOST_TEST(s == ConnState::kTcpFinWait);
  s = next(s, kFin | kAck, true);
  BOOST_TEST(s == ConnState::kTcpClosing);
  // The third handshake segment carrying a FIN goes straight to fin-wait.
  BOOST_TEST(next(ConnState::kTcpSynRecv, kFin | kAck, true) == ConnState::kTcpFinWait);
}

BOOST_AUTO_TEST_CASE(rst_closes_from_any_state) {
  for (ConnState s : {ConnState::kTcpSynSent, ConnState::kTcpSynRecv, ConnState::kTcpEstablished,
                      ConnState::kTcpFinWait, ConnState::kTcpClosing, ConnState::kTcpTimeWait,
                      ConnState::kTcpClosed}) {
    for (bool from_orig : {true, false}) {
      BOOST_TEST(next(s, kRst, from_orig) == ConnState::kTcpClosed, to_string(s) << " " << from_orig);
      BOOST_TEST(next(s, kRst | kAck, from_orig) == ConnState::kTcpClosed, to_string(s) << " " << from_orig);
    }
  }
  BOOST_TEST(is_tcp_reusable(ConnState::kTcpClosed));
}

// S07: SYN / SYN-ACK / SYN / SYN-ACK ... never reaches established.
BOOST_AUTO_TEST_CASE(syn_synack_loop_never_established) {
  ConnState s = ConnState::kTcpSynSent;
  for (int i = 0; i < 10; ++i) {
    s = next(s, kSyn | kAck, false);
    BOOST_TEST(s == ConnState::kTcpSynRecv);
    s = next(s, kSyn, true);
    BOOST_TEST(s != ConnState::kTcpEstablished);
    BOOST_TEST(!is_established(s));
  }
  // Nor does a SYN-ACK from the originator, or an ACK from the responder.
  BOOST_TEST(next(ConnState::kTcpSynSent, kSyn | kAck, true) == ConnState::kTcpSynSent);
  BOOST_TEST(next(ConnState::kTcpSynSent, kAck, true) == ConnState::kTcpSynSent);
  BOOST_TEST(next(ConnState::kTcpSynSent, kAck, false) == ConnState::kTcpSynSent);
  BOOST_TEST(next(ConnState::kTcpSynRecv, kAck, false) == ConnState::kTcpSynRecv);
  BOOST_TEST(next(ConnState::kTcpSynRecv, kSyn | kAck, true) == ConnState::kTcpSynRecv);
}

BOOST_AUTO_TEST_CASE(non_tcp_states_are_left_alone) {
  for (ConnState s : {ConnState::kUdpOneWay, ConnState::kUdpTwoWay, ConnState::kIcmpEcho, ConnState::kOtherOneWay,
                      ConnState::kFree, ConnState::kDead})
    BOOST_TEST(next(s, kAck, true) == s, to_string(s));
}

BOOST_AUTO_TEST_CASE(established_and_reusable_classes) {
  for (ConnState s : {ConnState::kTcpEstablished, ConnState::kTcpFinWait, ConnState::kTcpClosing,
                      ConnState::kUdpTwoWay, ConnState::kIcmpEchoReplied, ConnState::kOtherTwoWay})
    BOOST_TEST(is_established(s), to_string(s));
  // Half-open (evictable at a full table) and the other non-established states.
  for (ConnState s : {ConnState::kFree, ConnState::kTcpSynSent, ConnState::kTcpSynRecv, ConnState::kTcpTimeWait,
                      ConnState::kTcpClosed, ConnState::kUdpOneWay, ConnState::kIcmpEcho, ConnState::kOtherOneWay,
                      ConnState::kDead})
    BOOST_TEST(!is_established(s), to_string(s));

  for (ConnState s : {ConnState::kTcpTimeWait, ConnState::kTcpClosed, ConnState::kDead})
    BOOST_TEST(is_tcp_reusable(s), to_string(s));
  for (ConnState s : {ConnState::kFree, ConnState::kTcpSynSent, ConnState::kTcpSynRecv, ConnState::kTcpEstablished,
                      ConnState::kTcpFinWait, ConnState::kTcpClosing, ConnState::kUdpOneWay, ConnState::kUdpTwoWay})
    BOOST_TEST(!is_tcp_reusable(s), to_string(s));
}

// keeps_state (the express stage's shortcut past the state machine) only ever answers
// true where the state machine leaves the state as it is, for every flags byte and
// each direction; and it does answer true for the steady states it is there for.
BOOST_AUTO_TEST_CASE(keeps_state_only_where_nothing_changes) {
  const auto tcp_state = [](ConnState s) {
    return (s >= ConnState::kTcpSynSent && s <= ConnState::kTcpClosed) || s == ConnState::kTcpLooseOpen ||
           s == ConnState::kTcpLooseClosing;
  };
  // The other protocols' transitions (Pipeline::advance_entry): an answer, a packet from
  // the responder, moves a one-way state to its two-way state; nothing else moves.
  const auto answered = [](ConnState s, bool from_orig) {
    if (from_orig) return s;
    if (s == ConnState::kUdpOneWay) return ConnState::kUdpTwoWay;
    if (s == ConnState::kIcmpEcho) return ConnState::kIcmpEchoReplied;
    if (s == ConnState::kOtherOneWay) return ConnState::kOtherTwoWay;
    return s;
  };
  const auto steady = {ConnState::kTcpEstablished, ConnState::kUdpOneWay,       ConnState::kUdpTwoWay,
                       ConnState::kIcmpEcho,       ConnState::kIcmpEchoReplied, ConnState::kOtherOneWay,
                       ConnState::kOtherTwoWay};
  unsigned kept = 0;
  for (unsigned i = 0; i < kConnStateCount; ++i) {
    const auto s = static_cast<ConnState>(i);
    const bool known = tcp_state(s) || std::find(steady.begin(), steady.end(), s) != steady.end();
    for (unsigned f = 0; f < 256; ++f)
      for (bool from_orig : {true, false}) {
        if (!keeps_state(s, static_cast<uint8_t>(f), from_orig)) continue;
        ++kept;
        BOOST_TEST(known, to_string(s));
        const ConnState after = tcp_state(s) ? next(s, static_cast<uint8_t>(f), from_orig) : answered(s, from_orig);
        BOOST_TEST(after == s, to_string(s) << " flags " << f << (from_orig ? " from the originator" : " answer"));
      }
  }
  BOOST_TEST(keeps_state(ConnState::kTcpEstablished, kAck, true));
  BOOST_TEST(keeps_state(ConnState::kTcpEstablished, kAck | kPsh, false));
  BOOST_TEST(!keeps_state(ConnState::kTcpEstablished, kAck | kFin, true));
  BOOST_TEST(!keeps_state(ConnState::kTcpEstablished, kRst, false));
  BOOST_TEST(!keeps_state(ConnState::kTcpSynSent, kAck, true));
  for (ConnState s : {ConnState::kUdpOneWay, ConnState::kIcmpEcho, ConnState::kOtherOneWay}) {
    BOOST_TEST(keeps_state(s, 0, true), to_string(s));
    BOOST_TEST(!keeps_state(s, 0, false), to_string(s));
  }
  for (ConnState s : {ConnState::kUdpTwoWay, ConnState::kIcmpEchoReplied, ConnState::kOtherTwoWay}) {
    BOOST_TEST(keeps_state(s, 0, true), to_string(s));
    BOOST_TEST(keeps_state(s, 0, false), to_string(s));
  }
  // Established without FIN and RST both ways; two-way states both ways; one-way from the originator.
  BOOST_TEST(kept == 2 * 64 + 3 * 2 * 256 + 3 * 256);
}

BOOST_AUTO_TEST_CASE(every_state_has_a_name) {
  for (unsigned i = 0; i <= static_cast<unsigned>(ConnState::kFragmentTrain); ++i)
    BOOST_TEST(std::strcmp(to_string(static_cast<ConnState>(i)), "?") != 0, i);
}

BOOST_AUTO_TEST_CASE(flow_key_is_the_same_for_both_directions) {
  uint32_t a = ip("10.0.0.1"), b = ip("192.168.1.20");
  uint16_t pa = htons(40000), pb = htons(443);
  FlowKey fwd = make_flow_key(6, a, pa, b, pb);
  FlowKey rev = make_flow_key(6, b, pb, a, pa);
  BOOST_TEST(same(fwd, rev));
  BOOST_TEST(fwd.proto == 6);
  BOOST_TEST((fwd.pad[0] == 0 && fwd.pad[1] == 0 && fwd.pad[2] == 0));
  // The endpoint that sorts first comes first, with its own port.
  BOOST_TEST(fwd.addr_lo == std::min(a, b));
  BOOST_TEST(fwd.port_lo == (fwd.addr_lo == a ? pa : pb));

  // Same address on both sides (a VM talking to itself): ordered by port.
  FlowKey s1 = make_flow_key(17, a, htons(5000), a, htons(53));
  FlowKey s2 = make_flow_key(17, a, htons(53), a, htons(5000));
  BOOST_TEST(same(s1, s2));
  BOOST_TEST(s1.port_lo <= s1.port_hi);
}

BOOST_AUTO_TEST_CASE(flow_key_differs_by_port_and_protocol) {
  uint32_t a = ip("10.0.0.1"), b = ip("10.0.0.2");
  FlowKey base = make_flow_key(6, a, htons(1000), b, htons(80));
  BOOST_TEST(!same(base, make_flow_key(6, a, htons(1001), b, htons(80))));
  BOOST_TEST(!same(base, make_flow_key(6, a, htons(1000), b, htons(81))));
  BOOST_TEST(!same(base, make_flow_key(17, a, htons(1000), b, htons(80))));
  BOOST_TEST(!same(base, make_flow_key(6, a, htons(1000), ip("10.0.0.3"), htons(80))));
  // Swapping only the ports (not the addresses) is another connection.
  BOOST_TEST(!same(base, make_flow_key(6, a, htons(80), b, htons(1000))));
  // Other protocols: ports 0, keyed by addresses and protocol.
  BOOST_TEST(same(make_flow_key(47, a, 0, b, 0), make_flow_key(47, b, 0, a, 0)));
  BOOST_TEST(!same(make_flow_key(47, a, 0, b, 0), make_flow_key(112, a, 0, b, 0)));
}

// tcp_loose pickups: a lone RST creates nothing; ACK and FIN pickups stay half-open
// until the other side answers.
BOOST_AUTO_TEST_CASE(loose_pickup_states) {
  using namespace sgfw::flow;
  using namespace sgfw::flow::tcp;
  BOOST_TEST((loose_pickup(kRst) == ConnState::kFree));
  BOOST_TEST((loose_pickup(kRst | kAck) == ConnState::kFree));
  BOOST_TEST((loose_pickup(kAck) == ConnState::kTcpLooseOpen));
  BOOST_TEST((loose_pickup(kAck | kPsh) == ConnState::kTcpLooseOpen));
  BOOST_TEST((loose_pickup(kFin | kAck) == ConnState::kTcpLooseClosing));
  BOOST_TEST(!is_established(ConnState::kTcpLooseOpen));
  BOOST_TEST(!is_established(ConnState::kTcpLooseClosing));
  // More from the same side: still half-open.
  BOOST_TEST((next(ConnState::kTcpLooseOpen, kAck, true) == ConnState::kTcpLooseOpen));
  BOOST_TEST((next(ConnState::kTcpLooseOpen, kFin | kAck, true) == ConnState::kTcpLooseClosing));
  // The answer.
  BOOST_TEST((next(ConnState::kTcpLooseOpen, kAck, false) == ConnState::kTcpEstablished));
  BOOST_TEST((next(ConnState::kTcpLooseOpen, kFin | kAck, false) == ConnState::kTcpFinWait));
  BOOST_TEST((next(ConnState::kTcpLooseClosing, kAck, false) == ConnState::kTcpFinWait));
  BOOST_TEST((next(ConnState::kTcpLooseClosing, kFin | kAck, false) == ConnState::kTcpClosing));
  BOOST_TEST((next(ConnState::kTcpLooseOpen, kRst, false) == ConnState::kTcpClosed));
}
