// Differential test: random policies and packets, the compiled rte_acl path (single
// packets through PolicyTables::judge and bursts of random size straight through the
// contexts) against the reference matcher, for every classify method this CPU
// supports. Zero mismatches is the only pass.
#define BOOST_TEST_MODULE acl_differential
#include <boost/test/unit_test.hpp>

#include <rte_byteorder.h>

#include <random>
#include <set>
#include <string>
#include <sstream>

#include "acl/policy_tables.hpp"
#include "compiler/compiler.hpp"
#include "eal_fixture.hpp"
#include "policy/link_services.hpp"
#include "policy/reference_matcher.hpp"
#include "random_policy.hpp"

BOOST_TEST_GLOBAL_FIXTURE(EalFixture);

using namespace sgfw;

namespace {

constexpr int kPolicies = 200;
constexpr int kPacketsPerPolicy = 2500;
// IPv6 addresses, remotes and pairs are in the policies (the compiler must leave them
// out of the IPv4 images); IPv4 pairs are not: the packet path finds a pair address's
// owner by the frame's MAC, which the compiled tables and the reference matcher do not
// model (docs/design/rule-compilation.md). The packets are IPv4.
const testing::RandomPolicyOptions kIpv4Comparable{.ipv6 = true, .ipv4_pairs = false, .ipv6_pairs = true};

std::string describe(const policy::PacketTuple& t) {
  std::ostringstream s;
  s << int(t.proto) << " " << core::to_string(t.src) << ":" << t.sport << " -> "
    << core::to_string(t.dst) << ":" << t.dport;
  return s.str();
}

std::string describe(const policy::Verdict& v) {
  std::ostringstream s;
  s << (v.allow ? "allow" : "deny/" + v.reason);
  for (const auto& c : v.checks)
    s << " [" << c.vm << " " << policy::to_string(c.direction) << " " << (c.allow ? c.rule : "deny") << "]";
  return s.str();
}

// The deciding rule id + 1 (or 0) per check of every packet, computed through bursts
// of random size (1..64) per context, as the data plane groups them.
struct CheckJob {
  size_t packet;
  uint32_t image;
  acl::AclKey key;
  uint32_t result = 0;
};

std::vector<CheckJob> burst_results(const acl::PolicyTables& t,
                                    const std::vector<policy::PacketTuple>& pkts,
                                    std::mt19937_64& rng) {
  std::vector<CheckJob> jobs;
  for (size_t i = 0; i < pkts.size(); ++i) {
    acl::CheckPlan plan = t.plan(pkts[i]);
    for (uint8_t d : {acl::kEgressCheck, acl::kIngressCheck})
      if (plan.needed[d]) jobs.push_back({i, plan.context[d], plan.key[d]});
  }
  // Group by image, then classify each group in random-size bursts.
  std::vector<size_t> order(jobs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return jobs[a].image < jobs[b].image; });
  size_t i = 0;
  while (i < order.size()) {
    uint32_t image = jobs[order[i]].image;
    size_t n = std::min<size_t>(1 + rng() % 64, order.size() - i);
    size_t k = 0;
    const uint8_t* data[64];
    uint32_t results[64];
    while (k < n && jobs[order[i + k]].image == image) {
      data[k] = reinterpret_cast<const uint8_t*>(&jobs[order[i + k]].key);
      ++k;
    }
    if (const auto* ctx = t.context(image)) {
      BOOST_REQUIRE_EQUAL(ctx->classify(data, results, static_cast<uint32_t>(k)), 0);
    } else {
      for (size_t j = 0; j < k; ++j) results[j] = acl::kNoMatch;
    }
    for (size_t j = 0; j < k; ++j) jobs[order[i + j]].result = results[j];
    i += k;
  }
  return jobs;
}

}  // namespace

// Incremental builds (what reload and set-groups do): a policy, then a chain of
// membership changes each compiled against the previous compilation and sharing its
// unchanged contexts, must judge exactly like a fresh reference.
BOOST_AUTO_TEST_CASE(incremental_builds_agree_with_reference_matcher) {
  std::mt19937_64 rng(7);
  size_t mismatches = 0, packets = 0, shared = 0, total = 0;
  for (int n = 0; n < 60; ++n) {
    policy::Policy pol = testing::random_policy(rng, kIpv4Comparable);
    auto prev = acl::PolicyTables::build(compiler::compile(pol), {});
    BOOST_REQUIRE(prev);
    for (int step = 0; step < 5; ++step) {
      if (pol.vms.empty()) break;
      // Move one VM to a random set of existing groups (possibly none).
      auto& vm = pol.vms[rng() % pol.vms.size()];
      vm.groups.clear();
      for (const auto& g : pol.groups)
        if (rng() % 3 == 0) vm.groups.push_back(g.name);
      auto next = acl::PolicyTables::build(compiler::compile(pol, &prev->compiled()), {}, &*prev);
      BOOST_REQUIRE_MESSAGE(next, (next ? "" : next.error().message));
      total += next->context_count();
      shared += next->context_count() - next->contexts_built();
      for (int k = 0; k < 500; ++k) {
        auto pkt = testing::random_packet(rng, pol);
        auto want = policy::reference_verdict(pol, pkt);
        auto judged = next->judge(pkt);
        BOOST_REQUIRE(judged);
        const policy::Verdict& got = *judged;
        ++packets;
        if (got != want && ++mismatches <= 10)
          BOOST_ERROR("incremental policy " << n << " step " << step << " packet " << describe(pkt) << ": got "
                                           << describe(got) << ", reference " << describe(want));
      }
      prev = std::move(next);
    }
  }
  BOOST_TEST_MESSAGE(packets << " packets after incremental builds; " << shared << " of " << total
                             << " contexts shared with the previous build");
  BOOST_TEST(shared > 0u);  // reuse happens, or this test would not test it
  BOOST_TEST(mismatches == 0u);
}

namespace {

using Methods = std::vector<std::pair<acl::ClassifyAlg, const char*>>;

// The classify methods this CPU supports (set on `tables`, which it leaves on the last).
Methods supported_methods(acl::PolicyTables& tables) {
  Methods methods;
  for (size_t a = 0; a < acl::kAlgorithmCount; ++a)
    if (tables.set_algorithm(acl::kAlgorithms[a].alg) == 0)
      methods.emplace_back(acl::kAlgorithms[a].alg, acl::kAlgorithms[a].name);
  std::string names;
  for (auto& m : methods) names += std::string(" ") + m.second;
  BOOST_TEST_MESSAGE("classify methods supported here:" << names);
  BOOST_REQUIRE(!methods.empty());
  return methods;
}

// Judges `pkts` with every method, one at a time and in bursts, against `expected` (the
// reference's verdicts); reports the first mismatches under `label`, returns how many.
size_t compare(acl::PolicyTables& tables, const Methods& methods, const std::vector<policy::PacketTuple>& pkts,
               const std::vector<policy::Verdict>& expected, std::mt19937_64& rng, const std::string& label,
               size_t reported) {
  size_t mismatches = 0;
  for (auto [alg, name] : methods) {
    BOOST_REQUIRE_EQUAL(tables.set_algorithm(alg), 0);
    for (size_t k = 0; k < pkts.size(); ++k) {
      policy::Verdict got = *tables.judge(pkts[k]);  // IPv4: always a verdict
      if (got != expected[k] && reported + ++mismatches <= 10)
        BOOST_ERROR(name << " " << label << " packet " << describe(pkts[k]) << ": got " << describe(got)
                         << ", reference " << describe(expected[k]));
    }
    // Bursts: each check's rule must equal the single-packet answer.
    auto jobs = burst_results(tables, pkts, rng);
    std::vector<size_t> next(pkts.size(), 0);
    for (const auto& j : jobs) {
      // Dropped before any rule (a VM's DHCP server traffic): no check to compare.
      if (expected[j.packet].reason == policy::kDhcpServerFromVm) continue;
      const auto& c = expected[j.packet].checks.at(next[j.packet]++);
      std::string got = j.result == acl::kNoMatch ? "" : tables.compiled().rules[j.result - 1].label();
      if (got != c.rule && reported + ++mismatches <= 10)
        BOOST_ERROR(name << " burst, " << label << " packet " << describe(pkts[j.packet]) << ": got '" << got
                         << "', reference '" << c.rule << "'");
    }
  }
  return mismatches;
}

}  // namespace

BOOST_AUTO_TEST_CASE(compiled_acl_agrees_with_reference_matcher) {
  std::mt19937_64 rng(20261126);
  Methods methods;
  size_t mismatches = 0, packets = 0, allowed = 0, checks_with_rule = 0;

  for (int n = 0; n < kPolicies; ++n) {
    policy::Policy pol = testing::random_policy(rng, kIpv4Comparable);
    auto tables = acl::PolicyTables::build(compiler::compile(pol), {});
    BOOST_REQUIRE_MESSAGE(tables, (tables ? "" : tables.error().message));
    if (methods.empty()) methods = supported_methods(*tables);
    std::vector<policy::PacketTuple> pkts;
    std::vector<policy::Verdict> expected;
    for (int k = 0; k < kPacketsPerPolicy; ++k) {
      pkts.push_back(testing::random_packet(rng, pol));
      expected.push_back(policy::reference_verdict(pol, pkts.back()));
      allowed += expected.back().allow;
      for (const auto& c : expected.back().checks) checks_with_rule += c.allow;
    }
    packets += pkts.size();
    mismatches += compare(*tables, methods, pkts, expected, rng, "policy " + std::to_string(n), mismatches);
  }
  BOOST_TEST_MESSAGE(packets << " packets x " << methods.size() << " methods, " << allowed
                             << " allowed, " << checks_with_rule << " checks decided by a rule");
  BOOST_TEST(packets >= 500000u);
  // The generator must exercise both outcomes, or agreement means little.
  BOOST_TEST(allowed > packets / 20);
  BOOST_TEST(allowed < packets - packets / 20);
  BOOST_TEST(mismatches == 0u);
}

// The same at sizes the random policies above never reach (catalogue L07): one group
// of 1,000 rules and one of 4,096 (a group's limit), 10 groups of 100, 64 of 16, of
// narrow rules (so that most of them decide something). Half of the packets sit on a
// rule's edges (ports and addresses at and next to its range's ends: edge_packet),
// where a wrong split of overlapping ranges in the compiled tries would show.
BOOST_AUTO_TEST_CASE(compiled_acl_agrees_at_scale) {
  std::mt19937_64 rng(20261202);
  struct Shape {
    uint32_t groups, rules;
  };
  Methods methods;
  size_t mismatches = 0, packets = 0, allowed = 0, rules_seen = 0;
  for (const Shape shape : {Shape{1, 1000}, Shape{1, 4096}, Shape{10, 100}, Shape{64, 16}}) {
    testing::RandomPolicyOptions o = kIpv4Comparable;
    o.groups = shape.groups;
    o.rules_per_group = shape.rules;
    o.narrow_rules = true;
    o.member_chance = 0.8;
    policy::Policy pol = testing::random_policy(rng, o);
    auto tables = acl::PolicyTables::build(compiler::compile(pol), {});
    BOOST_REQUIRE_MESSAGE(tables, (tables ? "" : tables.error().message));
    if (methods.empty()) methods = supported_methods(*tables);
    std::vector<policy::PacketTuple> pkts;
    std::vector<policy::Verdict> expected;
    std::set<std::string> deciding;
    for (int k = 0; k < 20000; ++k) {
      pkts.push_back(k % 2 ? testing::edge_packet(rng, pol) : testing::random_packet(rng, pol));
      expected.push_back(policy::reference_verdict(pol, pkts.back()));
      allowed += expected.back().allow;
      for (const auto& c : expected.back().checks)
        if (c.allow) deciding.insert(c.vm + " " + c.rule);
    }
    packets += pkts.size();
    rules_seen += deciding.size();
    const std::string label = std::to_string(shape.groups) + "x" + std::to_string(shape.rules);
    BOOST_TEST_MESSAGE(label << ": " << deciding.size() << " distinct deciding rules");
    mismatches += compare(*tables, methods, pkts, expected, rng, label, mismatches);
  }
  BOOST_TEST(packets == 80000u);
  BOOST_TEST(allowed > packets / 20);
  BOOST_TEST(allowed < packets - packets / 20);
  BOOST_TEST(rules_seen > 2000u);  // many rules decide, not a few broad ones
  BOOST_TEST(mismatches == 0u);
}

// The IPv6 tables (docs/design/rule-compilation.md, "IPv6 tables") against the reference
// matcher: IPv6 packets through PolicyTables::judge and in bursts through the IPv6
// contexts, for every classify method. Policies without pairs (found by MAC, as above).
BOOST_AUTO_TEST_CASE(compiled_ipv6_acl_agrees_with_reference_matcher) {
  const testing::RandomPolicyOptions options{.ipv6 = true, .ipv4_pairs = false, .ipv6_pairs = false};
  std::mt19937_64 rng(20261129);
  size_t mismatches = 0, packets = 0, allowed = 0, decided = 0;
  for (int n = 0; n < kPolicies / 2; ++n) {
    policy::Policy pol = testing::random_policy(rng, options);
    auto tables = acl::PolicyTables::build(compiler::compile(pol), {});
    BOOST_REQUIRE_MESSAGE(tables, (tables ? "" : tables.error().message));
    std::vector<policy::PacketTuple> pkts;
    std::vector<policy::Verdict> expected;
    for (int k = 0; k < kPacketsPerPolicy; ++k) {
      pkts.push_back(testing::random_packet(rng, pol, core::Family::kIpv6));
      expected.push_back(policy::reference_verdict(pol, pkts.back()));
      allowed += expected.back().allow;
      for (const auto& c : expected.back().checks) decided += c.allow;
    }
    packets += pkts.size();
    for (size_t a = 0; a < acl::kAlgorithmCount; ++a) {
      if (tables->set_algorithm(acl::kAlgorithms[a].alg) != 0) continue;  // not on this CPU
      const char* name = acl::kAlgorithms[a].name;
      std::vector<std::pair<size_t, uint32_t>> jobs;  // (packet, image) per check, in order
      std::vector<acl::AclKey6> keys;
      for (size_t k = 0; k < pkts.size(); ++k) {
        auto got = tables->judge(pkts[k]);
        BOOST_REQUIRE(got);
        if (*got != expected[k] && ++mismatches <= 10)
          BOOST_ERROR(name << " IPv6 policy " << n << " packet " << describe(pkts[k]) << ": got " << describe(*got)
                           << ", reference " << describe(expected[k]));
        acl::CheckPlan6 plan = tables->plan6(pkts[k]);
        // A link-service drop (a DHCPv6 server in a VM, a link-local address) is
        // decided before any check: the reference has no checks to compare.
        if (policy::link_service_drop_reason(pkts[k], plan.needed[acl::kEgressCheck]) != nullptr) continue;
        for (uint8_t d : {acl::kEgressCheck, acl::kIngressCheck})
          if (plan.needed[d]) {
            jobs.emplace_back(k, plan.context[d]);
            keys.push_back(plan.key[d]);
          }
      }
      // Bursts of up to 64 keys of one image, as the data plane would group them.
      std::vector<size_t> order(jobs.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return jobs[x].second < jobs[y].second; });
      std::vector<uint32_t> results(jobs.size(), acl::kNoMatch);
      for (size_t i = 0; i < order.size();) {
        uint32_t image = jobs[order[i]].second;
        size_t want = std::min<size_t>(1 + rng() % 64, order.size() - i), k = 0;
        const uint8_t* data[64];
        uint32_t out[64];
        while (k < want && jobs[order[i + k]].second == image) {
          data[k] = reinterpret_cast<const uint8_t*>(&keys[order[i + k]]);
          ++k;
        }
        if (const auto* ctx = tables->context6(image)) {
          BOOST_REQUIRE_EQUAL(ctx->classify(data, out, static_cast<uint32_t>(k)), 0);
          for (size_t j = 0; j < k; ++j) results[order[i + j]] = out[j];
        }
        i += k;
      }
      std::vector<size_t> next(pkts.size(), 0);
      for (size_t j = 0; j < jobs.size(); ++j) {
        const auto& c = expected[jobs[j].first].checks.at(next[jobs[j].first]++);
        std::string got = results[j] == acl::kNoMatch ? "" : tables->compiled().rules[results[j] - 1].label();
        if (got != c.rule && ++mismatches <= 10)
          BOOST_ERROR(name << " IPv6 burst, policy " << n << " packet " << describe(pkts[jobs[j].first]) << ": got '"
                           << got << "', reference '" << c.rule << "'");
      }
    }
  }
  BOOST_TEST_MESSAGE(packets << " IPv6 packets, " << allowed << " allowed, " << decided << " checks decided by a rule");
  BOOST_TEST(packets >= 250000u);
  BOOST_TEST(allowed > packets / 20);
  BOOST_TEST(allowed < packets - packets / 20);
  BOOST_TEST(decided > packets / 10);
  BOOST_TEST(mismatches == 0u);
}
