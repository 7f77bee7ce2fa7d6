#define BOOST_TEST_MODULE pair_table
#include <boost/test/unit_test.hpp>

#include <rte_byteorder.h>
#include <rte_malloc.h>

#include <optional>
#include <random>
#include <set>

#include "acl/pair_table.hpp"
#include "eal_fixture.hpp"

BOOST_TEST_GLOBAL_FIXTURE(EalFixture);

using namespace sgfw;
using acl::PairSpec;
using acl::PairTable;

namespace {

constexpr uint32_t kNone = 0xffffffffu;
uint32_t be(uint32_t host) { return rte_cpu_to_be_32(host); }
constexpr uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}
int g_tables = 0;
PairTable build(const std::vector<PairSpec>& specs) {
  auto t = PairTable::build(specs, "pairtest" + std::to_string(g_tables++));
  BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error().message));
  return std::move(*t);
}

}  // namespace

BOOST_AUTO_TEST_CASE(no_pairs_is_empty_and_owns_nothing) {
  PairTable t = build({});
  BOOST_TEST(t.empty());
  BOOST_TEST(!t.owned(be(ip(10, 0, 0, 1))));
  BOOST_TEST(t.owner_with_mac(be(ip(10, 0, 0, 1)), 1) == kNone);
}

BOOST_AUTO_TEST_CASE(a_shared_vip_goes_to_the_owner_whose_mac_the_frame_carries) {
  // VMs 0 and 1 share 10.0.0.100 (each with its own MAC); VM 2 has nothing.
  PairTable t = build({{ip(10, 0, 0, 100), 32, {0, 0xa}}, {ip(10, 0, 0, 100), 32, {1, 0xb}}});
  BOOST_TEST(!t.empty());
  BOOST_TEST(t.owned(be(ip(10, 0, 0, 100))));
  BOOST_TEST(!t.owned(be(ip(10, 0, 0, 101))));
  BOOST_TEST(t.owner_with_mac(be(ip(10, 0, 0, 100)), 0xa) == 0u);
  BOOST_TEST(t.owner_with_mac(be(ip(10, 0, 0, 100)), 0xb) == 1u);
  BOOST_TEST(t.owner_with_mac(be(ip(10, 0, 0, 100)), 0xc) == kNone);
  BOOST_TEST(t.may_use(be(ip(10, 0, 0, 100)), 0, 0xa));
  BOOST_TEST(!t.may_use(be(ip(10, 0, 0, 100)), 0, 0xb));  // the other owner's MAC
  BOOST_TEST(!t.may_use(be(ip(10, 0, 0, 100)), 2, 0xa));  // not an owner
  const acl::PairOwner* o = nullptr;
  BOOST_TEST(t.owners(be(ip(10, 0, 0, 100)), &o) == 2u);
}

BOOST_AUTO_TEST_CASE(nested_pairs_answer_for_every_containing_prefix) {
  // VM 0: 10.1.0.0/16; VM 1: 10.1.2.0/24 inside it; VM 2: 10.1.2.3/32 inside both.
  PairTable t = build({{ip(10, 1, 0, 0), 16, {0, 0xa}}, {ip(10, 1, 2, 0), 24, {1, 0xb}}, {ip(10, 1, 2, 3), 32, {2, 0xc}}});
  const acl::PairOwner* o = nullptr;
  BOOST_TEST(t.owners(be(ip(10, 1, 2, 3)), &o) == 3u);  // longest match lists all three
  BOOST_TEST(t.may_use(be(ip(10, 1, 2, 3)), 0, 0xa));
  BOOST_TEST(t.may_use(be(ip(10, 1, 2, 3)), 1, 0xb));
  BOOST_TEST(t.may_use(be(ip(10, 1, 2, 3)), 2, 0xc));
  BOOST_TEST(t.owners(be(ip(10, 1, 2, 4)), &o) == 2u);
  BOOST_TEST(!t.may_use(be(ip(10, 1, 2, 4)), 2, 0xc));
  BOOST_TEST(t.owners(be(ip(10, 1, 9, 9)), &o) == 1u);
  BOOST_TEST(o[0].vm == 0u);
  BOOST_TEST(t.owners(be(ip(10, 2, 0, 0)), &o) == 0u);
}

BOOST_AUTO_TEST_CASE(host_bits_of_a_spec_are_ignored_and_slash_zero_covers_everything) {
  PairTable t = build({{ip(10, 1, 2, 3), 24, {0, 0xa}}, {0, 0, {1, 0xb}}});
  BOOST_TEST(t.may_use(be(ip(10, 1, 2, 200)), 0, 0xa));
  BOOST_TEST(t.may_use(be(ip(192, 0, 2, 1)), 1, 0xb));
  BOOST_TEST(!t.may_use(be(ip(192, 0, 2, 1)), 0, 0xa));
}

// 0.0.0.0/0 beside 16 or more other pair prefixes: the table sized its rules by the
// prefix count while /0 took two (rte_lpm has no depth 0), and the build failed.
BOOST_AUTO_TEST_CASE(slash_zero_beside_sixteen_other_prefixes_builds) {
  std::vector<PairSpec> specs{{0, 0, {99, 0xf}}};
  for (uint32_t i = 0; i < 16; ++i) specs.push_back({ip(10, 9, 0, 0) + i, 32, {i, 0xa}});
  PairTable t = build(specs);
  BOOST_TEST(t.may_use(be(ip(10, 9, 0, 5)), 5, 0xa));
  BOOST_TEST(t.may_use(be(ip(10, 9, 0, 5)), 99, 0xf));
  BOOST_TEST(t.may_use(be(ip(203, 0, 113, 1)), 99, 0xf));
  BOOST_TEST(!t.may_use(be(ip(203, 0, 113, 1)), 5, 0xa));
}

namespace {

// The definition (docs/enforcement.md §7): the owners of every pair whose prefix holds
// the address, as (vm, mac) sets.
std::set<std::pair<uint32_t, uint64_t>> reference_owners(const std::vector<PairSpec>& specs, uint32_t addr) {
  std::set<std::pair<uint32_t, uint64_t>> s;
  for (const auto& p : specs) {
    const uint32_t mask = p.prefix == 0 ? 0u : ~uint32_t{0} << (32 - p.prefix);
    if ((addr & mask) == (p.addr & mask)) s.insert({p.owner.vm, p.owner.mac});
  }
  return s;
}

}  // namespace

// Random nested and overlapping prefixes (host bits set, duplicates, /0 now and then):
// every lookup lists exactly the owners of the prefixes that hold the address.
BOOST_AUTO_TEST_CASE(random_prefixes_list_the_owners_of_every_prefix_holding_the_address) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<PairSpec> specs;
    const uint32_t base = rng() & 0xff000000u;  // one /8 so that prefixes meet
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const uint8_t prefix = rng() % 50 == 0 ? 0 : static_cast<uint8_t>(8 + rng() % 25);
      specs.push_back({static_cast<uint32_t>(base | (rng() & 0x00ffffffu)), prefix,
                       {static_cast<uint32_t>(rng() % 8), 0xa0 + rng() % 3}});
    }
    PairTable t = build(specs);
    for (int probe = 0; probe < 300; ++probe) {
      // Mostly near a spec's address (so deep prefixes are hit), sometimes anywhere.
      uint32_t addr = rng() % 4 == 0 ? rng() : specs[rng() % specs.size()].addr ^ (rng() >> (8 + rng() % 24));
      const acl::PairOwner* o = nullptr;
      const uint32_t count = t.owners(be(addr), &o);
      std::set<std::pair<uint32_t, uint64_t>> got;
      for (uint32_t i = 0; i < count; ++i) got.insert({o[i].vm, o[i].mac});
      BOOST_TEST_REQUIRE((got == reference_owners(specs, addr)), "trial " << trial << " address " << addr);
    }
  }
}

// A policy's pairs take memory by their number, not a fixed 64 MiB first-level table
// (a snapshot whose pairs changed builds its table again, so its size is also time).
BOOST_AUTO_TEST_CASE(a_thousand_pairs_take_less_than_a_mebibyte) {
  std::vector<PairSpec> specs;
  for (uint32_t i = 0; i < 1000; ++i) specs.push_back({ip(10, 7, 0, 0) + i, 32, {i, 0xa}});
  rte_malloc_socket_stats before{}, after{};
  rte_malloc_get_socket_stats(0, &before);
  PairTable t = build(specs);
  rte_malloc_get_socket_stats(0, &after);
  BOOST_TEST(t.owned(be(ip(10, 7, 3, 231))));
  const size_t used = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
  BOOST_TEST_MESSAGE("1000 IPv4 pairs: " << used << " bytes of DPDK heap");
  BOOST_TEST(used < size_t{1} << 20);
}

// A build from the same specs as `previous` shares its table, which outlives `previous`;
// other specs build a table of their own.
BOOST_AUTO_TEST_CASE(the_same_pairs_share_the_previous_table_and_outlive_it) {
  const std::vector<PairSpec> specs{{ip(10, 0, 0, 100), 32, {0, 0xa}}};
  std::optional<PairTable> first(build(specs));
  auto same = PairTable::build(specs, "pairtest_same", &*first);
  BOOST_REQUIRE(same.has_value());
  BOOST_TEST(same->shares_with(*first));
  std::vector<PairSpec> other = specs;
  other[0].owner.mac = 0xb;
  auto changed = PairTable::build(other, "pairtest_changed", &*first);
  BOOST_REQUIRE(changed.has_value());
  BOOST_TEST(!changed->shares_with(*first));
  BOOST_TEST(changed->may_use(be(ip(10, 0, 0, 100)), 0, 0xb));
  BOOST_TEST(!changed->may_use(be(ip(10, 0, 0, 100)), 0, 0xa));
  first.reset();  // the previous snapshot goes; the shared table stays with `same`
  BOOST_TEST(same->may_use(be(ip(10, 0, 0, 100)), 0, 0xa));
  BOOST_TEST(!same->owned(be(ip(10, 0, 0, 101))));
}

BOOST_AUTO_TEST_CASE(a_prefix_above_32_is_refused) {
  auto t = PairTable::build({{ip(10, 0, 0, 1), 33, {0, 0xa}}}, "pairtest_bad");
  BOOST_TEST(!t.has_value());
}
