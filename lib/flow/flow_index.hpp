// The connection table's hash index (docs/design/flow-table.md, "The index"): maps a
// connection key to its position. It replaces rte_hash, whose add took a free slot from
// a ring (so positions cycled through the whole table, never warm in cache), kept every
// key a second time in its own key store, and read two buckets on every miss.
//
// The hash is keyed (a random 256-bit secret per index): the keys' fields come from
// packets, and a hash an attacker can compute (CRC-32C, which rte_hash used, is linear:
// keys that differ by a chosen pattern collide whatever the seed) would let a flood of
// crafted connections pile into one bucket run and make every lookup there a scan.
//
// Layout: a power of two of 64-byte buckets, each seven slots and an overflow count.
// A slot is 0 (empty) or (signature << 32 | position + 1); the key itself is read from
// the table's cold part at that position (key_at), which the table writes before the
// slot is published. A key lives in its home bucket or, when that is full, in the
// first bucket after it with room (linear, wrapping); every bucket it passes over
// counts it in `overflow`, so a search stops at the first bucket whose count is 0 and
// a removal needs no tombstone. Keys never move once placed.
//
// Beside the buckets, a 16-bit tag per bucket, 1/32 of their size (so it stays in cache
// where the buckets do not): bit (signature % 15) for each key stored in the bucket, and
// bit 15 while the bucket's overflow count is not 0. A key whose home bucket's tag has
// neither its bit nor bit 15 is absent, and its bucket is never read: a miss (a denied
// packet, a new connection's first lookup) costs a tag, not a bucket line.
//
// Thread-safety: find/find_bulk from any thread without a lock, concurrently with one
// writer (insert/erase; the table's writer lock serialises them). A reader sees a key
// inserted or not, never a torn slot: the writer stores the tags and overflow counts,
// then the slot (release); a reader loads the tag, then the slot (acquire), then the
// key. A removal clears the slot before it recomputes the tags. The key at a
// position must stay unchanged while a reader may hold that position: the table reuses
// a position only after an RCU grace period. No call allocates or fails after init().
#pragma once

#include <sys/random.h>
#include <x86intrin.h>

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

namespace sgfw::flow {

template <class Key>
class FlowIndex {
  static_assert(sizeof(Key) % 8 == 0, "keys are hashed as 64-bit words");

 public:
  static constexpr uint32_t kBulkMax = 64;  // find_bulk's n
  static constexpr uint32_t kSlots = 7;     // per bucket

  // The hash's secret: four random words (random_secret()), fixed for the index's life.
  using Secret = std::array<uint64_t, 4>;

  // Control thread, once: room for `positions` keys (positions 0 .. positions-1), whose
  // keys are read at key_base + pos * key_stride, hashed with `secret`. At most 3/7 of
  // the slots are ever used. False: no memory.
  [[nodiscard]] bool init(uint32_t positions, const std::byte* key_base, size_t key_stride, const Secret& secret) {
    secret_ = secret;
    nbuckets_ = std::bit_ceil(std::max<uint32_t>(2, (positions + 2) / 3));
    mask_ = nbuckets_ - 1;
    buckets_.reset(new (std::nothrow) Bucket[nbuckets_]);
    tags_.reset(new (std::nothrow) std::atomic<uint16_t>[nbuckets_]);
    if (tags_ != nullptr)
      for (uint32_t b = 0; b < nbuckets_; ++b) tags_[b].store(0, std::memory_order_relaxed);
    key_base_ = key_base;
    key_stride_ = key_stride;
    return buckets_ != nullptr && tags_ != nullptr;
  }

  // Four words from the kernel's random source (getrandom), or, if it fails, from the
  // TSC and addresses (weaker, never fails).
  [[nodiscard]] static Secret random_secret() {
    Secret s{};
    if (getrandom(s.data(), sizeof(s), 0) != static_cast<ssize_t>(sizeof(s))) {
      uint64_t x = __rdtsc() ^ reinterpret_cast<uintptr_t>(&s);
      for (uint64_t& w : s) w = x = fold(x ^ 0x9e3779b97f4a7c15ull, __rdtsc() | 1);
    }
    return s;
  }

  // The key's keyed hash: the low bits pick the home bucket, the high 32 bits are the
  // signature. Pairs of words, each mixed with the secret, are multiplied to 128 bits
  // and folded (the multiply-and-fold of wyhash-style hashes), then once more with the
  // secret. Data path: no allocation, ~4 multiplications for an IPv4 key.
  [[nodiscard]] uint64_t hash(const Key& k) const {
    constexpr size_t kWords = sizeof(Key) / 8;
    uint64_t w[kWords];
    std::memcpy(w, &k, sizeof(Key));
    uint64_t acc = secret_[0];
    for (size_t i = 0; i < kWords; i += 2) {
      const uint64_t second = i + 1 < kWords ? w[i + 1] : kWords;
      acc = fold(acc ^ w[i] ^ secret_[1], second ^ secret_[2]);
    }
    return fold(acc ^ secret_[3], secret_[0] ^ kWords);
  }

  // The position of `k`, or -1.
  [[nodiscard]] int32_t find(const Key& k) const { return find_from(k, hash(k)); }
  // The same, with the key's hash(k) at hand.
  [[nodiscard]] int32_t find(const Key& k, uint64_t h) const { return find_from(k, h); }

  // positions[i] = the position of *keys[i], or -1; n <= kBulkMax. In passes over the
  // burst: the tags and buckets are prefetched; a bucket its tag rules out is never
  // read (no wait for its line); then the keys of the signatures that match, and
  // `on_candidate(position)` for each (the caller prefetches what it reads next there).
  template <class OnCandidate>
  void find_bulk(const Key* const* keys, uint32_t n, int32_t* positions, OnCandidate&& on_candidate) const {
    uint64_t h[kBulkMax];
    for (uint32_t i = 0; i < n; ++i) {
      h[i] = hash(*keys[i]);
      __builtin_prefetch(&tags_[h[i] & mask_], 0, 3);
      __builtin_prefetch(&buckets_[h[i] & mask_], 0, 3);
    }
    bool maybe[kBulkMax];
    for (uint32_t i = 0; i < n; ++i) {
      maybe[i] = may_hold(h[i]);
      if (!maybe[i]) {
        positions[i] = -1;
        continue;
      }
      const int32_t c = first_match(buckets_[h[i] & mask_], sig_of(h[i]));
      positions[i] = c;
      if (c >= 0) {
        __builtin_prefetch(key_at(static_cast<uint32_t>(c)), 0, 3);
        on_candidate(static_cast<uint32_t>(c));
      }
    }
    for (uint32_t i = 0; i < n; ++i) {
      const int32_t c = positions[i];
      if (!maybe[i] || (c >= 0 && std::memcmp(key_at(static_cast<uint32_t>(c)), keys[i], sizeof(Key)) == 0)) continue;
      // Another key with the same signature, or none in the home bucket: the full search.
      const Bucket& home = buckets_[h[i] & mask_];
      positions[i] = (c < 0 && home.overflow.load(std::memory_order_acquire) == 0) ? -1 : find_from(*keys[i], h[i]);
    }
  }

  void find_bulk(const Key* const* keys, uint32_t n, int32_t* positions) const {
    find_bulk(keys, n, positions, [](uint32_t) {});
  }

  // Fetches the home bucket and tag of hash `h` for writing (before an insert).
  void prefetch_for_insert(uint64_t h) const {
    __builtin_prefetch(&buckets_[h & mask_], 1, 3);
    __builtin_prefetch(&tags_[h & mask_], 1, 3);
  }

  // Writer only. Publishes `pos` for the key now at key_at(pos), hash `h`; the key must
  // not be in the index. Cannot fail: at most 3/7 of the slots are in use.
  void insert(uint64_t h, uint32_t pos) {
    uint32_t b = static_cast<uint32_t>(h) & mask_;
    for (;;) {
      Bucket& bk = buckets_[b];
      for (uint32_t s = 0; s < kSlots; ++s) {
        if (bk.slot[s].load(std::memory_order_relaxed) == 0) {
          tags_[b].store(tags_[b].load(std::memory_order_relaxed) | tag_bit(sig_of(h)), std::memory_order_relaxed);
          bk.slot[s].store(uint64_t{sig_of(h)} << 32 | (pos + 1), std::memory_order_release);
          return;
        }
      }
      bk.overflow.store(bk.overflow.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      tags_[b].store(tags_[b].load(std::memory_order_relaxed) | kSpilled, std::memory_order_relaxed);
      b = (b + 1) & mask_;
    }
  }

  // Writer only. Removes `pos`, which holds the key of hash `h`; false if not found.
  bool erase(uint64_t h, uint32_t pos) {
    const uint64_t want = pos + 1;
    uint32_t b = static_cast<uint32_t>(h) & mask_;
    for (uint32_t hops = 0; hops <= mask_; ++hops) {
      Bucket& bk = buckets_[b];
      for (uint32_t s = 0; s < kSlots; ++s) {
        if ((bk.slot[s].load(std::memory_order_relaxed) & 0xffffffffu) == want) {
          bk.slot[s].store(0, std::memory_order_release);
          retag(b);
          // The buckets passed over no longer count it.
          for (uint32_t back = static_cast<uint32_t>(h) & mask_; back != b; back = (back + 1) & mask_) {
            buckets_[back].overflow.store(buckets_[back].overflow.load(std::memory_order_relaxed) - 1,
                                          std::memory_order_relaxed);
            retag(back);
          }
          return true;
        }
      }
      if (bk.overflow.load(std::memory_order_relaxed) == 0) return false;
      b = (b + 1) & mask_;
    }
    return false;
  }

  [[nodiscard]] uint32_t buckets() const { return nbuckets_; }
  // Keys homed at or before `bucket` that are stored after it (for tests).
  [[nodiscard]] uint32_t overflow(uint32_t bucket) const {
    return buckets_[bucket & mask_].overflow.load(std::memory_order_relaxed);
  }
  [[nodiscard]] size_t bytes() const { return size_t{nbuckets_} * (sizeof(Bucket) + sizeof(uint16_t)); }
  // The tag of `bucket` (for tests).
  [[nodiscard]] uint16_t tag(uint32_t bucket) const { return tags_[bucket & mask_].load(std::memory_order_relaxed); }

 private:
  struct alignas(64) Bucket {
    std::atomic<uint64_t> slot[kSlots] = {};
    std::atomic<uint32_t> overflow{0};  // keys homed at or before this bucket, stored after it
  };
  static_assert(sizeof(Bucket) == 64);

  static constexpr uint16_t kSpilled = 1u << 15;
  [[nodiscard]] static uint64_t fold(uint64_t a, uint64_t b) {
    const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
  }
  [[nodiscard]] static uint32_t sig_of(uint64_t h) { return static_cast<uint32_t>(h >> 32); }
  [[nodiscard]] static uint16_t tag_bit(uint32_t sig) { return static_cast<uint16_t>(1u << (sig % 15)); }
  // False: no key of hash h is in the index (its home bucket's tag rules it out).
  [[nodiscard]] bool may_hold(uint64_t h) const {
    return (tags_[h & mask_].load(std::memory_order_acquire) & (tag_bit(sig_of(h)) | kSpilled)) != 0;
  }
  // Writer: the tag of bucket b from its slots and its overflow count.
  void retag(uint32_t b) {
    const Bucket& bk = buckets_[b];
    uint16_t t = bk.overflow.load(std::memory_order_relaxed) != 0 ? kSpilled : 0;
    for (uint32_t s = 0; s < kSlots; ++s) {
      const uint64_t v = bk.slot[s].load(std::memory_order_relaxed);
      if (v != 0) t = static_cast<uint16_t>(t | tag_bit(static_cast<uint32_t>(v >> 32)));
    }
    tags_[b].store(t, std::memory_order_release);
  }
  [[nodiscard]] const Key* key_at(uint32_t pos) const {
    return reinterpret_cast<const Key*>(key_base_ + size_t{pos} * key_stride_);
  }
  // The first slot of `bk` with signature `sig`, or -1.
  [[nodiscard]] static int32_t first_match(const Bucket& bk, uint32_t sig) {
    for (uint32_t s = 0; s < kSlots; ++s) {
      const uint64_t v = bk.slot[s].load(std::memory_order_acquire);
      if (static_cast<uint32_t>(v >> 32) == sig && static_cast<uint32_t>(v) != 0)
        return static_cast<int32_t>(static_cast<uint32_t>(v) - 1);
    }
    return -1;
  }
  [[nodiscard]] int32_t find_from(const Key& k, uint64_t h) const {
    if (!may_hold(h)) return -1;
    const uint32_t sig = sig_of(h);
    uint32_t b = static_cast<uint32_t>(h) & mask_;
    for (uint32_t hops = 0; hops <= mask_; ++hops) {
      const Bucket& bk = buckets_[b];
      for (uint32_t s = 0; s < kSlots; ++s) {
        const uint64_t v = bk.slot[s].load(std::memory_order_acquire);
        if (static_cast<uint32_t>(v >> 32) != sig || static_cast<uint32_t>(v) == 0) continue;
        const uint32_t pos = static_cast<uint32_t>(v) - 1;
        if (std::memcmp(key_at(pos), &k, sizeof(Key)) == 0) return static_cast<int32_t>(pos);
      }
      if (bk.overflow.load(std::memory_order_acquire) == 0) return -1;
      b = (b + 1) & mask_;
    }
    return -1;
  }

  Secret secret_{};
  std::unique_ptr<Bucket[]> buckets_;
  std::unique_ptr<std::atomic<uint16_t>[]> tags_;  // [bucket]
  uint32_t nbuckets_ = 0;
  uint32_t mask_ = 0;
  const std::byte* key_base_ = nullptr;
  size_t key_stride_ = 0;
};

}  // namespace sgfw::flow
