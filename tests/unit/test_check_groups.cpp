// Stage 3's grouping of rule checks by context (lib/dataplane/check_groups.hpp): every
// check lands in exactly one group, a group holds one context and every check of it,
// groups come in first-appearance order and keep their checks' order. Checked against
// a plain quadratic grouping over random bursts, with contexts chosen to collide in the
// grouping's hash table.
#define BOOST_TEST_MODULE check_groups
#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

#include "dataplane/check_groups.hpp"

using sgfw::dataplane::group_checks;
using sgfw::dataplane::kMaxGroupedChecks;

namespace {

// The definition: groups by first appearance, each with its checks in order.
std::vector<std::vector<uint16_t>> reference_groups(const std::vector<uint32_t>& ctx) {
  std::vector<std::vector<uint16_t>> groups;
  std::vector<uint32_t> seen;
  for (uint16_t c = 0; c < ctx.size(); ++c) {
    size_t g = 0;
    while (g < seen.size() && seen[g] != ctx[c]) ++g;
    if (g == seen.size()) {
      seen.push_back(ctx[c]);
      groups.emplace_back();
    }
    groups[g].push_back(c);
  }
  return groups;
}

std::vector<std::vector<uint16_t>> grouped(const std::vector<uint32_t>& ctx) {
  uint16_t order[kMaxGroupedChecks], starts[kMaxGroupedChecks + 1];
  const uint16_t n = static_cast<uint16_t>(ctx.size());
  const uint16_t groups = group_checks(ctx.data(), n, order, starts);
  BOOST_REQUIRE_LE(groups, n);
  BOOST_REQUIRE_EQUAL(starts[0], 0);
  BOOST_REQUIRE_EQUAL(starts[groups], n);
  std::vector<std::vector<uint16_t>> out(groups);
  for (uint16_t g = 0; g < groups; ++g) out[g].assign(order + starts[g], order + starts[g + 1]);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(no_checks_no_groups) {
  uint16_t order[1], starts[1];
  BOOST_TEST(group_checks(nullptr, 0, order, starts) == 0);
  BOOST_TEST(starts[0] == 0);
}

BOOST_AUTO_TEST_CASE(a_full_burst_of_one_context_is_one_group_in_order) {
  std::vector<uint32_t> ctx(kMaxGroupedChecks, 7);
  auto g = grouped(ctx);
  BOOST_REQUIRE_EQUAL(g.size(), 1u);
  for (uint16_t c = 0; c < kMaxGroupedChecks; ++c) BOOST_TEST(g[0][c] == c);
}

BOOST_AUTO_TEST_CASE(sixty_four_distinct_contexts_are_sixty_four_groups) {
  std::vector<uint32_t> ctx;
  for (uint32_t c = 0; c < kMaxGroupedChecks; ++c) ctx.push_back(1000 - 3 * c);
  BOOST_TEST(grouped(ctx) == reference_groups(ctx));
}

// Contexts that the hash maps to the same slot: the probe must tell them apart.
BOOST_AUTO_TEST_CASE(contexts_sharing_a_slot_stay_apart) {
  std::vector<uint32_t> same_slot;
  for (uint32_t x = 0; same_slot.size() < 8; ++x)
    if (sgfw::dataplane::check_group_slot(x) == 5) same_slot.push_back(x);
  std::vector<uint32_t> ctx;
  for (int round = 0; round < 8; ++round)
    for (size_t i = 0; i < same_slot.size(); ++i) ctx.push_back(same_slot[(i + round) % same_slot.size()]);
  BOOST_TEST(grouped(ctx) == reference_groups(ctx));
}

BOOST_AUTO_TEST_CASE(random_bursts_group_as_the_definition) {
  std::mt19937 rng(15);
  for (int trial = 0; trial < 100000; ++trial) {
    const uint16_t n = static_cast<uint16_t>(rng() % (kMaxGroupedChecks + 1));
    const uint32_t distinct = 1 + rng() % 40;
    const uint32_t base = rng();
    std::vector<uint32_t> ctx(n);
    for (auto& c : ctx) c = base + (rng() % distinct) * (trial % 2 ? 1u : 128u);
    BOOST_TEST_REQUIRE(grouped(ctx) == reference_groups(ctx));
  }
}
