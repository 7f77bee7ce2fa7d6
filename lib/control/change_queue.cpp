#include "control/change_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>

namespace sgfw::control {

ChangeQueue::ChangeQueue(BaseOf base_of)
    : base_of_(std::move(base_of)), wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

ChangeQueue::~ChangeQueue() {
  if (builder_.valid()) builder_.wait();  // runs a deferred build: its outcome is dropped
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
  auto outcome = std::make_shared<std::promise<core::Expected<PreparedChange>>>();
  result_ = outcome->get_future();
  builder_ = std::async(std::launch::async | std::launch::deferred, [request, base, wake, outcome]() {
    try {
      outcome->set_value(prepare_change(*request, base));  // ready before the wake-up
    } catch (...) {  // std::bad_alloc: rethrown by finished() on the control thread, as before
      outcome->set_exception(std::current_exception());
    }
    uint64_t one = 1;
    if (wake >= 0) (void)!write(wake, &one, sizeof(one));
  });
}

std::optional<FinishedChange> ChangeQueue::finished() {
  uint64_t events = 0;
  // Drained on every call: a wake-up that arrives after its outcome was taken (the
  // loop's timeout found it first) must not leave the descriptor readable.
  if (wake_fd_ >= 0) (void)!read(wake_fd_, &events, sizeof(events));
  if (!in_flight_) return std::nullopt;
  if (builder_.valid() && builder_.wait_for(std::chrono::seconds(0)) == std::future_status::deferred) builder_.get();
  if (result_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return std::nullopt;
  FinishedChange f{std::move(*in_flight_), result_.get()};
  in_flight_.reset();
  return f;
}

}  // namespace sgfw::control
