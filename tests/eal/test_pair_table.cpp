#define BOOST_TEST_MODULE pair_table
#include <boost/test/unit_test.hpp>

#include <rte_byteorder.h>

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
