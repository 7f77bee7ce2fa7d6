#pragma once
// GET /metrics over HTTP (docs/metrics.md). cpp-httplib serves on its own threads; the
// text is rendered on the control thread: a request is posted here, the serve loop sees
// wake_fd() readable, calls serve_pending(), and the HTTP thread waits (bounded) for
// the text. The HTTP threads never touch the control plane's state.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/expected.hpp"

namespace httplib {
class Server;
}

namespace sgfw::daemon {

class MetricsServer {
 public:
  // Binds host:port and starts serving. Control path.
  [[nodiscard]] static core::Expected<std::unique_ptr<MetricsServer>> start(const std::string& host, uint16_t port);
  ~MetricsServer();  // stops the listener and joins its threads
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Readable (eventfd) while a request waits for its text.
  [[nodiscard]] int wake_fd() const { return wake_fd_; }
  // Control thread: renders once for every request waiting now.
  void serve_pending(const std::function<std::string()>& render);

 private:
  MetricsServer();
  std::optional<std::string> wait_for_text();  // HTTP threads

  std::unique_ptr<httplib::Server> http_;
  std::thread listener_;
  int wake_fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t asked_ = 0;   // requests posted
  uint64_t served_ = 0;  // the highest request the text answers
  std::string text_;
};

}  // namespace sgfw::daemon
