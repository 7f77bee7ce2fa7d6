#define BOOST_TEST_MODULE pair_table6
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstring>

#include "acl/pair_table6.hpp"
#include "core/ip_address.hpp"
#include "eal_fixture.hpp"

BOOST_TEST_GLOBAL_FIXTURE(EalFixture);

using namespace sgfw;
using acl::PairSpec6;
using acl::PairTable6;

namespace {

constexpr uint32_t kNone = 0xffffffffu;
core::Ipv6 ip(const char* text) {
  auto a = core::parse_ipv6(text);
  BOOST_REQUIRE_MESSAGE(a.has_value(), text);
  return *a;
}
// The 16 bytes of `text` at an odd address: lookups must not need alignment.
struct Addr {
  explicit Addr(const char* text) { std::memcpy(buf.data() + 1, ip(text).bytes.data(), 16); }
  const uint8_t* p() const { return buf.data() + 1; }
  alignas(8) std::array<uint8_t, 17> buf{};
};
int g_tables = 0;
PairTable6 build(const std::vector<PairSpec6>& specs) {
  auto t = PairTable6::build(specs, "pair6test" + std::to_string(g_tables++));
  BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error().message));
  return std::move(*t);
}

}  // namespace

BOOST_AUTO_TEST_CASE(no_pairs_is_empty_and_owns_nothing) {
  PairTable6 t = build({});
  BOOST_TEST(t.empty());
  BOOST_TEST(!t.owned(Addr("2001:db8::1").p()));
  BOOST_TEST(t.owner_with_mac(Addr("2001:db8::1").p(), 1) == kNone);
  BOOST_TEST(!t.may_use(Addr("2001:db8::1").p(), 0, 1));
  const acl::PairOwner* o = nullptr;
  BOOST_TEST(t.owners(Addr("::").p(), &o) == 0u);
}

BOOST_AUTO_TEST_CASE(a_shared_vip_goes_to_the_owner_whose_mac_the_frame_carries) {
  // VMs 0 and 1 share 2001:db8::100/128 (each with its own MAC); VM 2 has nothing.
  PairTable6 t = build({{ip("2001:db8::100"), 128, {0, 0xa}}, {ip("2001:db8::100"), 128, {1, 0xb}}});
  BOOST_TEST(!t.empty());
  BOOST_TEST(t.owned(Addr("2001:db8::100").p()));
  BOOST_TEST(!t.owned(Addr("2001:db8::101").p()));
  BOOST_TEST(!t.owned(Addr("2001:db8::").p()));
  BOOST_TEST(!t.owned(Addr("2001:db8:0:1::100").p()));
  BOOST_TEST(t.owner_with_mac(Addr("2001:db8::100").p(), 0xa) == 0u);
  BOOST_TEST(t.owner_with_mac(Addr("2001:db8::100").p(), 0xb) == 1u);
  BOOST_TEST(t.owner_with_mac(Addr("2001:db8::100").p(), 0xc) == kNone);
  BOOST_TEST(t.owner_with_mac(Addr("2001:db8::101").p(), 0xa) == kNone);
  BOOST_TEST(t.may_use(Addr("2001:db8::100").p(), 0, 0xa));
  BOOST_TEST(t.may_use(Addr("2001:db8::100").p(), 1, 0xb));
  BOOST_TEST(!t.may_use(Addr("2001:db8::100").p(), 0, 0xb));  // the other owner's MAC
  BOOST_TEST(!t.may_use(Addr("2001:db8::100").p(), 2, 0xa));  // not an owner
  const acl::PairOwner* o = nullptr;
  BOOST_REQUIRE(t.owners(Addr("2001:db8::100").p(), &o) == 2u);
  BOOST_TEST(o[0].vm == 0u);
  BOOST_TEST(o[0].mac == 0xau);
  BOOST_TEST(o[1].vm == 1u);
  BOOST_TEST(o[1].mac == 0xbu);
}

BOOST_AUTO_TEST_CASE(nested_pairs_answer_for_every_containing_prefix) {
  // VM 0: 2001:db8::/32; VM 1: 2001:db8:1::/48 inside it; VM 2: 2001:db8:1::5/128
  // inside both; VM 3: 2001:db8:1:0:8000::/65, a prefix not on a byte boundary.
  PairTable6 t = build({{ip("2001:db8:1::5"), 128, {2, 0xc}},
                        {ip("2001:db8:1::"), 48, {1, 0xb}},
                        {ip("2001:db8::"), 32, {0, 0xa}},
                        {ip("2001:db8:1:0:8000::"), 65, {3, 0xd}}});
  const acl::PairOwner* o = nullptr;
  BOOST_REQUIRE(t.owners(Addr("2001:db8:1::5").p(), &o) == 3u);  // longest match lists all three
  BOOST_TEST(o[0].vm == 0u);  // outermost first
  BOOST_TEST(o[1].vm == 1u);
  BOOST_TEST(o[2].vm == 2u);
  BOOST_TEST(t.may_use(Addr("2001:db8:1::5").p(), 0, 0xa));
  BOOST_TEST(t.may_use(Addr("2001:db8:1::5").p(), 1, 0xb));
  BOOST_TEST(t.may_use(Addr("2001:db8:1::5").p(), 2, 0xc));
  BOOST_TEST(!t.may_use(Addr("2001:db8:1::5").p(), 3, 0xd));
  BOOST_TEST(t.owners(Addr("2001:db8:1::6").p(), &o) == 2u);
  BOOST_TEST(!t.may_use(Addr("2001:db8:1::6").p(), 2, 0xc));
  BOOST_TEST(t.owners(Addr("2001:db8:1:0:8000::1").p(), &o) == 3u);  // /32, /48, /65
  BOOST_TEST(t.may_use(Addr("2001:db8:1:0:ffff::").p(), 3, 0xd));
  BOOST_TEST(!t.may_use(Addr("2001:db8:1:0:7fff::").p(), 3, 0xd));  // the /65's other half
  BOOST_TEST(t.owners(Addr("2001:db8:9::9").p(), &o) == 1u);
  BOOST_TEST(o[0].vm == 0u);
  BOOST_TEST(t.owners(Addr("2001:db9::").p(), &o) == 0u);
  BOOST_TEST(t.owners(Addr("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff").p(), &o) == 0u);
}

BOOST_AUTO_TEST_CASE(host_bits_of_a_spec_are_ignored_and_slash_zero_covers_everything) {
  // VM 0: 2001:db8:5::77/64 (host bits set); VM 1: ::/0 (every address, both halves).
  PairTable6 t = build({{ip("2001:db8:5::77"), 64, {0, 0xa}}, {ip("::"), 0, {1, 0xb}}});
  BOOST_TEST(t.may_use(Addr("2001:db8:5::1").p(), 0, 0xa));
  BOOST_TEST(t.may_use(Addr("2001:db8:5::1").p(), 1, 0xb));  // ::/0 encloses the /64
  BOOST_TEST(!t.may_use(Addr("2001:db8:6::1").p(), 0, 0xa));
  const acl::PairOwner* o = nullptr;
  BOOST_TEST(t.owners(Addr("2001:db8:5:0:ffff::").p(), &o) == 2u);
  for (const char* a : {"::", "::1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::", "fe80::1",
                        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    BOOST_TEST_CONTEXT(a) {
      BOOST_TEST(t.owners(Addr(a).p(), &o) == 1u);
      BOOST_TEST(o[0].vm == 1u);
      BOOST_TEST(t.owner_with_mac(Addr(a).p(), 0xb) == 1u);
      BOOST_TEST(t.owner_with_mac(Addr(a).p(), 0xa) == kNone);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_slash_128_is_that_address_only) {
  PairTable6 t = build({{ip("fd00::1:2"), 128, {4, 0xe}}});
  BOOST_TEST(t.owned(Addr("fd00::1:2").p()));
  BOOST_TEST(t.owner_with_mac(Addr("fd00::1:2").p(), 0xe) == 4u);
  BOOST_TEST(t.may_use(Addr("fd00::1:2").p(), 4, 0xe));
  BOOST_TEST(!t.may_use(Addr("fd00::1:2").p(), 4, 0xf));
  for (const char* a : {"fd00::1:3", "fd00::1:0", "fd00::1:2:0", "fd00:0:0:0:8000::1:2", "fd01::1:2", "::1:2"})
    BOOST_TEST_CONTEXT(a) { BOOST_TEST(!t.owned(Addr(a).p())); }
}

BOOST_AUTO_TEST_CASE(a_prefix_above_128_is_refused) {
  auto t = PairTable6::build({{ip("2001:db8::1"), 129, {0, 0xa}}}, "pair6test_bad");
  BOOST_TEST(!t.has_value());
}
