#include "daemon/metrics_server.hpp"

#include <chrono>

#include "daemon/bounded_http.hpp"

namespace sgfw::daemon {

namespace {

constexpr time_t kIoTimeoutS = 2;  // each read and write of one request
constexpr size_t kMaxBody = 1024;  // a GET has none

}  // namespace

MetricsServer::~MetricsServer() {
  if (handoff_) handoff_->close();  // waiters give up at once (the serve loop is gone): 503
  if (http_) http_->stop();
  if (listener_.joinable()) listener_.join();  // the HTTP threads are joined with it
  http_.reset();
}

core::Expected<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& host, uint16_t port) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  auto handoff = ControlHandoff::create(std::chrono::duration_cast<std::chrono::milliseconds>(kRenderWait));
  if (!handoff) return core::make_error("metrics: " + handoff.error().message);
  m->handoff_ = std::move(*handoff);
  m->http_ = std::make_unique<BoundedHttpServer>(port, kHttpThreads, kMaxQueued,
                                                 std::chrono::duration_cast<std::chrono::milliseconds>(kConnectionDeadline));
  BoundedHttpServer& s = *m->http_;
  s.set_payload_max_length(kMaxBody);
  s.set_read_timeout(kIoTimeoutS, 0);
  s.set_write_timeout(kIoTimeoutS, 0);
  s.set_keep_alive_max_count(1);  // one request per connection: a client cannot hold a thread
  ControlHandoff* handoff_ptr = m->handoff_.get();
  s.Get("/metrics", [handoff_ptr](const httplib::Request&, httplib::Response& res) {
    std::optional<std::string> text = handoff_ptr->ask();
    if (!text) {
      res.status = 503;
      res.set_content("control thread busy\n", "text/plain");
      return;
    }
    res.set_content(std::move(*text), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (!s.bind_to_port(host, port))
    return core::make_error("metrics.listen " + host + ":" + std::to_string(port) + ": cannot bind");
  BoundedHttpServer* http = m->http_.get();
  m->listener_ = std::thread([http] { http->listen_after_bind(); });
  return m;
}

}  // namespace sgfw::daemon
