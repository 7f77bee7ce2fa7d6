#include "control/change_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <string>

namespace sgfw::control {

namespace {

// The outcome of a finished build; an exception it threw becomes the change's error.
core::Expected<PreparedChange> take_outcome(std::future<core::Expected<PreparedChange>>& result) {
  try {
    return result.get();
  } catch (const std::bad_alloc&) {
    return core::make_error("out of memory while building the change; the running policy is unchanged");
  } catch (const std::exception& e) {
    return core::make_error(std::string("internal error while building the change (") + e.what() +
                            "); the running policy is unchanged");
  } catch (...) {
    return core::make_error("internal error while building the change; the running policy is unchanged");
  }
}

}  // namespace

ChangeQueue::ChangeQueue(BaseOf base_of, Prepare prepare)
    : base_of_(std::move(base_of)), prepare_(std::move(prepare)), wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

ChangeQueue::~ChangeQueue() {
  // A build on the builder thread reads the running generation: wait for it. A
  // deferred build has not started and is not run.
  if (builder_.valid() && builder_.wait_for(std::chrono::seconds(0)) != std::future_status::deferred) builder_.wait();
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
  builder_ = std::async(std::launch::async | std::launch::deferred, [request, base, wake, outcome, prepare = prepare_]() {
    try {
      outcome->set_value(prepare(*request, base));  // ready before the wake-up
    } catch (...) {  // std::bad_alloc: finished() turns it into the change's error
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
  FinishedChange f{std::move(*in_flight_), take_outcome(result_)};
  in_flight_.reset();
  return f;
}

}  // namespace sgfw::control
