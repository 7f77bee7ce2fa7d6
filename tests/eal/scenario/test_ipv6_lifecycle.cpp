// The life of an IPv6 connection through the packet path (docs/enforcement.md §4; the
// IPv6 variants of catalogue S04-S08, S15-S18, S24, S28 and S29): a TCP
// connection's states from SYN to time-wait and its expiry, port reuse, each state's
// timeout just inside and just past, an idle connection expiring beside a busy one,
// and a flush. The IPv4 cases are in `timeouts` and `pipeline_scenarios`; these
// check that the IPv6 table (its own keys, entries and index) follows the same rules.
// Exact drop counters, the rig's clock.
#define BOOST_TEST_MODULE ipv6_lifecycle
#include <boost/test/unit_test.hpp>

#include <string>

#include "flow/conn_state.hpp"
#include "frames6.hpp"
#include "rig.hpp"
#include "vms.hpp"

using namespace sgfw::scenario;
using sgfw::core::DropReason;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

const std::string kA = "2001:db8::a", kInet = "2001:db8:99::7";

// a may send anything over IPv6; nothing may reach it unasked.
const std::string kPolicy =
    "securityGroups:\n"
    "  - name: client\n"
    "    rules:\n"
    "      - {name: out6, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: '::/0'}}}\n"
    "vms:\n"
    "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10, '2001:db8::a'], securityGroups: [client]}\n";

Bytes out_tcp(uint16_t sport, uint8_t flags) { return tcp6(kMacA, kInetMac, kA, sport, kInet, 443, flags); }
Bytes in_tcp(uint16_t dport, uint8_t flags) { return tcp6(kInetMac, kMacA, kInet, 443, kA, dport, flags); }
Bytes out_udp(uint16_t sport) { return udp6(kMacA, kInetMac, kA, sport, kInet, 53); }
Bytes in_udp(uint16_t dport) { return udp6(kInetMac, kMacA, kInet, 53, kA, dport); }

// A GRE packet (next header 47) between a and the internet.
Bytes gre6(bool from_a) {
  Ip6 h;
  h.src = ip6(from_a ? kA : kInet);
  h.dst = ip6(from_a ? kInet : kA);
  h.next_header = 47;
  return from_a ? ipv6_frame(kMacA, kInetMac, h, Bytes(8, 0)) : ipv6_frame(kInetMac, kMacA, h, Bytes(8, 0));
}

// A TCP connection of a's from its SYN to time-wait: the packets in order, and the
// state after each.
struct Step {
  bool from_a;
  uint8_t flags;
  const char* after;  // the state's name, as `flows` shows it
};
const Step kOpenAndClose[] = {
    {true, kSyn, "syn-sent"},          {false, kSyn | kAck, "syn-recv"},
    {true, kAck, "established"},      {true, kFin | kAck, "fin-wait"},
    {false, kFin | kAck, "closing"},  {true, kAck, "time-wait"},
};

// The state of the IPv6 table's only connection, by name ("none" if it holds none or
// several).
std::string only_state(Rig& rig) {
  std::string state = "none";
  size_t n = 0;
  rig.flows6().for_each([&](int32_t, const auto& e, const auto&) {
    state = sgfw::flow::to_string(e.state.load());
    ++n;
  });
  BOOST_TEST(n == 1u);
  return n == 1 ? state : "none";
}

}  // namespace

// S05: SYN, SYN-ACK, ACK, both FINs and the last ACK, the state after each packet; the
// time-wait connection passes its stragglers for 120 s from its last packet, then its
// next packet is a stray (no-connection).
BOOST_AUTO_TEST_CASE(a_tcp_connection_from_syn_to_time_wait_and_expiry) {
  Rig rig(kPolicy);
  for (const Step& st : kOpenAndClose) {
    if (st.from_a)
      BOOST_TEST(rig.passes("vm-a", out_tcp(40000, st.flags), "uplink"));
    else
      BOOST_TEST(rig.passes("uplink", in_tcp(40000, st.flags), "vm-a"));
    BOOST_TEST(only_state(rig) == st.after);
  }
  rig.advance(119);
  BOOST_TEST(rig.passes("uplink", in_tcp(40000, kAck), "vm-a"));  // a straggler
  rig.advance(121);
  BOOST_TEST(rig.send("uplink", in_tcp(40000, kAck)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoConnection) == 1u);
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 0u);
}

// S08: a new SYN on a tuple in time-wait replaces the connection: one connection, new
// again, and the new handshake's answer passes.
BOOST_AUTO_TEST_CASE(a_syn_on_a_time_wait_tuple_opens_one_new_connection) {
  Rig rig(kPolicy);
  for (const Step& st : kOpenAndClose)
    BOOST_REQUIRE(rig.send(st.from_a ? "vm-a" : "uplink", st.from_a ? out_tcp(40001, st.flags) : in_tcp(40001, st.flags))
                      .size() == 1u);
  BOOST_REQUIRE(only_state(rig) == "time-wait");
  rig.advance(5);
  BOOST_TEST(rig.passes("vm-a", out_tcp(40001, kSyn), "uplink"));
  BOOST_TEST(only_state(rig) == "syn-sent");
  BOOST_TEST(rig.passes("uplink", in_tcp(40001, kSyn | kAck), "vm-a"));
  BOOST_TEST(only_state(rig) == "syn-recv");
}

// S07: a SYN and a SYN-ACK, again and again, never complete a handshake: the
// connection stays half-open (and so reclaimable) until the originator's ACK.
BOOST_AUTO_TEST_CASE(repeated_syn_and_syn_ack_do_not_establish) {
  Rig rig(kPolicy);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(rig.passes("vm-a", out_tcp(40006, kSyn), "uplink"));
    BOOST_TEST(rig.passes("uplink", in_tcp(40006, kSyn | kAck), "vm-a"));
  }
  BOOST_TEST(only_state(rig) == "syn-recv");
  BOOST_TEST(rig.passes("vm-a", out_tcp(40006, kAck), "uplink"));
  BOOST_TEST(only_state(rig) == "established");
}

// S17: UDP from one side only stays one-way, however long it flows, and so times out
// after 30 s of quiet, not 180.
BOOST_AUTO_TEST_CASE(udp_from_one_side_stays_one_way) {
  Rig rig(kPolicy);
  for (int i = 0; i < 5; ++i) {
    BOOST_TEST(rig.passes("vm-a", out_udp(45000), "uplink"));
    rig.advance(20);
  }
  BOOST_TEST(only_state(rig) == "udp-one-way");
  rig.advance(11);  // 31 s after its last datagram
  BOOST_TEST(rig.send("uplink", in_udp(45000)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
}

// S15: with flows.tcp_loose, a mid-stream packet with no connection (after a restart
// or a flush) is judged by the rules as if its sender had opened the connection: a's
// ACK picks it up and the answer establishes it; the internet's ACK meets no ingress
// rule; a lone RST never creates a connection.
BOOST_AUTO_TEST_CASE(tcp_loose_picks_up_a_mid_stream_connection) {
  RigOptions options;
  options.flows.tcp_loose = true;
  Rig rig(kPolicy, options);
  BOOST_TEST(rig.passes("vm-a", out_tcp(40007, kAck), "uplink"));
  BOOST_TEST(only_state(rig) == "picked-up");
  BOOST_TEST(rig.passes("uplink", in_tcp(40007, kAck), "vm-a"));
  BOOST_TEST(only_state(rig) == "established");
  BOOST_TEST(rig.send("uplink", in_tcp(40008, kAck)).empty());
  BOOST_TEST(rig.send("vm-a", out_tcp(40009, kRst | kAck)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.drops(DropReason::kNoConnection) == 1u);
  BOOST_TEST(rig.flows6().size() == 1u);
}

// S04: a SYN-ACK or an ACK from the internet that answers nothing creates no state;
// S06: an unanswered SYN lives 30 s.
BOOST_AUTO_TEST_CASE(half_open_tcp_lives_30_seconds_and_an_answer_to_nothing_creates_none) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.send("uplink", in_tcp(40002, kSyn | kAck)).empty());
  BOOST_TEST(rig.send("uplink", in_tcp(40002, kAck)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoConnection) == 2u);
  BOOST_TEST(rig.flows6().size() == 0u);
  BOOST_TEST(rig.passes("vm-a", out_tcp(40003, kSyn), "uplink"));
  BOOST_TEST(rig.passes("vm-a", out_tcp(40004, kSyn), "uplink"));
  rig.advance(29);
  BOOST_TEST(rig.passes("uplink", in_tcp(40003, kSyn | kAck), "vm-a"));
  rig.advance(2);  // 31 s after the second SYN
  BOOST_TEST(rig.send("uplink", in_tcp(40004, kSyn | kAck)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoConnection) == 3u);
}

// S16: one-way UDP lives 30 s, answered 180 s from its last packet.
BOOST_AUTO_TEST_CASE(one_way_udp_lives_30_seconds_answered_180) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", out_udp(42000), "uplink"));
  BOOST_TEST(rig.passes("vm-a", out_udp(42001), "uplink"));
  rig.advance(29);
  BOOST_TEST(rig.passes("uplink", in_udp(42000), "vm-a"));  // now two-way
  rig.advance(2);
  BOOST_TEST(rig.send("uplink", in_udp(42001)).empty());  // a first packet: no ingress rule
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  rig.advance(177);
  BOOST_TEST(rig.passes("uplink", in_udp(42000), "vm-a"));
  rig.advance(181);
  BOOST_TEST(rig.send("uplink", in_udp(42000)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 2u);
}

// S18: an ICMPv6 echo request lives 30 s; its identifier is part of the key.
BOOST_AUTO_TEST_CASE(an_echo_request_lives_30_seconds) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", icmp6_echo(kMacA, kInetMac, kA, kInet, true, 7), "uplink"));
  BOOST_TEST(rig.passes("vm-a", icmp6_echo(kMacA, kInetMac, kA, kInet, true, 8), "uplink"));
  rig.advance(29);
  BOOST_TEST(rig.passes("uplink", icmp6_echo(kInetMac, kMacA, kInet, kA, false, 7), "vm-a"));
  BOOST_TEST(rig.send("uplink", icmp6_echo(kInetMac, kMacA, kInet, kA, false, 9)).empty());  // no request 9
  rig.advance(2);
  BOOST_TEST(rig.send("uplink", icmp6_echo(kInetMac, kMacA, kInet, kA, false, 8)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 2u);
}

// S24: another protocol (GRE) is keyed by addresses and protocol, lives 600 s either way.
BOOST_AUTO_TEST_CASE(other_protocols_live_600_seconds) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", gre6(true), "uplink"));
  rig.advance(599);
  BOOST_TEST(rig.passes("uplink", gre6(false), "vm-a"));
  BOOST_TEST(only_state(rig) == "two-way");
  rig.advance(599);
  BOOST_TEST(rig.passes("uplink", gre6(false), "vm-a"));
  rig.advance(601);
  BOOST_TEST(rig.send("uplink", gre6(false)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
}

// S28: an idle connection expires while a busy one of the same VM stays.
BOOST_AUTO_TEST_CASE(an_idle_connection_expires_beside_a_busy_one) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", out_udp(43000), "uplink"));
  BOOST_TEST(rig.passes("vm-a", out_udp(43001), "uplink"));
  for (int i = 0; i < 4; ++i) {  // 43000 sends every 20 s, for 80 s
    rig.advance(20);
    BOOST_TEST(rig.passes("vm-a", out_udp(43000), "uplink"));
  }
  BOOST_TEST(rig.passes("uplink", in_udp(43000), "vm-a"));
  BOOST_TEST(rig.send("uplink", in_udp(43001)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
}

// S29: a flush removes IPv6 connections; their return traffic is then judged as new
// (TCP: no-connection; UDP: the rules, and a has no ingress).
BOOST_AUTO_TEST_CASE(a_flush_ends_the_return_traffic_of_ipv6_connections) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", out_tcp(40005, kSyn), "uplink"));
  BOOST_TEST(rig.passes("uplink", in_tcp(40005, kSyn | kAck), "vm-a"));
  BOOST_TEST(rig.passes("vm-a", out_udp(44000), "uplink"));
  BOOST_TEST(rig.flows6().size() == 2u);
  BOOST_REQUIRE(rig.control().flush("a", {}).has_value());
  BOOST_TEST(rig.flows6().size() == 0u);
  BOOST_TEST(rig.send("uplink", in_tcp(40005, kAck)).empty());
  BOOST_TEST(rig.send("uplink", in_udp(44000)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoConnection) == 1u);
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
}
