// `sgfwctl explain` text handling (docs/public-interface.md): the tuple and --batch line parsers,
// every error they report, and the exact JSON and text renderings of a verdict.
#define BOOST_TEST_MODULE explain_text
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "config/policy_loader.hpp"
#include "explain/batch.hpp"
#include "explain/tuple_text.hpp"
#include "explain/verdict_format.hpp"
#include "policy/reference_matcher.hpp"

using namespace sgfw;
using policy::Check;
using policy::Direction;
using policy::PacketTuple;
using std::nullopt;

namespace {

uint32_t ip(std::string_view s) { return core::parse_ipv4(s)->value; }

std::string tuple_error(std::string_view proto, std::string_view src, std::string_view dst,
                        std::optional<int> type = nullopt, std::optional<int> code = nullopt) {
  auto t = explain::parse_tuple(proto, src, dst, type, code);
  return t ? std::string("<parsed>") : t.error().message;
}

std::string line_error(std::string_view line) {
  auto t = explain::parse_batch_line(line);
  return t ? std::string("<parsed>") : t.error().message;
}

PacketTuple parsed(std::string_view line) {
  auto t = explain::parse_batch_line(line);
  BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? std::string() : t.error().message));
  return *t;
}

const Check kWebEgress{"web-1", Direction::kEgress, true, "default-allow-egress/egress-all"};
const Check kAppIngress{"app-1", Direction::kIngress, true, "app-tier-sg/http-from-web"};
const Check kAppIngressDenied{"app-1", Direction::kIngress, false, ""};

}  // namespace

// ------------------------------------------------------------------ parse_tuple

BOOST_AUTO_TEST_CASE(parse_tuple_tcp_udp) {
  auto t = explain::parse_tuple("tcp", "10.0.0.1:1234", "10.0.0.2:80", nullopt, nullopt);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->proto == 6);
  BOOST_TEST(t->src.v4.value == ip("10.0.0.1"));
  BOOST_TEST(t->dst.v4.value == ip("10.0.0.2"));
  BOOST_TEST(t->sport == 1234);
  BOOST_TEST(t->dport == 80);

  t = explain::parse_tuple("udp", "10.0.0.1", "10.0.0.2:65535", nullopt, nullopt);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->proto == 17);
  BOOST_TEST(t->sport == 0);  // the source port is optional
  BOOST_TEST(t->dport == 65535);

  // A protocol number with ports is TCP/UDP too.
  t = explain::parse_tuple("6", "10.0.0.1", "10.0.0.2:22", nullopt, nullopt);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->proto == 6);
  BOOST_TEST(t->dport == 22);
}

BOOST_AUTO_TEST_CASE(parse_tuple_icmp_and_other_protocols) {
  auto t = explain::parse_tuple("icmp", "10.0.0.1", "10.0.0.2", nullopt, nullopt);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->proto == 1);
  BOOST_TEST(t->icmp_type == 8);  // an echo request by default
  BOOST_TEST(t->icmp_code == 0);
  BOOST_TEST(t->sport == 0);
  BOOST_TEST(t->dport == 0);

  t = explain::parse_tuple("icmp", "10.0.0.1", "10.0.0.2", 3, 4);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->icmp_type == 3);
  BOOST_TEST(t->icmp_code == 4);
  t = explain::parse_tuple("1", "10.0.0.1", "10.0.0.2", 0, nullopt);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->proto == 1);
  BOOST_TEST(t->icmp_type == 0);
  BOOST_TEST(t->icmp_code == 0);
  t = explain::parse_tuple("icmp", "10.0.0.1", "10.0.0.2", 255, 255);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->icmp_type == 255);
  BOOST_TEST(t->icmp_code == 255);

  for (int proto : {0, 4, 47, 132, 255}) {
    auto o = explain::parse_tuple(std::to_string(proto), "10.0.0.1", "10.0.0.2", nullopt, nullopt);
    BOOST_REQUIRE(o.has_value());
    BOOST_TEST(o->proto == proto);
    BOOST_TEST(o->dport == 0);
  }
}

BOOST_AUTO_TEST_CASE(parse_tuple_errors) {
  const std::string unknown = "': expected tcp, udp, icmp, icmpv6 or 0-255";
  for (std::string p : {"sctp", "256", "-1", "", "6a", "1000000"})
    BOOST_TEST(tuple_error(p, "10.0.0.1", "10.0.0.2:80") == "unknown protocol '" + p + unknown, p);

  BOOST_TEST(tuple_error("tcp", "10.0.0", "10.0.0.2:80") == "invalid source address '10.0.0'");
  BOOST_TEST(tuple_error("tcp", "host:80", "10.0.0.2:80") == "invalid source address 'host:80'");
  BOOST_TEST(tuple_error("tcp", "10.0.0.1:", "10.0.0.2:80") == "invalid source port in '10.0.0.1:'");
  BOOST_TEST(tuple_error("tcp", "10.0.0.1:65536", "10.0.0.2:80") ==
             "invalid source port in '10.0.0.1:65536'");
  BOOST_TEST(tuple_error("tcp", "10.0.0.1:x", "10.0.0.2:80") == "invalid source port in '10.0.0.1:x'");
  BOOST_TEST(tuple_error("tcp", "10.0.0.1", "10.0.0.256:80") ==
             "invalid destination address '10.0.0.256:80'");
  BOOST_TEST(tuple_error("tcp", "10.0.0.1", "10.0.0.2:80:81") ==
             "invalid destination port in '10.0.0.2:80:81'");
  BOOST_TEST(tuple_error("udp", "10.0.0.1", "10.0.0.2:-1") == "invalid destination port in '10.0.0.2:-1'");

  BOOST_TEST(tuple_error("tcp", "10.0.0.1:5", "10.0.0.2") ==
             "protocol tcp needs a destination port (DST:PORT)");
  BOOST_TEST(tuple_error("udp", "10.0.0.1", "10.0.0.2") ==
             "protocol udp needs a destination port (DST:PORT)");
  BOOST_TEST(tuple_error("icmp", "10.0.0.1", "10.0.0.2:7") == "protocol icmp has no ports");
  BOOST_TEST(tuple_error("icmp", "10.0.0.1:7", "10.0.0.2") == "protocol icmp has no ports");
  BOOST_TEST(tuple_error("132", "10.0.0.1", "10.0.0.2:9") == "protocol 132 has no ports");

  BOOST_TEST(tuple_error("icmp", "10.0.0.1", "10.0.0.2", 256, nullopt) ==
             "ICMP type out of range 0..255");
  BOOST_TEST(tuple_error("icmp", "10.0.0.1", "10.0.0.2", -1, nullopt) ==
             "ICMP type out of range 0..255");
  BOOST_TEST(tuple_error("icmp", "10.0.0.1", "10.0.0.2", 3, 256) == "ICMP code out of range 0..255");
  BOOST_TEST(tuple_error("icmp", "10.0.0.1", "10.0.0.2", nullopt, -5) ==
             "ICMP code out of range 0..255");
  BOOST_TEST(tuple_error("tcp", "10.0.0.1", "10.0.0.2:80", 3, nullopt) ==
             "ICMP type/code given for a non-ICMP protocol");
  BOOST_TEST(tuple_error("4", "10.0.0.1", "10.0.0.2", nullopt, 0) ==
             "ICMP type/code given for a non-ICMP protocol");
}

// ------------------------------------------------------------- parse_batch_line

BOOST_AUTO_TEST_CASE(batch_lines) {
  PacketTuple t = parsed("tcp 10.0.0.1:1234 10.0.0.2:80");
  BOOST_TEST(t.proto == 6);
  BOOST_TEST(t.sport == 1234);
  BOOST_TEST(t.dport == 80);
  BOOST_TEST(t.dst.v4.value == ip("10.0.0.2"));

  // Spaces, tabs and a trailing CR (a file from Windows) separate tokens.
  t = parsed("  icmp\t10.0.0.1   10.0.0.2 3/1 \r");
  BOOST_TEST(t.proto == 1);
  BOOST_TEST(t.icmp_type == 3);
  BOOST_TEST(t.icmp_code == 1);
  t = parsed("icmp 10.0.0.1 10.0.0.2 0");  // TYPE alone: code 0
  BOOST_TEST(t.icmp_type == 0);
  BOOST_TEST(t.icmp_code == 0);
  t = parsed("icmp 10.0.0.1 10.0.0.2");
  BOOST_TEST(t.icmp_type == 8);
  BOOST_TEST(t.icmp_code == 0);
  t = parsed("132 10.0.0.1 10.0.0.2\r");
  BOOST_TEST(t.proto == 132);
}

BOOST_AUTO_TEST_CASE(batch_line_errors) {
  const std::string shape = "expected 'PROTO SRC[:PORT] DST[:PORT] [TYPE/CODE]'";
  for (std::string l : {"", "   ", "tcp", "tcp 10.0.0.1", "icmp 10.0.0.1 10.0.0.2 3/1 extra"})
    BOOST_TEST(line_error(l) == shape, "'" << l << "'");
  for (std::string tc : {"3/", "/1", "x/1", "3/y", "256/0", "0/256", "3/1/2", "-1/0"})
    BOOST_TEST(line_error("icmp 10.0.0.1 10.0.0.2 " + tc) == "invalid ICMP TYPE/CODE '" + tc + "'", tc);
  // Errors of the tuple itself come through unchanged.
  BOOST_TEST(line_error("tcp 10.0.0.1 10.0.0.2:80 3/1") == "ICMP type/code given for a non-ICMP protocol");
  BOOST_TEST(line_error("sctp 10.0.0.1 10.0.0.2") ==
             "unknown protocol 'sctp': expected tcp, udp, icmp, icmpv6 or 0-255");
  BOOST_TEST(line_error("tcp 10.0.0.1 10.0.0.2") == "protocol tcp needs a destination port (DST:PORT)");
  BOOST_TEST(line_error("udp 10.0.0.x 10.0.0.2:53") == "invalid source address '10.0.0.x'");
}

// ---------------------------------------------------------------- verdict_format

BOOST_AUTO_TEST_CASE(json_allow_matches_the_interfaces_example) {
  auto v = policy::combine_checks({kWebEgress, kAppIngress});
  const std::string expected =
      R"({"verdict":"allow","checks":[)"
      R"({"vm":"web-1","direction":"egress","verdict":"allow","rule":"default-allow-egress/egress-all"},)"
      R"({"vm":"app-1","direction":"ingress","verdict":"allow","rule":"app-tier-sg/http-from-web"}]})";
  BOOST_TEST(explain::to_json(v) == expected);
  // The same object as the (pretty-printed) example of docs/public-interface.md.
  auto doc = nlohmann::json::parse(R"({"verdict": "allow",
 "checks": [
   {"vm": "web-1", "direction": "egress",  "verdict": "allow", "rule": "default-allow-egress/egress-all"},
   {"vm": "app-1", "direction": "ingress", "verdict": "allow", "rule": "app-tier-sg/http-from-web"}]})");
  BOOST_TEST(nlohmann::json::parse(explain::to_json(v)) == doc);
}

BOOST_AUTO_TEST_CASE(json_deny_has_reason_and_null_rule) {
  auto v = policy::combine_checks({kWebEgress, kAppIngressDenied});
  BOOST_TEST(explain::to_json(v) ==
             R"({"verdict":"deny","reason":"no-rule","checks":[)"
             R"({"vm":"web-1","direction":"egress","verdict":"allow","rule":"default-allow-egress/egress-all"},)"
             R"({"vm":"app-1","direction":"ingress","verdict":"deny","rule":null}]})");
  // A denying egress check first: the ingress check is still listed.
  Check egress_denied{"web-1", Direction::kEgress, false, ""};
  v = policy::combine_checks({egress_denied, kAppIngress});
  BOOST_TEST(explain::to_json(v) ==
             R"({"verdict":"deny","reason":"no-rule","checks":[)"
             R"({"vm":"web-1","direction":"egress","verdict":"deny","rule":null},)"
             R"({"vm":"app-1","direction":"ingress","verdict":"allow","rule":"app-tier-sg/http-from-web"}]})");
  BOOST_TEST(explain::to_json(policy::combine_checks({})) ==
             R"({"verdict":"deny","reason":"not-local","checks":[]})");
  // Only a deny has a reason.
  BOOST_TEST(explain::to_json(policy::combine_checks({kAppIngress})).find("reason") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(text_rendering) {
  BOOST_TEST(explain::to_text(policy::combine_checks({kWebEgress, kAppIngress})) ==
             "verdict: allow\n"
             "  egress  check of web-1: allow, rule: default-allow-egress/egress-all\n"
             "  ingress check of app-1: allow, rule: app-tier-sg/http-from-web\n");
  BOOST_TEST(explain::to_text(policy::combine_checks({kWebEgress, kAppIngressDenied})) ==
             "verdict: deny (no-rule)\n"
             "  egress  check of web-1: allow, rule: default-allow-egress/egress-all\n"
             "  ingress check of app-1: deny, no rule of its security groups allows it\n");
  BOOST_TEST(explain::to_text(policy::combine_checks({})) ==
             "verdict: deny (not-local)\n"
             "  neither end is a local VM: nothing enforced here would forward it\n");
  // The live form renders the daemon's JSON the same way.
  auto v = policy::combine_checks({kWebEgress, kAppIngressDenied});
  BOOST_TEST(explain::text_of_json(explain::to_json(v)) == explain::to_text(v));
  BOOST_TEST(explain::to_text(v).find("null") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(error_json_escapes) {
  BOOST_TEST(explain::error_json("invalid source address 'x'") ==
             R"({"error":"invalid source address 'x'"})");
  BOOST_TEST(explain::error_json("a \"quoted\" \\ word\n") ==
             R"({"error":"a \"quoted\" \\ word\n"})");
}

BOOST_AUTO_TEST_CASE(batch_line_through_the_reference_matcher_gives_the_example) {
  // The docs/public-interface.md example, end to end on the docs/enforcement.md policy: web-1 keeps
  // default-allow-egress explicitly, so its egress is decided by it.
  auto p = config::load_policy_text(R"(
securityGroups:
  - name: web-tier-sg
  - name: app-tier-sg
    rules:
      - name: http-from-web
        direction: Ingress
        protocol: TCP
        port: 8080
        remote: {securityGroupRef: {name: web-tier-sg}}
vms:
  - {name: web-1, port: vm-web1, mac: 02:00:00:00:01:01, ips: [10.0.0.10],
     securityGroups: [web-tier-sg, default-allow-egress]}
  - {name: app-1, port: vm-app1, mac: 02:00:00:00:01:0a, ips: [10.0.1.10], securityGroups: [app-tier-sg]}
)", "t.yaml");
  BOOST_REQUIRE(p.has_value());
  auto allow = policy::reference_verdict(*p, parsed("tcp 10.0.0.10:40000 10.0.1.10:8080"));
  BOOST_TEST(explain::to_json(allow) == explain::to_json(policy::combine_checks({kWebEgress, kAppIngress})));
  auto deny = policy::reference_verdict(*p, parsed("tcp 10.0.0.10 10.0.1.10:8081"));
  BOOST_TEST(explain::to_json(deny) ==
             explain::to_json(policy::combine_checks({kWebEgress, kAppIngressDenied})));
  auto none = policy::reference_verdict(*p, parsed("icmp 8.8.8.8 1.1.1.1 0/0"));
  BOOST_TEST(explain::to_json(none) == R"({"verdict":"deny","reason":"not-local","checks":[]})");
}

// ------------------------------------------- batch input, VM names, TYPE/CODE (issue 16)

BOOST_AUTO_TEST_CASE(batch_skips_blank_and_comment_lines_and_keeps_line_numbers) {
  std::istringstream in("# header\n\n   \ntcp 10.0.0.1 10.0.0.2:80\n  # indented comment\nbogus\n");
  auto lines = explain::read_batch(in);
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST(lines[0].number == 4u);
  BOOST_TEST(lines[1].number == 6u);
  BOOST_TEST(lines[1].text == "bogus");
  auto err = nlohmann::json::parse(explain::batch_error_json(lines[1], "expected X"));
  BOOST_TEST(err["line"] == 6);
  BOOST_TEST(err["input"] == "bogus");
  BOOST_TEST(err["error"] == "line 6: expected X (input: 'bogus')");
}

BOOST_AUTO_TEST_CASE(vm_names_where_an_address_is_expected) {
  auto p = config::load_policy_text(R"(
vms:
  - {name: web-1, port: vm-web1, mac: 02:00:00:00:01:01, ips: [10.0.0.10, 10.0.0.11]}
  - {name: db-1, ips: [10.0.2.10]}
)", "t.yaml");
  BOOST_REQUIRE(p.has_value());
  auto names = explain::vm_name_resolver(*p);
  auto t = explain::parse_tuple("tcp", "web-1:40000", "db-1:5432", nullopt, nullopt, names);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->src.v4.value == ip("10.0.0.10"));
  BOOST_TEST(t->sport == 40000);
  BOOST_TEST(t->dst.v4.value == ip("10.0.2.10"));
  auto b = explain::parse_batch_line("icmp web-1 db-1 3/4", names);
  BOOST_REQUIRE(b.has_value());
  BOOST_TEST(b->icmp_type == 3);
  BOOST_TEST(b->icmp_code == 4);
  auto unknown = explain::parse_tuple("tcp", "nope-1", "db-1:80", nullopt, nullopt, names);
  BOOST_REQUIRE(!unknown.has_value());
  BOOST_TEST(unknown.error().message ==
             "unknown VM 'nope-1' as source: give a VM name of the policy or an IP address");
  // Without a resolver a name is an invalid address, as before.
  BOOST_TEST(tuple_error("tcp", "web-1", "10.0.0.2:80") == "invalid source address 'web-1'");
}

BOOST_AUTO_TEST_CASE(type_code_text) {
  auto tc = explain::parse_type_code("3/4");
  BOOST_REQUIRE(tc.has_value());
  BOOST_TEST(tc->first == 3);
  BOOST_TEST(tc->second == 4);
  BOOST_TEST(explain::parse_type_code("0")->second == 0);
  BOOST_TEST(!explain::parse_type_code("3/x").has_value());
  BOOST_TEST(explain::is_blank_or_comment(" \t# x"));
  BOOST_TEST(!explain::is_blank_or_comment("tcp # x"));
}

// ------------------------------------------------------------------------- IPv6

BOOST_AUTO_TEST_CASE(ipv6_tuples_in_brackets_with_ports_bare_without) {
  auto t = parsed("tcp [2001:db8::10]:40000 [2001:db8:1::5]:443");
  BOOST_TEST(t.src.is_v6());
  BOOST_TEST(core::to_string(t.src) == "2001:db8::10");
  BOOST_TEST(core::to_string(t.dst) == "2001:db8:1::5");
  BOOST_TEST(t.sport == 40000);
  BOOST_TEST(t.dport == 443);
  // Non-canonical text is the same address.
  t = parsed("udp 2001:0db8:0:0::10 [2001:0DB8:1:0::5]:53");
  BOOST_TEST(core::to_string(t.src) == "2001:db8::10");
  BOOST_TEST(core::to_string(t.dst) == "2001:db8:1::5");
  BOOST_TEST(t.sport == 0);
  // icmp means ICMPv6 (58) for IPv6; the default is an echo request (128/0).
  t = parsed("icmp 2001:db8::10 2001:db8:1::5");
  BOOST_TEST(t.proto == 58);
  BOOST_TEST(t.icmp_type == 128);
  BOOST_TEST(t.icmp_code == 0);
  t = parsed("ICMPv6 [2001:db8::10] [::1] 1/4");
  BOOST_TEST(t.proto == 58);
  BOOST_TEST(t.icmp_type == 1);
  BOOST_TEST(t.icmp_code == 4);
  t = parsed("58 :: ::1 135/0");
  BOOST_TEST(t.icmp_type == 135);
  // IPv4 keeps ICMP 1 and 8/0.
  t = parsed("icmp 10.0.0.1 10.0.0.2");
  BOOST_TEST(t.proto == 1);
  BOOST_TEST(t.icmp_type == 8);
  t = parsed("4 ::ffff:10.0.0.1 2001:db8::1");
  BOOST_TEST(t.src.is_v6());
}

BOOST_AUTO_TEST_CASE(ipv6_tuple_errors) {
  BOOST_TEST(line_error("tcp [2001:db8::10]:40000 10.0.0.2:443") ==
             "source [2001:db8::10]:40000 is IPv6 and destination 10.0.0.2:443 is IPv4: give two addresses of one family");
  BOOST_TEST(line_error("icmp 10.0.0.1 2001:db8::1") ==
             "source 10.0.0.1 is IPv4 and destination 2001:db8::1 is IPv6: give two addresses of one family");
  BOOST_TEST(line_error("icmpv6 10.0.0.1 10.0.0.2") == "protocol icmpv6 needs IPv6 addresses");
  BOOST_TEST(line_error("tcp 2001:db8::10 2001:db8::1") == "protocol tcp needs a destination port (DST:PORT)");
  BOOST_TEST(line_error("icmp [2001:db8::10]:5 2001:db8::1") == "protocol icmp has no ports");
  BOOST_TEST(line_error("1 2001:db8::10 2001:db8::1 3/0") == "ICMP type/code given for a non-ICMP protocol");
  BOOST_TEST(line_error("tcp [2001:db8::10 [::1]:80") == "invalid source address '[2001:db8::10'");
  BOOST_TEST(line_error("tcp [2001:db8::10]x [::1]:80") == "invalid source address '[2001:db8::10]x'");
  BOOST_TEST(line_error("tcp [10.0.0.1]:5 [::1]:80") == "invalid source address '[10.0.0.1]:5'");
  BOOST_TEST(line_error("tcp [::1]:5 [::1]:65536") == "invalid destination port in '[::1]:65536'");
  BOOST_TEST(line_error("tcp [::1]:5 [fe80::1%eth0]:80") == "invalid destination address '[fe80::1%eth0]:80'");
  BOOST_TEST(line_error("tcp [::1]:5 2001:db8::g") == "invalid destination address '2001:db8::g'");
}

BOOST_AUTO_TEST_CASE(vm_names_resolve_to_an_address_of_the_tuple_family) {
  auto p = config::load_policy_text(R"(
vms:
  - {name: dual, ips: ["2001:db8::1", 10.0.0.1]}
  - {name: v6, ips: ["2001:db8::2"]}
  - {name: v4, ips: [10.0.0.4]}
)", "t.yaml");
  BOOST_REQUIRE(p.has_value());
  auto names = explain::vm_name_resolver(*p);
  auto t = explain::parse_batch_line("tcp dual [2001:db8::9]:80", names);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(core::to_string(t->src) == "2001:db8::1");
  t = explain::parse_batch_line("tcp dual v4:80", names);  // names only: IPv4 first
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(core::to_string(t->src) == "10.0.0.1");
  t = explain::parse_batch_line("tcp v6 dual:80", names);  // the first name's family
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(core::to_string(t->dst) == "2001:db8::1");
  auto bad = explain::parse_batch_line("tcp v6 v4:80", names);
  BOOST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().message == "VM 'v4' (destination) has no IPv6 address");
  bad = explain::parse_batch_line("tcp v4 [2001:db8::9]:80", names);
  BOOST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().message == "VM 'v4' (source) has no IPv6 address");
}

BOOST_AUTO_TEST_CASE(ambiguous_verdict_renders_its_vms) {
  policy::Verdict v;
  v.reason = std::string(policy::kReasonAmbiguous);
  v.ambiguous_vms = {"lb-a", "lb-b"};
  BOOST_TEST(explain::to_json(v) ==
             R"({"verdict":"deny","reason":"ambiguous-address","ambiguous_vms":["lb-a","lb-b"],"checks":[]})");
  BOOST_TEST(explain::to_text(v) ==
             "verdict: deny (ambiguous-address)\n"
             "  an address of the packet belongs to several local VMs (lb-a, lb-b): give the MAC that tells them apart\n");
}
