// The per-file rate limit (docs/logs.md, "Rate limit"): at most `per_s` lines whose
// event time falls in one UTC second; the rest of that second is suppressed and
// counted, and reported once the second is over. Control path, no clock of its own
// (the caller passes the seconds: tests inject them). Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <optional>

namespace sgfw::logs {

class RateLimiter {
 public:
  struct Window {
    int64_t second;
    uint64_t suppressed;
  };
  // per_s >= 1.
  explicit RateLimiter(uint32_t per_s) : per_s_(per_s) {}

  // One line of second `sec`: true = write it. A later second closes the current
  // window; if it suppressed lines, *closed receives it. A line of an earlier second
  // (records of several workers arrive slightly out of order) counts in the current one.
  bool admit(int64_t sec, std::optional<Window>* closed) {
    if (sec > second_) *closed = close(sec);
    if (written_ < per_s_) {
      ++written_;
      return true;
    }
    ++suppressed_;
    ++suppressed_total_;
    return false;
  }
  // The current window, if it suppressed lines and `now_sec` is past it (closed).
  std::optional<Window> expire(int64_t now_sec) { return now_sec > second_ ? close(now_sec) : std::nullopt; }
  [[nodiscard]] uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  std::optional<Window> close(int64_t next) {
    std::optional<Window> w;
    if (suppressed_ != 0) w = Window{second_, suppressed_};
    second_ = next;
    written_ = 0;
    suppressed_ = 0;
    return w;
  }
  uint32_t per_s_;
  int64_t second_ = INT64_MIN;
  uint32_t written_ = 0;
  uint64_t suppressed_ = 0;
  uint64_t suppressed_total_ = 0;
};

}  // namespace sgfw::logs
