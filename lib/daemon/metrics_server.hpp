#pragma once
// GET /metrics over HTTP (docs/metrics.md). cpp-httplib serves on its own threads; the
// text is rendered on the control thread through a ControlHandoff: a request is
// posted, the serve loop calls serve_pending(), and the HTTP thread waits (bounded) for
// the text. The HTTP threads never touch the control plane's state.
//
// Bounded (docs/metrics.md, "Limits"): kHttpThreads threads, at most kMaxQueued
// accepted connections waiting for one (past that a connection is answered 503 and
// closed at once by the accepting thread), and every connection closed at the latest
// kConnectionDeadline after it was accepted, whatever the client does.
//
// Thread-safety: start() and the destructor on the control thread; serve_pending()
// on the control thread only. Errors are returned (start), never thrown.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/expected.hpp"
#include "daemon/control_handoff.hpp"

namespace sgfw::daemon {

class BoundedHttpServer;

class MetricsServer {
 public:
  static constexpr unsigned kHttpThreads = 2;       // requests served at once
  static constexpr unsigned kMaxQueued = 8;         // accepted connections waiting for a thread
  static constexpr auto kConnectionDeadline = std::chrono::seconds(5);
  static constexpr auto kRenderWait = std::chrono::seconds(2);  // for the control thread's text

  // Binds host:port and starts serving. Control path. Error: cannot bind (in use, no
  // such address) or no eventfd.
  [[nodiscard]] static core::Expected<std::unique_ptr<MetricsServer>> start(const std::string& host, uint16_t port);
  ~MetricsServer();  // stops the listener and joins its threads
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Control thread: renders once for every request waiting now.
  void serve_pending(const std::function<std::string()>& render) { handoff_->serve_pending(render); }

 private:
  MetricsServer() = default;

  std::unique_ptr<ControlHandoff> handoff_;
  std::unique_ptr<BoundedHttpServer> http_;
  std::thread listener_;
};

}  // namespace sgfw::daemon
