#include "control/change_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace sgfw::control {

ChangeQueue::ChangeQueue(BaseOf base_of)
    : base_of_(std::move(base_of)), wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

ChangeQueue::~ChangeQueue() {
  if (result_.valid()) result_.wait();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ChangeQueue::submit(ChangeJob job) {
  if (job.peer.uid == 0) {
    // Root goes ahead of members' waiting changes (a member cannot delay root's change
    // by queueing builds), behind root's own.
    auto first_member = std::find_if(waiting_.begin(), waiting_.end(), [](const ChangeJob& j) { return j.peer.uid != 0; });
    waiting_.insert(first_member, std::move(job));
  } else {
    waiting_.push_back(std::move(job));
  }
  start_next();
}

size_t ChangeQueue::waiting_from_members() const {
  return static_cast<size_t>(std::count_if(waiting_.begin(), waiting_.end(), [](const ChangeJob& j) { return j.peer.uid != 0; }));
}

void ChangeQueue::start_next() {
  if (in_flight_ || waiting_.empty()) return;
  in_flight_ = std::move(waiting_.front());
  waiting_.pop_front();
  ChangeBase base = base_of_(in_flight_->request);
  const ChangeRequest* request = &in_flight_->request;  // stays put until finished() moves it out
  // Without a thread to spare, libstdc++ defers the build: finished() then runs it here.
  const int wake = wake_fd_;
  result_ = std::async(std::launch::async | std::launch::deferred, [request, base, wake]() {
    auto r = prepare_change(*request, base);
    uint64_t one = 1;
    if (wake >= 0) (void)!write(wake, &one, sizeof(one));
    return r;
  });
}

std::optional<FinishedChange> ChangeQueue::finished() {
  if (!in_flight_ || result_.wait_for(std::chrono::seconds(0)) == std::future_status::timeout) return std::nullopt;
  FinishedChange f{std::move(*in_flight_), result_.get()};
  uint64_t events = 0;
  if (wake_fd_ >= 0) (void)!read(wake_fd_, &events, sizeof(events));
  in_flight_.reset();
  return f;
}

}  // namespace sgfw::control
