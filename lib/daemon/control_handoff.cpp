#include "daemon/control_handoff.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>

namespace sgfw::daemon {

core::Expected<std::unique_ptr<ControlHandoff>> ControlHandoff::create(std::chrono::milliseconds wait) {
  std::unique_ptr<ControlHandoff> h(new ControlHandoff(wait));
  h->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (h->wake_fd_ < 0) return core::make_error("eventfd failed");
  return h;
}

ControlHandoff::~ControlHandoff() {
  close();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ControlHandoff::close() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
    served_ = asked_;
    text_.clear();
  }
  cv_.notify_all();
}

std::optional<std::string> ControlHandoff::ask() {
  std::unique_lock<std::mutex> lk(mu_);
  if (closed_) return std::nullopt;
  uint64_t mine = ++asked_;
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    // The counter is full only with 2^64-2 posts pending: the loop reads it first.
  }
  if (!cv_.wait_for(lk, wait_, [&] { return served_ >= mine; }) || closed_ || text_.empty()) return std::nullopt;
  return text_;
}

void ControlHandoff::serve_pending(const std::function<std::string()>& render) {
  uint64_t n;
  if (read(wake_fd_, &n, sizeof(n)) < 0) {
    // EAGAIN: nothing posted since the last call.
  }
  uint64_t upto;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_ || served_ >= asked_) return;
    upto = asked_;
  }
  std::string text = render();  // outside the lock: the client threads only wait
  {
    std::lock_guard<std::mutex> lk(mu_);
    text_ = std::move(text);
    served_ = upto;
  }
  cv_.notify_all();
}

}  // namespace sgfw::daemon
