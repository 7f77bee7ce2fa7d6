#define BOOST_TEST_MODULE policy_tables
#include <boost/test/unit_test.hpp>

#include "acl/policy_tables.hpp"
#include "compiler/compiler.hpp"
#include "config/policy_loader.hpp"
#include "eal_fixture.hpp"
#include "explain/tuple_text.hpp"

BOOST_TEST_GLOBAL_FIXTURE(EalFixture);

using namespace sgfw;

namespace {

const char* kPolicy = R"(
securityGroups:
  - name: web
    rules:
      - {name: https, direction: Ingress, protocol: TCP, port: 443, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: peers, direction: Ingress, protocol: All, remote: {securityGroupRef: {name: web}}}
vms:
  - {name: a, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1], securityGroups: [web]}
  - {name: b, port: p1, mac: "02:00:00:00:00:02", ips: [10.0.0.2], securityGroups: [web]}
  - {name: c, port: p2, mac: "02:00:00:00:00:03", ips: [10.0.0.3]}
  - {name: far, ips: [10.9.0.1], securityGroups: [web]}
)";

policy::PacketTuple tuple(const char* line) { return *explain::parse_batch_line(line); }

}  // namespace

BOOST_AUTO_TEST_CASE(judge_runs_the_compiled_contexts) {
  auto p = config::load_policy_text(kPolicy, "t.yaml");
  BOOST_REQUIRE(p);
  auto t = acl::PolicyTables::build(compiler::compile(*p), {});
  BOOST_REQUIRE(t);
  // a and b share one ingress image; both have no egress rules (kNoContext).
  BOOST_TEST(t->compiled().vms.size() == 3u);
  BOOST_TEST(t->compiled().vms[0].ingress_context == t->compiled().vms[1].ingress_context);
  BOOST_TEST(t->compiled().vms[0].egress_context == compiler::kNoContext);

  policy::Verdict v = *t->judge(tuple("tcp 203.0.113.7:40000 10.0.0.1:443"));
  BOOST_TEST(v.allow);
  BOOST_TEST(v.checks.at(0).rule == "web/https");
  // Member hosted elsewhere reaches a over the group reference, any protocol.
  v = *t->judge(tuple("132 10.9.0.1 10.0.0.1"));
  BOOST_TEST(v.allow);
  BOOST_TEST(v.checks.at(0).rule == "web/peers");
  // a -> b: a has no egress rule, so the egress check denies even though b admits it.
  v = *t->judge(tuple("tcp 10.0.0.1:1 10.0.0.2:443"));
  BOOST_TEST(!v.allow);
  BOOST_TEST(v.reason == "no-rule");
  BOOST_TEST(v.checks.size() == 2u);
  BOOST_TEST(!v.checks[0].allow);
  BOOST_TEST(v.checks[1].allow);
  // c (no groups) may send anywhere, but is not a member of web.
  v = *t->judge(tuple("udp 10.0.0.3:5 10.0.0.1:53"));
  BOOST_TEST(!v.allow);
  BOOST_TEST(v.checks[0].rule == "default-allow-egress/egress-all");
  v = *t->judge(tuple("udp 1.1.1.1:5 2.2.2.2:53"));
  BOOST_TEST(v.reason == "not-local");
}

// The IPv6 tables (docs/design/rule-compilation.md, "IPv6 tables"): judged through
// their own contexts and address table, with ICMP as ICMPv6 and family-bound remotes.
BOOST_AUTO_TEST_CASE(judge_runs_the_ipv6_contexts) {
  auto p = config::load_policy_text(R"(
securityGroups:
  - name: web
    rules:
      - {name: https, direction: Ingress, protocol: TCP, port: 443, remote: {address: {IPAddressOrCIDR: "2001:db8:f::/48"}}}
      - {name: ping, direction: Ingress, protocol: ICMP, remote: {address: {IPAddressOrCIDR: "::/0"}}}
      - {name: v4-only, direction: Ingress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: peers, direction: Ingress, protocol: All, remote: {securityGroupRef: {name: web}}}
vms:
  - {name: a, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1, "2001:db8::1"], securityGroups: [web]}
  - {name: b, port: p1, mac: "02:00:00:00:00:02", ips: ["2001:db8::2"]}
  - {name: far, ips: ["2001:db8:9::9"], securityGroups: [web]}
)", "t.yaml");
  BOOST_REQUIRE(p);
  auto t = acl::PolicyTables::build(compiler::compile(*p), {});
  BOOST_REQUIRE(t);
  BOOST_TEST(t->compiled().images6.size() >= 1u);
  auto judge = [&](const char* line) {
    auto v = t->judge(tuple(line));
    BOOST_REQUIRE_MESSAGE(v, line);
    std::string s = v->allow ? "allow" : "deny " + v->reason;
    for (const auto& c : v->checks) s += " [" + c.vm + " " + (c.allow ? c.rule : "deny") + "]";
    return s;
  };
  BOOST_TEST(judge("tcp [2001:db8:f::7]:40000 [2001:db8::1]:443") == "allow [a web/https]");
  BOOST_TEST(judge("tcp [2001:db8:e::7]:40000 [2001:db8::1]:443") == "deny no-rule [a deny]");
  BOOST_TEST(judge("icmp 2001:db8:e::7 2001:db8::1") == "allow [a web/ping]");
  BOOST_TEST(judge("1 2001:db8:e::7 2001:db8::1") == "deny no-rule [a deny]");
  BOOST_TEST(judge("udp [2001:db8:e::7]:1 [2001:db8::1]:53") == "deny no-rule [a deny]");
  BOOST_TEST(judge("udp 10.9.9.9:1 10.0.0.1:53") == "allow [a web/v4-only]");
  BOOST_TEST(judge("132 2001:db8:9::9 2001:db8::1") == "allow [a web/peers]");  // group member, IPv6
  // b (no groups) sends anywhere over the IPv6 twin of egress-all; a admits it only by rule.
  BOOST_TEST(judge("tcp [2001:db8::2]:1 [2001:db8:f::1]:443") == "allow [b default-allow-egress/egress-all-ipv6]");
  BOOST_TEST(judge("tcp [2001:db8::2]:1 [2001:db8::1]:80") ==
             "deny no-rule [b default-allow-egress/egress-all-ipv6] [a deny]");
  BOOST_TEST(judge("tcp [2001:db8:1::1]:1 [2001:db8:1::2]:80") == "deny not-local");
}

BOOST_AUTO_TEST_CASE(memory_cap_fails_the_build_cleanly) {
  auto p = config::load_policy_text(kPolicy, "t.yaml");
  BOOST_REQUIRE(p);
  acl::BuildOptions tiny;
  tiny.max_size = 64;  // bytes: far below any trie
  auto t = acl::PolicyTables::build(compiler::compile(*p), tiny);
  BOOST_REQUIRE(!t);
  BOOST_TEST(t.error().message.find("-ERANGE") != std::string::npos, t.error().message);
  // A later build with no cap still works (names are unique per build).
  auto ok = acl::PolicyTables::build(compiler::compile(*p), {});
  BOOST_TEST(ok.has_value());
}

BOOST_AUTO_TEST_CASE(context_names_are_unique_per_build) {
  auto p = config::load_policy_text(kPolicy, "t.yaml");
  BOOST_REQUIRE(p);
  auto a = acl::PolicyTables::build(compiler::compile(*p), {});
  auto b = acl::PolicyTables::build(compiler::compile(*p), {});
  BOOST_REQUIRE(a);
  BOOST_REQUIRE(b);
  BOOST_TEST(a->context(0)->raw() != b->context(0)->raw());
}
