#pragma once
// The hand-off between threads that serve clients of their own (the HTTP threads of
// GET /metrics, DPDK's telemetry thread) and the control thread, which alone may read
// the control plane's state (docs/metrics.md, "Where the text is made"). A client
// thread calls ask(): it posts a request, makes wake_fd() readable and waits, bounded,
// for the text; the control thread's serve loop calls serve_pending(), which renders
// once for every request posted so far.
//
// Thread-safety: ask() from any number of threads; serve_pending() and close() from
// the control thread only. No exceptions beyond std::bad_alloc; errors are returned.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "core/expected.hpp"

namespace sgfw::daemon {

class ControlHandoff {
 public:
  // Error: no eventfd could be made.
  [[nodiscard]] static core::Expected<std::unique_ptr<ControlHandoff>> create(std::chrono::milliseconds wait);
  ~ControlHandoff();
  ControlHandoff(const ControlHandoff&) = delete;
  ControlHandoff& operator=(const ControlHandoff&) = delete;

  // Readable (eventfd) while a request waits for its text.
  [[nodiscard]] int wake_fd() const { return wake_fd_; }
  // Client threads: the control thread's rendering, or nothing when it did not come
  // within the wait given to create() (or after close()).
  [[nodiscard]] std::optional<std::string> ask();
  // Control thread: renders once for every request waiting now (nothing to do: returns
  // at once without rendering).
  void serve_pending(const std::function<std::string()>& render);
  // Control thread: every waiter, now and later, gives up at once.
  void close();

 private:
  explicit ControlHandoff(std::chrono::milliseconds wait) : wait_(wait) {}

  std::chrono::milliseconds wait_;
  int wake_fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  uint64_t asked_ = 0;   // requests posted
  uint64_t served_ = 0;  // the highest request the text answers
  std::string text_;
};

}  // namespace sgfw::daemon
