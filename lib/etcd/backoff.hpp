// Exponential backoff with jitter for reconnecting (docs/design/etcd-client.md,
// "Reconnection"): the n-th delay is uniform in [d/2, d] with d = min(initial * 2^n, max).
// Not thread-safe: one per reconnecting loop. Never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace sgfw::etcd {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed);

  // The delay before the next attempt; each call doubles the ceiling up to `max`.
  [[nodiscard]] std::chrono::milliseconds next();
  // After a success: the next delay starts from `initial` again.
  void reset() noexcept { attempt_ = 0; }
  [[nodiscard]] uint32_t attempts() const noexcept { return attempt_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  uint32_t attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace sgfw::etcd
