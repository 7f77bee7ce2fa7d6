#define BOOST_TEST_MODULE pair_table6
#include <boost/test/unit_test.hpp>

#include <rte_malloc.h>

#include <array>
#include <cstring>
#include <optional>
#include <random>
#include <set>

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

namespace {

bool holds(const core::Ipv6& prefix_addr, uint8_t prefix, const core::Ipv6& a) {
  for (unsigned bit = 0; bit < prefix; ++bit) {
    const uint8_t m = static_cast<uint8_t>(0x80u >> (bit % 8));
    if ((prefix_addr.bytes[bit / 8] & m) != (a.bytes[bit / 8] & m)) return false;
  }
  return true;
}

}  // namespace

// Random nested and overlapping prefixes (host bits set, duplicates, ::/0 now and then):
// every lookup lists exactly the owners of the prefixes that hold the address.
BOOST_AUTO_TEST_CASE(random_prefixes_list_the_owners_of_every_prefix_holding_the_address) {
  std::mt19937 rng(9);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<PairSpec6> specs;
    core::Ipv6 base = ip("fd00::");
    base.bytes[1] = static_cast<uint8_t>(rng());
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      core::Ipv6 a = base;
      for (unsigned b = 2; b < 16; ++b) a.bytes[b] = rng() % 3 == 0 ? static_cast<uint8_t>(rng()) : 0;
      const uint8_t prefix = rng() % 50 == 0 ? 0 : static_cast<uint8_t>(16 + rng() % 113);
      specs.push_back({a, prefix, {static_cast<uint32_t>(rng() % 8), 0xa0 + rng() % 3}});
    }
    PairTable6 t = build(specs);
    for (int probe = 0; probe < 300; ++probe) {
      // Mostly a spec's address with a few low bits flipped, sometimes anywhere.
      core::Ipv6 a = specs[rng() % specs.size()].addr;
      if (rng() % 4 == 0) {
        for (auto& byte : a.bytes) byte = static_cast<uint8_t>(rng());
      } else {
        for (int flips = static_cast<int>(rng() % 3); flips > 0; --flips) {
          const unsigned bit = 16 + rng() % 112;
          a.bytes[bit / 8] ^= static_cast<uint8_t>(0x80u >> (bit % 8));
        }
      }
      std::set<std::pair<uint32_t, uint64_t>> want, got;
      for (const auto& s : specs)
        if (holds(s.addr, s.prefix, a)) want.insert({s.owner.vm, s.owner.mac});
      const acl::PairOwner* o = nullptr;
      const uint32_t count = t.owners(a.bytes.data(), &o);
      for (uint32_t i = 0; i < count; ++i) got.insert({o[i].vm, o[i].mac});
      BOOST_TEST_REQUIRE((got == want), "trial " << trial << " probe " << probe);
    }
  }
}

// A policy's pairs take memory by their number, not a fixed 64 MiB first-level table.
BOOST_AUTO_TEST_CASE(a_thousand_pairs_take_less_than_a_mebibyte) {
  std::vector<PairSpec6> specs;
  for (uint32_t i = 0; i < 1000; ++i) {
    core::Ipv6 a = ip("2001:db8::");
    a.bytes[14] = static_cast<uint8_t>(i >> 8);
    a.bytes[15] = static_cast<uint8_t>(i);
    specs.push_back({a, 128, {i, 0xa}});
  }
  rte_malloc_socket_stats before{}, after{};
  rte_malloc_get_socket_stats(0, &before);
  PairTable6 t = build(specs);
  rte_malloc_get_socket_stats(0, &after);
  BOOST_TEST(t.owned(Addr("2001:db8::3e7").p()));
  const size_t used = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
  BOOST_TEST_MESSAGE("1000 IPv6 pairs: " << used << " bytes of DPDK heap");
  BOOST_TEST(used < size_t{1} << 20);
}

// A build from the same specs as `previous` shares its table, which outlives `previous`;
// other specs build a table of their own.
BOOST_AUTO_TEST_CASE(the_same_pairs_share_the_previous_table_and_outlive_it) {
  const std::vector<PairSpec6> specs{{ip("fd00::64"), 128, {0, 0xa}}};
  std::optional<PairTable6> first(build(specs));
  auto same = PairTable6::build(specs, "pair6test_same", &*first);
  BOOST_REQUIRE(same.has_value());
  BOOST_TEST(same->shares_with(*first));
  std::vector<PairSpec6> other = specs;
  other[0].owner.mac = 0xb;
  auto changed = PairTable6::build(other, "pair6test_changed", &*first);
  BOOST_REQUIRE(changed.has_value());
  BOOST_TEST(!changed->shares_with(*first));
  BOOST_TEST(changed->may_use(Addr("fd00::64").p(), 0, 0xb));
  BOOST_TEST(!changed->may_use(Addr("fd00::64").p(), 0, 0xa));
  first.reset();  // the previous snapshot goes; the shared table stays with `same`
  BOOST_TEST(same->may_use(Addr("fd00::64").p(), 0, 0xa));
  BOOST_TEST(!same->owned(Addr("fd00::65").p()));
}
