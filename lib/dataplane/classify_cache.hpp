// A worker's memo of its rule checks' answers (docs/design/packet-path.md, "The
// classification cache"): (snapshot, rte_acl context, check key) -> the check's result,
// so repeated checks (a flood of denied packets, new connections to one service) skip
// rte_acl.
//  - Exact: a context's answer is a pure function of the key. The key's source port is
//    left out of the cache key because no rule matches source ports (acl_context.cpp
//    builds every rule with it wildcard), so one entry answers every source port; an
//    entry of another snapshot is never answered (use()).
//  - Bounded: a fixed array of two-way buckets, allocated once; an insert replaces a
//    bucket's older way (denying answers always, allowing ones sampled: insert()).
//    Nothing a packet does makes it grow, and it holds no connection state: a flood of
//    new keys only evicts other cached answers.
//  - Cheap when useless: traffic whose checks do not repeat bypasses it (consult()).
// Data path: inline, no allocation, no locks. Thread-safety: one worker's; not shared.
// Errors: an allocation failure leaves the cache without buckets (every find misses).
#pragma once

#include <nmmintrin.h>
#include <rte_prefetch.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "acl/acl_layout.hpp"

namespace sgfw::dataplane {

// Epoch: the entries' epoch stamp (tests use a narrow one to reach its wrap).
template <class Key, class Epoch = uint32_t>
class ClassifyCache {
 public:
  static constexpr uint32_t kAllowSample = 8;
  static constexpr uint32_t kWindow = 512, kMinBypass = 4, kMaxBypass = 64;

  // `buckets`: a power of two (two ways each); anything else makes a cache without
  // buckets. `allow_sample`: remember one allowing answer in that many (1: all);
  // `adaptive` false: never bypassed (consult()). Tests use 1 and false to have every
  // check go through the cache. Control path.
  explicit ClassifyCache(uint32_t buckets, uint32_t allow_sample = kAllowSample, bool adaptive = true)
      : allow_sample_(allow_sample == 0 ? 1 : allow_sample), adaptive_(adaptive) {
    if (buckets == 0 || (buckets & (buckets - 1)) != 0) return;
    buckets_.reset(new (std::nothrow) Bucket[buckets]());
    mask_ = buckets_ ? buckets - 1 : 0;
  }

  // Answers for the snapshot numbered `serial` from now on; every entry made for another
  // is forgotten at once (an epoch per snapshot; the array is cleared when the epoch
  // wraps, once every 2^32 snapshots).
  void use(uint64_t serial) {
    if (serial == serial_) return;
    serial_ = serial;
    if (++epoch_ == 0) {
      for (uint32_t i = 0; buckets_ && i <= mask_; ++i) buckets_[i] = Bucket{};
      epoch_ = 1;
    }
  }

  // Whether a burst's `checks` go through the cache (find, then insert what rte_acl
  // answers): false without buckets, and while the cache is bypassed. A window of
  // kWindow lookups that hit less than one in three (a miss costs about half of what a
  // hit saves) bypasses the cache for the next kWindow x n checks, n doubling from
  // kMinBypass to kMaxBypass while windows keep failing and back to kMinBypass after
  // one that does not: traffic whose checks never repeat (a scan) pays for a lookup in
  // about one check in 65, and traffic that repeats them is back in the cache soon.
  [[nodiscard]] bool consult(uint32_t checks) {
    if (!buckets_) return false;
    if (bypass_left_ == 0 || !adaptive_) return true;
    bypass_left_ = checks >= bypass_left_ ? 0 : bypass_left_ - checks;
    bypassed_ += checks;
    return false;
  }

  // The hash of (context, key), by which find, prefetch and insert pick a bucket.
  [[nodiscard]] static uint32_t hash(uint32_t context, const Key& key) {
    const Words k = normal(key);
    uint64_t h = context;  // CRC32-C in hardware: DPDK's -march=corei7 has SSE4.2
    for (uint64_t w : k.w) h = _mm_crc32_u64(h, w);
    return static_cast<uint32_t>(h);
  }
  void prefetch(uint32_t h) const {
    if (buckets_) rte_prefetch0(&buckets_[h & mask_]);
  }

  // The cached result of (context, key), if any.
  [[nodiscard]] bool find(uint32_t h, uint32_t context, const Key& key, uint32_t* result) {
    if (!buckets_) return false;
    const Words k = normal(key);
    for (const Entry& e : buckets_[h & mask_].way) {
      if (e.epoch == epoch_ && e.context == context && same(e.key, k)) {
        *result = e.result;
        ++hits_;
        ++window_hits_;
        if (++window_lookups_ == kWindow) end_window();
        return true;
      }
    }
    ++misses_;
    if (++window_lookups_ == kWindow) end_window();
    return false;
  }

  // Remembers rte_acl's answer for (context, key) (a second insert of the same key is
  // a no-op: two packets of one burst can both miss). A denying answer (no match) is
  // always remembered; an allowing one one time in allow_sample, picked by a xorshift
  // generator: a key that repeats is soon remembered, while new connections that never
  // repeat theirs (each makes its own connection entry anyway) seldom pay the write.
  void insert(uint32_t h, uint32_t context, const Key& key, uint32_t result) {
    if (!buckets_) return;
    if (result != acl::kNoMatch) {
      sample_ ^= sample_ << 13;
      sample_ ^= sample_ >> 17;
      sample_ ^= sample_ << 5;
      if (sample_ % allow_sample_ != 0) return;
    }
    const Words k = normal(key);
    Bucket& b = buckets_[h & mask_];
    for (const Entry& e : b.way)
      if (e.epoch == epoch_ && e.context == context && same(e.key, k)) return;
    if (b.way[0].epoch == epoch_) b.way[1] = b.way[0];  // the older answer goes
    b.way[0] = Entry{epoch_, context, result, k};
  }

  // Finds answered and missed, and checks that bypassed the cache, since construction
  // (the worker's stats, tests, benchmarks).
  [[nodiscard]] uint64_t hits() const { return hits_; }
  [[nodiscard]] uint64_t misses() const { return misses_; }
  [[nodiscard]] uint64_t bypassed() const { return bypassed_; }

 private:
  void end_window() {
    if (window_hits_ * 3 < window_lookups_) {
      bypass_left_ = kWindow * bypass_windows_;
      bypass_windows_ = bypass_windows_ * 2 > kMaxBypass ? kMaxBypass : bypass_windows_ * 2;
    } else {
      bypass_windows_ = kMinBypass;
    }
    window_hits_ = window_lookups_ = 0;
  }

  // The key in machine words, source port cleared, read without a store to memory (a
  // narrow store under a wide load stalls store forwarding). Any tail bytes are zero.
  static_assert(sizeof(Key) % 8 == 0 || sizeof(Key) % 8 == 4, "keys are whole 32-bit words");
  static constexpr size_t kWords = (sizeof(Key) + 7) / 8;
  struct Words {
    uint64_t w[kWords];
  };
  static Words normal(const Key& key) {
    const auto* p = reinterpret_cast<const unsigned char*>(&key);
    Words n;
    for (size_t i = 0; i < sizeof(Key) / 8; ++i) std::memcpy(&n.w[i], p + 8 * i, 8);
    if constexpr (sizeof(Key) % 8 == 4) {
      uint32_t tail;
      std::memcpy(&tail, p + sizeof(Key) - 4, 4);
      n.w[kWords - 1] = tail;
    }
    constexpr size_t kSport = offsetof(Key, sport);
    static_assert(sizeof(Key::sport) == 2 && kSport % 2 == 0);
    n.w[kSport / 8] &= ~(uint64_t{0xffff} << (8 * (kSport % 8)));
    return n;
  }
  static bool same(const Words& a, const Words& b) {
    uint64_t d = 0;
    for (size_t i = 0; i < kWords; ++i) d |= a.w[i] ^ b.w[i];
    return d == 0;
  }
  struct Entry {
    Epoch epoch;  // 0: never written
    uint32_t context;
    uint32_t result;
    Words key;
  };
  struct alignas(64) Bucket {
    Entry way[2];
  };

  std::unique_ptr<Bucket[]> buckets_;
  uint32_t mask_ = 0;
  Epoch epoch_ = 1;
  uint64_t serial_ = 0;  // snapshot serials start at 1
  uint32_t allow_sample_;
  bool adaptive_;
  uint32_t sample_ = 2463534242u;  // xorshift32 state (any non-zero seed)
  uint32_t window_lookups_ = 0, window_hits_ = 0;
  uint32_t bypass_left_ = 0;  // checks still to bypass the cache
  uint32_t bypass_windows_ = kMinBypass;
  uint64_t hits_ = 0, misses_ = 0, bypassed_ = 0;
};

// A worker's two caches; sizes in docs/design/packet-path.md ("The classification cache").
struct ClassifyCaches {
  static constexpr uint32_t kBuckets4 = 8192;  // x 64 bytes: 512 KiB
  static constexpr uint32_t kBuckets6 = 4096;  // x 128 bytes: 512 KiB
  ClassifyCache<acl::AclKey> v4{kBuckets4};
  ClassifyCache<acl::AclKey6> v6{kBuckets6};

  // No caches: every check goes to rte_acl (benchmarks: the caches' own effect).
  static ClassifyCaches none() { return {ClassifyCache<acl::AclKey>(0), ClassifyCache<acl::AclKey6>(0)}; }
  // Every check through the caches, every answer remembered (tests).
  static ClassifyCaches exhaustive() {
    return {ClassifyCache<acl::AclKey>(kBuckets4, 1, false), ClassifyCache<acl::AclKey6>(kBuckets6, 1, false)};
  }
};

}  // namespace sgfw::dataplane
