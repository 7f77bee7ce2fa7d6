#include "control/change_queue.hpp"

#include <algorithm>
#include <chrono>

namespace sgfw::control {

ChangeQueue::~ChangeQueue() {
  if (result_.valid()) result_.wait();
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

void ChangeQueue::start_next() {
  if (in_flight_ || waiting_.empty()) return;
  in_flight_ = std::move(waiting_.front());
  waiting_.pop_front();
  ChangeBase base = base_of_();
  const ChangeRequest* request = &in_flight_->request;  // stays put until finished() moves it out
  // Without a thread to spare, libstdc++ defers the build: finished() then runs it here.
  result_ = std::async(std::launch::async | std::launch::deferred,
                       [request, base]() { return prepare_change(*request, base); });
}

std::optional<FinishedChange> ChangeQueue::finished() {
  if (!in_flight_ || result_.wait_for(std::chrono::seconds(0)) == std::future_status::timeout) return std::nullopt;
  FinishedChange f{std::move(*in_flight_), result_.get()};
  in_flight_.reset();
  return f;
}

}  // namespace sgfw::control
