// The connection table's hash index (lib/flow/flow_index.hpp): a key is found at the
// position it was published with and nowhere else. Hashes are forced in most cases
// (insert and find take the hash) so that keys share a bucket and a signature, spill
// over into the buckets after their home (also across the wrap from the last bucket
// to the first), and are removed from the middle of such a run; the overflow counts
// return to 0 when the run is gone. Then a long random sequence against a std::map,
// with the real hash, through find and find_bulk. Each bucket's tag (a bit per
// signature stored, bit 15 while keys spill past it) is exact after every change.
#define BOOST_TEST_MODULE flow_index
#include <boost/test/unit_test.hpp>

#include <nmmintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "flow/flow_index.hpp"
#include "flow/flow_key.hpp"

using sgfw::flow::FlowIndex;
using sgfw::flow::FlowKey;
using sgfw::flow::make_flow_key;

namespace {

FlowKey key_n(uint32_t n) { return make_flow_key(6, 0x0a000001u + n, 1000, 0x0a100001u, 80); }

// An index over `positions` keys stored in `keys` (the table's cold array stands in).
struct Fixture {
  std::vector<FlowKey> keys;
  FlowIndex<FlowKey> index;
  explicit Fixture(uint32_t positions) : keys(positions) {
    BOOST_REQUIRE(index.init(positions, reinterpret_cast<const std::byte*>(keys.data()), sizeof(FlowKey),
                             {0x0123456789abcdefull, 0x1122334455667788ull, 0x99aabbccddeeff00ull, 42}));
  }
  void put(uint32_t pos, const FlowKey& k, uint64_t h) {
    keys[pos] = k;
    index.insert(h, pos);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(keys_of_one_bucket_and_signature_are_told_apart_by_the_whole_key) {
  Fixture f(64);  // 22 buckets' worth: 32 buckets of 7 slots
  BOOST_REQUIRE_EQUAL(f.index.buckets(), 32u);
  const uint64_t h = uint64_t{0x5eed} << 32 | 5;  // home bucket 5, one signature for all
  for (uint32_t i = 0; i < 20; ++i) f.put(i, key_n(i), h);
  // 20 keys from bucket 5: 7 there, 7 in 6, 6 in 7; buckets 5 and 6 count the spill.
  BOOST_TEST(f.index.overflow(5) == 13u);
  BOOST_TEST(f.index.overflow(6) == 6u);
  BOOST_TEST(f.index.overflow(7) == 0u);
  // Tags: the signature's bit (0x5eed % 15 = 1) where keys are, bit 15 where they spilled.
  BOOST_TEST(f.index.tag(5) == 0x8002);
  BOOST_TEST(f.index.tag(6) == 0x8002);
  BOOST_TEST(f.index.tag(7) == 0x0002);
  BOOST_TEST(f.index.tag(8) == 0);
  for (uint32_t i = 0; i < 20; ++i) BOOST_TEST(f.index.find(key_n(i), h) == static_cast<int32_t>(i));
  BOOST_TEST(f.index.find(key_n(20), h) == -1);  // same hash, another key
  BOOST_TEST(f.index.find(key_n(3)) == -1);      // its real hash: not where it was put
  // Out of the middle of the run: the rest are still found, the removed ones not.
  for (uint32_t i : {2u, 9u, 15u}) BOOST_TEST(f.index.erase(h, i));
  BOOST_TEST(!f.index.erase(h, 9));
  BOOST_TEST(f.index.overflow(5) == 11u);  // 9 and 15 had spilled past 5, 15 past 6
  BOOST_TEST(f.index.overflow(6) == 5u);
  for (uint32_t i = 0; i < 20; ++i)
    BOOST_TEST(f.index.find(key_n(i), h) == ((i == 2 || i == 9 || i == 15) ? -1 : static_cast<int32_t>(i)));
  // A freed slot in the home bucket is taken again, with no new spill.
  f.put(30, key_n(30), h);
  BOOST_TEST(f.index.overflow(5) == 11u);
  BOOST_TEST(f.index.find(key_n(30), h) == 30);
  for (uint32_t i = 0; i < 20; ++i)
    if (i != 2 && i != 9 && i != 15) BOOST_TEST(f.index.erase(h, i));
  BOOST_TEST(f.index.erase(h, 30));
  BOOST_TEST(f.index.overflow(5) == 0u);
  BOOST_TEST(f.index.overflow(6) == 0u);
  for (uint32_t b = 5; b <= 7; ++b) BOOST_TEST(f.index.tag(b) == 0);
  BOOST_TEST(f.index.find(key_n(0), h) == -1);
}

BOOST_AUTO_TEST_CASE(a_run_from_the_last_bucket_wraps_to_the_first) {
  Fixture f(64);
  const uint64_t last = uint64_t{7} << 32 | 31;
  for (uint32_t i = 0; i < 10; ++i) f.put(i, key_n(i), last);
  BOOST_TEST(f.index.overflow(31) == 3u);
  // A key homed in bucket 0 goes after the three that wrapped there.
  const uint64_t first = uint64_t{8} << 32 | 0;  // another signature
  f.put(10, key_n(10), first);
  for (uint32_t i = 0; i < 10; ++i) BOOST_TEST(f.index.find(key_n(i), last) == static_cast<int32_t>(i));
  BOOST_TEST(f.index.find(key_n(10), first) == 10);
  BOOST_TEST(f.index.find(key_n(10), last) == -1);  // passed from 31, but another signature
  BOOST_TEST(f.index.erase(last, 9));
  BOOST_TEST(f.index.overflow(31) == 2u);
  BOOST_TEST(f.index.find(key_n(10), first) == 10);
}

BOOST_AUTO_TEST_CASE(find_bulk_matches_find_with_shared_signatures) {
  Fixture f(64);
  const uint64_t h = uint64_t{9} << 32 | 3;
  for (uint32_t i = 0; i < 12; ++i) f.put(i, key_n(i), h);
  // find_bulk hashes itself: the real hash of these keys differs, so put more keys the
  // real way and ask for all, present and absent.
  for (uint32_t i = 12; i < 40; ++i) f.put(i, key_n(i), f.index.hash(key_n(i)));
  std::vector<FlowKey> ask;
  for (uint32_t i = 0; i < 48; ++i) ask.push_back(key_n(i));
  const FlowKey* ptrs[48];
  for (uint32_t i = 0; i < 48; ++i) ptrs[i] = &ask[i];
  int32_t got[48];
  f.index.find_bulk(ptrs, 48, got);
  for (uint32_t i = 0; i < 48; ++i) BOOST_TEST(got[i] == (i >= 12 && i < 40 ? static_cast<int32_t>(i) : -1));
}

BOOST_AUTO_TEST_CASE(find_bulk_finds_a_key_that_spilled_out_of_its_home_bucket) {
  Fixture f(64);
  const FlowKey k = key_n(100);
  const uint64_t hk = f.index.hash(k);
  // Seven others fill k's home bucket (another signature), so k goes to the next one.
  const uint64_t filler = (~hk & 0xffffffff00000000ull) | (hk & 0xffffffffu);
  for (uint32_t i = 0; i < 7; ++i) f.put(i, key_n(i), filler);
  f.put(7, k, hk);
  BOOST_TEST(f.index.overflow(static_cast<uint32_t>(hk)) == 1u);
  const FlowKey* ptrs[1] = {&k};
  int32_t got[1] = {-2};
  f.index.find_bulk(ptrs, 1, got);
  BOOST_TEST(got[0] == 7);
}

BOOST_AUTO_TEST_CASE(random_changes_agree_with_a_map) {
  constexpr uint32_t kPositions = 600;
  Fixture f(kPositions);
  std::map<uint32_t, uint32_t> where;  // key number -> position
  std::vector<uint32_t> free_positions;
  for (uint32_t p = 0; p < kPositions; ++p) free_positions.push_back(p);
  std::mt19937 rng(42);
  uint64_t found = 0, missed = 0;
  for (uint32_t step = 0; step < 200000; ++step) {
    const uint32_t n = rng() % 1500;  // key numbers: about 600 live at a time at most
    auto it = where.find(n);
    const FlowKey k = key_n(n);
    const uint64_t h = f.index.hash(k);
    if (it == where.end() && !free_positions.empty() && rng() % 2 == 0) {
      const uint32_t p = free_positions.back();
      free_positions.pop_back();
      f.put(p, k, h);
      where[n] = p;
    } else if (it != where.end() && rng() % 2 == 0) {
      BOOST_REQUIRE(f.index.erase(h, it->second));
      free_positions.push_back(it->second);
      where.erase(it);
    }
    const int32_t want = where.count(n) ? static_cast<int32_t>(where[n]) : -1;
    BOOST_REQUIRE_EQUAL(f.index.find(k), want);
    (want >= 0 ? found : missed)++;
    if (step % 1000 == 0) {
      FlowKey ask[64];
      const FlowKey* ptrs[64];
      for (uint32_t i = 0; i < 64; ++i) {
        ask[i] = key_n(rng() % 1500);
        ptrs[i] = &ask[i];
      }
      int32_t got[64];
      f.index.find_bulk(ptrs, 64, got);
      for (uint32_t i = 0; i < 64; ++i) BOOST_REQUIRE_EQUAL(got[i], f.index.find(ask[i]));
    }
  }
  BOOST_TEST(found > 10000u);
  BOOST_TEST(missed > 10000u);
  for (auto& [n, p] : where) BOOST_REQUIRE(f.index.erase(f.index.hash(key_n(n)), p));
  for (uint32_t b = 0; b < f.index.buckets(); ++b) {
    BOOST_REQUIRE_EQUAL(f.index.overflow(b), 0u);
    BOOST_REQUIRE_EQUAL(f.index.tag(b), 0);
  }
}

namespace {

// The hash rte_hash used here before (CRC-32C over the key's words; two chains with
// different seeds for 64 bits): linear, so key ^ d collides with key for every d in its
// kernel, whatever the seeds.
uint64_t crc_hash(const FlowKey& k) {
  uint64_t w[2];
  std::memcpy(w, &k, sizeof(k));
  uint64_t a = 0x9e3779b9u, b = 0x7f4a7c15u;
  for (uint64_t x : w) {
    a = _mm_crc32_u64(a, x);
    b = _mm_crc32_u64(b, x);
  }
  return b << 32 | a;
}

// What an attacker on the uplink controls in an inbound connection's key: the remote
// address (addr_lo) and both ports, 64 bits. Returns `n` independent differences in
// those bits that the CRC maps to 0 (Gaussian elimination over GF(2)).
std::vector<std::array<uint64_t, 2>> crc_kernel(size_t n) {
  struct Row {
    uint64_t image;                 // CRC difference of the combination (low 32 bits: chain a)
    std::array<uint64_t, 2> diff;   // the key words' difference
  };
  std::vector<Row> basis;  // reduced rows with a distinct leading bit of `image`
  std::vector<std::array<uint64_t, 2>> kernel;
  FlowKey zero{};
  const uint64_t c0 = crc_hash(zero);
  for (int bit = 0; bit < 64 && kernel.size() < n; ++bit) {
    std::array<uint64_t, 2> d{};
    if (bit < 32) d[0] = uint64_t{1} << bit;            // addr_lo
    else d[1] = uint64_t{1} << (bit - 32);              // port_lo, port_hi
    FlowKey k{};
    std::memcpy(&k, d.data(), sizeof(k));
    Row r{static_cast<uint32_t>(crc_hash(k) ^ c0), d};
    for (const Row& b : basis)
      if (r.image & (uint64_t{1} << (63 - __builtin_clzll(b.image)))) {
        r.image ^= b.image;
        r.diff[0] ^= b.diff[0];
        r.diff[1] ^= b.diff[1];
      }
    if (r.image == 0) kernel.push_back(r.diff);
    else basis.push_back(r);
  }
  return kernel;
}

}  // namespace

BOOST_AUTO_TEST_CASE(keys_crafted_to_collide_under_a_linear_hash_spread_out) {
  const auto kernel = crc_kernel(8);
  BOOST_REQUIRE_EQUAL(kernel.size(), 8u);
  // 256 connections from one remote network to one VM, whose keys differ only by
  // combinations of the kernel: under the CRC all share one 64-bit hash.
  std::vector<FlowKey> keys;
  const FlowKey base = make_flow_key(6, 0x0a000001u, 443, 0xcb000001u, 40000);
  for (uint32_t m = 0; m < 256; ++m) {
    uint64_t w[2];
    std::memcpy(w, &base, sizeof(base));
    for (int j = 0; j < 8; ++j)
      if (m >> j & 1) {
        w[0] ^= kernel[j][0];
        w[1] ^= kernel[j][1];
      }
    FlowKey k;
    std::memcpy(&k, w, sizeof(k));
    keys.push_back(k);
  }
  for (const FlowKey& k : keys) BOOST_REQUIRE_EQUAL(crc_hash(k), crc_hash(keys[0]));
  // The index's keyed hash: they spread over the buckets, and once all are in, no key
  // is more than a bucket away from its home.
  Fixture f(3 * 1024);  // 1,024 buckets
  std::map<uint32_t, uint32_t> per_home;
  for (uint32_t i = 0; i < keys.size(); ++i) {
    const uint64_t h = f.index.hash(keys[i]);
    ++per_home[static_cast<uint32_t>(h) & (f.index.buckets() - 1)];
    f.put(i, keys[i], h);
  }
  uint32_t fullest = 0;
  for (auto& [b, n] : per_home) fullest = std::max(fullest, n);
  BOOST_TEST(per_home.size() > 200u);
  BOOST_TEST(fullest <= 6u);
  for (uint32_t b = 0; b < f.index.buckets(); ++b) BOOST_TEST(f.index.overflow(b) == 0u);
  for (uint32_t i = 0; i < keys.size(); ++i) BOOST_TEST(f.index.find(keys[i]) == static_cast<int32_t>(i));
}

// Each index draws its own secret, and the hash depends on it: a table's layout told
// to an attacker (or learnt from another appliance) says nothing about the next one.
BOOST_AUTO_TEST_CASE(each_index_draws_its_own_secret_and_the_hash_depends_on_it) {
  const auto s1 = FlowIndex<FlowKey>::random_secret(), s2 = FlowIndex<FlowKey>::random_secret();
  BOOST_TEST((s1 != s2));
  FlowIndex<FlowKey> a, b;
  const FlowKey none{};
  BOOST_REQUIRE(a.init(64, reinterpret_cast<const std::byte*>(&none), 0, s1));
  BOOST_REQUIRE(b.init(64, reinterpret_cast<const std::byte*>(&none), 0, s2));
  uint32_t same = 0;
  for (uint32_t i = 0; i < 1000; ++i) same += a.hash(key_n(i)) == b.hash(key_n(i));
  BOOST_TEST(same == 0u);
}
