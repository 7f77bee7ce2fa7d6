#include "daemon/metrics_server.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <httplib.h>

namespace sgfw::daemon {

namespace {

constexpr unsigned kHttpThreads = 2;                   // requests served at once
constexpr auto kRenderWait = std::chrono::seconds(2);  // for the control thread's text
constexpr time_t kIoTimeoutS = 2;                      // read and write of one request
constexpr size_t kMaxBody = 1024;                      // a GET has none

}  // namespace

MetricsServer::MetricsServer() : http_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() {
  if (http_) http_->stop();
  if (listener_.joinable()) listener_.join();
  {
    // Waiters give up at once (the serve loop is gone).
    std::lock_guard<std::mutex> lk(mu_);
    served_ = asked_;
    text_.clear();
  }
  cv_.notify_all();
  if (wake_fd_ >= 0) close(wake_fd_);
}

core::Expected<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& host, uint16_t port) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (m->wake_fd_ < 0) return core::make_error("metrics: eventfd failed");
  httplib::Server& s = *m->http_;
  s.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  s.set_payload_max_length(kMaxBody);
  s.set_read_timeout(kIoTimeoutS, 0);
  s.set_write_timeout(kIoTimeoutS, 0);
  s.set_keep_alive_max_count(1);  // one request per connection: a client cannot hold a thread
  MetricsServer* self = m.get();
  s.Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
    std::optional<std::string> text = self->wait_for_text();
    if (!text) {
      res.status = 503;
      res.set_content("control thread busy\n", "text/plain");
      return;
    }
    res.set_content(std::move(*text), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (!s.bind_to_port(host, port))
    return core::make_error("metrics.listen " + host + ":" + std::to_string(port) + ": cannot bind");
  m->listener_ = std::thread([self] { self->http_->listen_after_bind(); });
  return m;
}

std::optional<std::string> MetricsServer::wait_for_text() {
  std::unique_lock<std::mutex> lk(mu_);
  uint64_t mine = ++asked_;
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    // The counter is full only with 2^64-2 posts pending: the loop reads it first.
  }
  if (!cv_.wait_for(lk, kRenderWait, [&] { return served_ >= mine; }) || text_.empty()) return std::nullopt;
  return text_;
}

void MetricsServer::serve_pending(const std::function<std::string()>& render) {
  uint64_t n;
  if (read(wake_fd_, &n, sizeof(n)) < 0) {
    // EAGAIN: nothing posted since the last call.
  }
  uint64_t upto;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (served_ >= asked_) return;
    upto = asked_;
  }
  std::string text = render();  // outside the lock: the HTTP threads only wait
  {
    std::lock_guard<std::mutex> lk(mu_);
    text_ = std::move(text);
    served_ = upto;
  }
  cv_.notify_all();
}

}  // namespace sgfw::daemon
