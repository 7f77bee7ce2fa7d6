// Connection and drop log lines (lib/logs/json_line.*) and the per-file rate limit
// (lib/logs/rate_limiter.hpp): pure, no EAL. docs/logs.md.
#define BOOST_TEST_MODULE logs
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "core/drop_reason.hpp"
#include "flow/end_reason.hpp"
#include "logs/json_line.hpp"
#include "logs/rate_limiter.hpp"

using namespace sgfw;
using logs::Kind;
using logs::Record;

namespace {

struct FakeNames final : logs::Names {
  std::map<uint32_t, std::string> vms{{1, "web-1"}, {2, "app-1"}};
  std::map<std::pair<uint64_t, uint32_t>, std::string> rules{{{7, 0}, "default-allow-egress/egress-all"},
                                                             {{7, 3}, "app-tier-sg/http-from-web"}};
  const std::string* vm(uint32_t id) const override {
    auto it = vms.find(id);
    return it == vms.end() ? nullptr : &it->second;
  }
  const std::string* rule(uint64_t g, uint32_t i) const override {
    auto it = rules.find({g, i});
    return it == rules.end() ? nullptr : &it->second;
  }
};

// 1 GHz TSC; TSC 0 is 2026-11-30T07:00:00Z.
logs::TimeBase time_base() {
  logs::TimeBase tb;
  tb.tsc_hz = 1000000000;
  tb.tsc0 = 0;
  tb.unix_ns0 = 1796022000LL * 1000000000LL;
  return tb;
}

Record tcp_record(Kind k) {
  Record r{};
  r.kind = k;
  r.family = 4;
  r.proto = 6;
  r.sport_be = htons(40000);
  r.dport_be = htons(8080);
  uint32_t s = htonl(0x0a00000a), d = htonl(0x0a00010a);  // 10.0.0.10 -> 10.0.1.10
  std::memcpy(r.src, &s, 4);
  std::memcpy(r.dst, &d, 4);
  r.vm[0] = 1;
  r.vm[1] = 2;
  r.checks = 3;
  r.rule[0] = 1;  // rule #0 + 1
  r.rule[1] = 4;  // rule #3 + 1
  r.generation = 7;
  r.tsc = 1234000000;  // 1.234 s after TSC 0
  r.denied_check = logs::kNoCheck;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(time_is_utc_with_milliseconds) {
  BOOST_TEST(logs::format_time(1796022000LL * 1000000000LL + 5000000) == "2026-11-30T07:00:00.005Z");
  BOOST_TEST(logs::format_time(0) == "1970-01-01T00:00:00.000Z");
  logs::TimeBase tb = time_base();
  BOOST_TEST(tb.unix_ns(1500000000) == 1796022000LL * 1000000000LL + 1500000000LL);
  tb.tsc0 = 2000000000;  // a record from before the anchor
  BOOST_TEST(tb.unix_ns(1000000000) == 1796022000LL * 1000000000LL - 1000000000LL);
}

BOOST_AUTO_TEST_CASE(admit_line) {
  FakeNames n;
  std::string line = logs::format_record(tcp_record(Kind::kAdmit), n, time_base());
  BOOST_TEST(line ==
             R"({"time":"2026-11-30T07:00:01.234Z","event":"admit","proto":"tcp","src":"10.0.0.10","sport":40000,)"
             R"("dst":"10.0.1.10","dport":8080,"src_vm":"web-1","dst_vm":"app-1",)"
             R"("egress_rule":"default-allow-egress/egress-all","ingress_rule":"app-tier-sg/http-from-web","generation":7})");
}

BOOST_AUTO_TEST_CASE(end_line_with_counters_and_reason) {
  FakeNames n;
  Record r = tcp_record(Kind::kEnd);
  r.reason = static_cast<uint8_t>(flow::EndReason::kFin);
  r.age_tsc = 2500000000;  // 2.5 s
  r.packets[0] = 6;
  r.bytes[0] = 412;
  r.packets[1] = 4;
  r.bytes[1] = 290;
  std::string line = logs::format_record(r, n, time_base());
  BOOST_TEST(line ==
             R"({"time":"2026-11-30T07:00:01.234Z","event":"end","reason":"fin","proto":"tcp","src":"10.0.0.10",)"
             R"("sport":40000,"dst":"10.0.1.10","dport":8080,"src_vm":"web-1","dst_vm":"app-1",)"
             R"("egress_rule":"default-allow-egress/egress-all","ingress_rule":"app-tier-sg/http-from-web",)"
             R"("generation":7,"duration_s":2.500,"orig_packets":6,"orig_bytes":412,"reply_packets":4,"reply_bytes":290})");
}

BOOST_AUTO_TEST_CASE(end_reasons_named) {
  BOOST_TEST(std::string(flow::to_string(flow::EndReason::kTimeout)) == "timeout");
  BOOST_TEST(std::string(flow::to_string(flow::EndReason::kRst)) == "rst");
  BOOST_TEST(std::string(flow::to_string(flow::EndReason::kRevoked)) == "revoked");
  BOOST_TEST(std::string(flow::to_string(flow::EndReason::kFlushed)) == "flushed");
  BOOST_TEST(std::string(flow::to_string(flow::EndReason::kEvicted)) == "evicted");
  // Expiry and eviction of a closed TCP connection report how it closed.
  using flow::ConnState;
  using flow::EndReason;
  BOOST_TEST((flow::closing_reason(ConnState::kTcpTimeWait, EndReason::kTimeout) == EndReason::kFin));
  BOOST_TEST((flow::closing_reason(ConnState::kTcpFinWait, EndReason::kEvicted) == EndReason::kFin));
  BOOST_TEST((flow::closing_reason(ConnState::kTcpClosed, EndReason::kTimeout) == EndReason::kRst));
  BOOST_TEST((flow::closing_reason(ConnState::kTcpEstablished, EndReason::kTimeout) == EndReason::kTimeout));
  BOOST_TEST((flow::closing_reason(ConnState::kUdpTwoWay, EndReason::kEvicted) == EndReason::kEvicted));
  // Revocation and flush are reported as such whatever the state.
  BOOST_TEST((flow::closing_reason(ConnState::kTcpClosed, EndReason::kFlushed) == EndReason::kFlushed));
  BOOST_TEST((flow::closing_reason(ConnState::kTcpTimeWait, EndReason::kRevoked) == EndReason::kRevoked));
}

BOOST_AUTO_TEST_CASE(drop_line_names_the_denying_check) {
  FakeNames n;
  Record r = tcp_record(Kind::kDrop);
  r.proto = 17;
  r.reason = static_cast<uint8_t>(core::DropReason::kNoRule);
  r.denied_check = 1;  // ingress, app-1
  r.rule[1] = 0;
  std::string line = logs::format_record(r, n, time_base());
  BOOST_TEST(line ==
             R"({"time":"2026-11-30T07:00:01.234Z","event":"drop","reason":"no-rule","proto":"udp","src":"10.0.0.10",)"
             R"("sport":40000,"dst":"10.0.1.10","dport":8080,"src_vm":"web-1","dst_vm":"app-1",)"
             R"("denied_by":{"direction":"ingress","vm":"app-1"},"egress_rule":"default-allow-egress/egress-all",)"
             R"("ingress_rule":null,"generation":7})");
}

BOOST_AUTO_TEST_CASE(drop_without_check_uplink_ipv6_icmp_and_unknown_names) {
  FakeNames n;
  Record r{};
  r.kind = Kind::kDrop;
  r.family = 6;
  r.proto = 58;
  r.reason = static_cast<uint8_t>(core::DropReason::kTableFull);
  r.denied_check = logs::kNoCheck;
  inet_pton(AF_INET6, "2001:db8::10", r.src);
  inet_pton(AF_INET6, "2001:db8:1::5", r.dst);
  r.sport_be = htons(77);
  r.vm[0] = logs::kNoVm;  // from the uplink
  r.vm[1] = 9;            // an id no longer held
  r.checks = 2;
  r.rule[1] = 6;          // a rule of a generation whose labels are gone
  r.generation = 3;
  std::string line = logs::format_record(r, n, time_base());
  BOOST_TEST(line ==
             R"({"time":"2026-11-30T07:00:00.000Z","event":"drop","reason":"table-full","proto":"icmpv6",)"
             R"("src":"2001:db8::10","dst":"2001:db8:1::5","icmp_id":77,"src_vm":null,"dst_vm":null,"denied_by":null,)"
             R"("egress_rule":null,"ingress_rule":"generation 3 rule #5","generation":3})");
}

BOOST_AUTO_TEST_CASE(other_protocols_by_number_and_names_escaped) {
  FakeNames n;
  n.vms[1] = "we\"b\n";
  Record r = tcp_record(Kind::kAdmit);
  r.proto = 132;
  r.checks = 0;
  std::string line = logs::format_record(r, n, time_base());
  BOOST_TEST(line ==
             R"({"time":"2026-11-30T07:00:01.234Z","event":"admit","proto":132,"src":"10.0.0.10","dst":"10.0.1.10",)"
             R"("src_vm":"we\"b\u000a","dst_vm":"app-1","egress_rule":null,"ingress_rule":null,"generation":7})");
}

BOOST_AUTO_TEST_CASE(suppressed_summary_line) {
  BOOST_TEST(logs::format_suppressed(1796022001, 950) ==
             R"({"time":"2026-11-30T07:00:01.000Z","event":"suppressed","lines":950})");
}

BOOST_AUTO_TEST_CASE(rate_limit_per_second_exact) {
  logs::RateLimiter rl(50);
  std::optional<logs::RateLimiter::Window> closed;
  int written = 0;
  for (int i = 0; i < 1000; ++i) written += rl.admit(100, &closed);  // 1000 lines in second 100
  BOOST_TEST(written == 50);
  BOOST_TEST(!closed.has_value());
  BOOST_TEST(rl.suppressed_total() == 950u);
  // The next second: a fresh budget, and the summary of second 100.
  BOOST_TEST(rl.admit(101, &closed));
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(closed->second == 100);
  BOOST_TEST(closed->suppressed == 950u);
  closed.reset();
  for (int i = 0; i < 49; ++i) BOOST_TEST(rl.admit(101, &closed));
  BOOST_TEST(!rl.admit(101, &closed));
  // A late line of an earlier second counts in the current one.
  BOOST_TEST(!rl.admit(100, &closed));
  BOOST_TEST(!closed.has_value());
  // Time passes with no line: expire() reports the suppressed second once.
  BOOST_TEST(!rl.expire(101).has_value());
  auto w = rl.expire(105);
  BOOST_REQUIRE(w.has_value());
  BOOST_TEST(w->second == 101);
  BOOST_TEST(w->suppressed == 2u);
  BOOST_TEST(!rl.expire(106).has_value());
  BOOST_TEST(rl.suppressed_total() == 952u);
}

BOOST_AUTO_TEST_CASE(rate_limit_of_one_and_no_summary_without_suppression) {
  logs::RateLimiter rl(1);
  std::optional<logs::RateLimiter::Window> closed;
  BOOST_TEST(rl.admit(5, &closed));
  BOOST_TEST(rl.admit(6, &closed));
  BOOST_TEST(!closed.has_value());  // second 5 suppressed nothing
  BOOST_TEST(!rl.admit(6, &closed));
  BOOST_TEST(rl.admit(7, &closed));
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(closed->suppressed == 1u);
}
