// An immutable hash map from integer keys (uint32_t, uint64_t, Key128) to small
// trivially copyable values, for the lookups of the packet path that a policy snapshot fixes
// (docs/design/packet-path.md "Lookups"): built once on the control path, then only
// read. Open addressing with linear probing in one flat array of slots (16 bytes for
// the integer keys with 4- or 8-byte values, 32 for Key128), at most half full; the build
// doubles the array until no key sits more than kMaxProbe slots from its home, so a
// lookup (hit or miss, whatever key an attacker sends) reads at most kMaxProbe + 1
// consecutive slots: one or two cache lines.
// The home slot is the top bits of the key times an odd multiplier (multiplicative
// hashing: two instructions, where a full 64-bit mixer costs nine on every lookup of
// every packet). The build tries further multipliers before it doubles the array, so a
// key set laid out against one multiplier (multiples of its inverse) does not grow it.
// A general-purpose rte_hash (signatures, buckets, a key compare through memcmp, its
// read/write concurrency) costs several times that for a table nobody writes.
// Thread-safety: find/find_bulk from any number of threads; build on one thread.
// Errors: build throws std::bad_alloc when memory runs out (control path only).
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace sgfw::core {

// A 16-byte key (an IPv6 address as two 8-byte halves, copied from network order).
struct Key128 {
  uint64_t lo = 0, hi = 0;
  bool operator==(const Key128&) const = default;
};

// A 64-bit finaliser (MurmurHash3's fmix64): every key bit moves every hash bit.
[[nodiscard]] inline uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}
// A key as the 64-bit word the multiplier scales: integers as they are; a Key128
// folded through the mixer first, so both halves reach every bit.
[[nodiscard]] inline uint64_t frozen_word(uint64_t key) { return key; }
[[nodiscard]] inline uint64_t frozen_word(const Key128& key) { return key.lo ^ mix64(key.hi); }

template <class Key, class Value>
class FrozenHashMap {
  static_assert(std::is_unsigned_v<Key> || std::is_same_v<Key, Key128>, "integer or Key128 keys");
  static_assert(std::is_trivially_copyable_v<Value>, "plain values");

 public:
  static constexpr uint32_t kMaxProbe = 8;
  // Multipliers tried at one array size before the build doubles it.
  static constexpr uint32_t kMultipliersPerSize = 4;

  FrozenHashMap() = default;

  // From (key, value) items; a later item with the same key replaces the earlier.
  [[nodiscard]] static FrozenHashMap build(const std::vector<std::pair<Key, Value>>& items) {
    size_t cap = 8;
    unsigned bits = 3;
    while (cap < 2 * items.size()) cap *= 2, ++bits;
    uint64_t multiplier = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio, odd
    for (;; cap *= 2, ++bits) {
      for (uint32_t t = 0; t < kMultipliersPerSize; ++t) {
        FrozenHashMap m;
        m.slots_.assign(cap, Slot{});
        m.mask_ = cap - 1;
        m.shift_ = 64 - bits;
        m.multiplier_ = multiplier;
        bool fits = true;
        for (const auto& [k, v] : items)
          if (!m.insert(k, v)) {
            fits = false;
            break;
          }
        if (fits) return m;
        multiplier = mix64(multiplier + t + 1) | 1;  // the next one: deterministic, odd
      }
    }
  }

  [[nodiscard]] size_t size() const { return size_; }
  [[nodiscard]] size_t slot_count() const { return slots_.size(); }
  [[nodiscard]] bool empty() const { return size_ == 0; }

  // The value of `key`, or `missing`.
  [[nodiscard]] Value find(const Key& key, const Value& missing) const {
    if (slots_.empty()) return missing;
    for (size_t i = home(key), n = 0; n <= kMaxProbe; i = (i + 1) & mask_, ++n) {
      const Slot& s = slots_[i];
      if (!s.used) return missing;
      if (s.key == key) return s.value;
    }
    return missing;
  }

  // n lookups at once: every key's home slot is prefetched before the first is read.
  void find_bulk(const Key* keys, uint32_t n, Value* out, const Value& missing) const {
    if (slots_.empty()) {
      for (uint32_t i = 0; i < n; ++i) out[i] = missing;
      return;
    }
    constexpr uint32_t kChunk = 64;
    size_t at[kChunk];
    for (uint32_t off = 0; off < n; off += kChunk) {
      const uint32_t m = n - off < kChunk ? n - off : kChunk;
      for (uint32_t i = 0; i < m; ++i) {
        at[i] = home(keys[off + i]);
        __builtin_prefetch(&slots_[at[i]]);
      }
      for (uint32_t i = 0; i < m; ++i) out[off + i] = probe(keys[off + i], at[i], missing);
    }
  }

 private:
  struct Slot {
    Key key{};
    bool used = false;
    Value value{};
  };

  [[nodiscard]] size_t home(const Key& key) const {
    return static_cast<size_t>((frozen_word(key) * multiplier_) >> shift_);
  }

  [[nodiscard]] Value probe(const Key& key, size_t i, const Value& missing) const {
    for (uint32_t n = 0; n <= kMaxProbe; i = (i + 1) & mask_, ++n) {
      const Slot& s = slots_[i];
      if (!s.used) return missing;
      if (s.key == key) return s.value;
    }
    return missing;
  }

  // False when the key would sit more than kMaxProbe slots from its home.
  bool insert(const Key& key, const Value& value) {
    for (size_t i = home(key), n = 0; n <= kMaxProbe; i = (i + 1) & mask_, ++n) {
      Slot& s = slots_[i];
      if (s.used && s.key != key) continue;
      size_ += !s.used;
      s = Slot{key, true, value};
      return true;
    }
    return false;
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  unsigned shift_ = 63;       // 64 - log2(slots)
  uint64_t multiplier_ = 1;   // odd
  size_t size_ = 0;
};

}  // namespace sgfw::core
