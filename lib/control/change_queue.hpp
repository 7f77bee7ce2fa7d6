// Policy changes waiting for, and in, the builder thread (docs/control.md, "Changes").
// A change's parse, validation and snapshot build (seconds for a large policy) run on
// a builder thread so that the control thread keeps answering status, stats, flows,
// explain and flush meanwhile; the commit (publish, persist) stays on the control
// thread. One change builds at a time; changes from root go ahead of members' waiting
// ones. The queue is bounded by the control socket (a connection is not read while its
// change waits, so at most one change per connection is queued) and by the control
// plane (at most kMaxWaitingMemberChanges from members: a request holds up to 64 MiB).
// Control thread only (the builder thread touches nothing of this class but the
// future it fulfils); the destructor waits for a build in flight. No exception
// leaves it: a build that throws (std::bad_alloc) finishes as a refused change.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <future>
#include <optional>

#include "control/policy_change.hpp"
#include "control/socket_server.hpp"

namespace sgfw::control {

// Members' changes that may wait behind the one building; more are refused (root's never).
inline constexpr size_t kMaxWaitingMemberChanges = 2;

struct ChangeJob {
  ChangeRequest request;
  Peer peer;  // peer.connection: where the reply goes
  // Set: the outcome goes here (control thread, after the commit) instead of a reply
  // to peer.connection (an etcd batch, docs/fleet.md).
  std::function<void(const core::Expected<nlohmann::ordered_json>&)> done;
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
};

struct FinishedChange {
  ChangeJob job;
  core::Expected<PreparedChange> result;
};

class ChangeQueue {
 public:
  // `base_of` is called on the control thread when a job starts, with its request: the
  // running generation and the generation number the change will have.
  using BaseOf = std::function<ChangeBase(const ChangeRequest&)>;
  // The build, run on the builder thread (tests substitute their own).
  using Prepare = std::function<core::Expected<PreparedChange>(const ChangeRequest&, const ChangeBase&)>;
  explicit ChangeQueue(BaseOf base_of, Prepare prepare = prepare_change);
  ChangeQueue(const ChangeQueue&) = delete;
  ChangeQueue& operator=(const ChangeQueue&) = delete;
  ~ChangeQueue();

  void submit(ChangeJob job);
  // The change whose build has finished, if any (then the next one starts once the
  // caller has committed it: call start_next()). A build that threw comes out as an
  // error result, and the queue moves on.
  [[nodiscard]] std::optional<FinishedChange> finished();
  // Starts the first waiting change if none is building.
  void start_next();
  [[nodiscard]] bool building() const { return in_flight_.has_value(); }
  // Readable once a build has finished (an eventfd, drained by finished()): a poll loop
  // watches it to commit at once. -1 if it could not be created (poll with a timeout).
  [[nodiscard]] int wake_fd() const { return wake_fd_; }
  [[nodiscard]] size_t waiting() const { return waiting_.size(); }
  // Waiting changes from peers other than root.
  [[nodiscard]] size_t waiting_from_members() const;

 private:
  BaseOf base_of_;
  Prepare prepare_;
  std::deque<ChangeJob> waiting_;
  std::optional<ChangeJob> in_flight_;
  // The build's outcome, set before the wake descriptor is written: a woken loop finds
  // it ready (it shares a CPU with the builder thread; polling for it would spin).
  std::future<core::Expected<PreparedChange>> result_;
  std::future<void> builder_;  // the builder thread's task (deferred: no thread to spare)
  int wake_fd_ = -1;
};

}  // namespace sgfw::control
