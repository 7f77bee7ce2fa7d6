// A small deterministic random generator for synthetic inputs (SplitMix64). Unlike the
// <random> distributions, whose output differs between standard libraries, the same
// seed gives the same sequence everywhere. Not for cryptography. Thread-safety: a plain
// value; one instance per thread.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace sgfw::bench {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  [[nodiscard]] uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n); n > 0. Multiply-shift (bias below 2^-32 for n < 2^32).
  [[nodiscard]] uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

  // Uniform in [lo, hi], lo <= hi.
  [[nodiscard]] uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }

  // True with probability p (0..1).
  [[nodiscard]] bool chance(double p) {
    return static_cast<double>(next() >> 11) * 0x1.0p-53 < p;
  }

  // Fisher-Yates.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  uint64_t state_;
};

}  // namespace sgfw::bench
