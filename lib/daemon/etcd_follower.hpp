// The daemon following an etcd prefix (docs/fleet.md, "Following the policy live"):
// the key map as etcd holds it, the watch from the loaded revision + 1, each batch
// (one WatchResponse, or everything of a staged push) applied through the control
// plane's change path, refused whole when invalid; status, metrics and the contract's
// log lines; the persisted copy; `reload` and `vm set-groups` with the etcd source.
//
// Thread-safety: control thread only (construction, pump(), tick(), destruction). The
// watch's callback runs on its gRPC thread and only posts to the loader's inbox
// (etcd_loader.hpp), whose eventfd the control loop polls. Errors are logged and kept
// for status; nothing throws out of pump().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/control_plane.hpp"
#include "daemon/etcd_loader.hpp"
#include "daemon/etcd_start.hpp"
#include "etcd/watch.hpp"
#include "follow/copy_writer.hpp"
#include "runtime/publisher.hpp"

namespace sgfw::daemon {

class EtcdFollower {
 public:
  using Deliver = std::function<void(uint64_t connection, const std::string& reply)>;

  // Starts following after the first generation (built from `start`) is published:
  // from etcd, the watch from start.revision + 1 and a persisted copy; from the
  // persisted copy, full loads in the background until etcd answers. Installs the
  // control plane's source hooks. Error: the loader cannot be made.
  [[nodiscard]] static core::Expected<std::unique_ptr<EtcdFollower>> start(const config::DaemonConfig& cfg,
                                                                           EtcdStart start,
                                                                           control::ControlPlane& control,
                                                                           runtime::Publisher* publisher);
  ~EtcdFollower();
  EtcdFollower(const EtcdFollower&) = delete;
  EtcdFollower& operator=(const EtcdFollower&) = delete;

  [[nodiscard]] int wake_fd() const { return loader_->wake_fd(); }
  // Handles what the loader and the watch posted, starts the next batch; replies go
  // out through `deliver`. Then the persisted copy, at most once per second.
  void pump(const Deliver& deliver);

 private:
  EtcdFollower(const config::DaemonConfig& cfg, control::ControlPlane& control, runtime::Publisher* publisher);
  void on_update(const etcd::WatchUpdate& u);
  void on_loaded(etcd::RangeResult range, const std::string& endpoint);
  void on_written(const LoaderItem& item, const Deliver& deliver);
  void set_connected(bool connected, const std::string& what);
  void start_watch(int64_t from);
  void next_batch();
  void on_result(const core::Expected<control::Json>& r, int64_t revision, bool full, uint64_t epoch);
  void persist_if_due();
  std::optional<std::string> change(control::ChangeRequest request, const control::Peer& peer);
  [[nodiscard]] control::Json status() const;
  [[nodiscard]] std::string metrics() const;

  config::EtcdSource src_;
  std::string copy_path_;
  control::ControlPlane& control_;
  runtime::Publisher* publisher_;
  std::shared_ptr<etcd::Client> client_;
  std::unique_ptr<EtcdLoader> loader_;
  std::unique_ptr<etcd::Watch> watch_;
  std::unique_ptr<follow::CopyWriter> writer_;

  fleet::KeyValues map_;             // etcd's keys as of map_revision_ (also invalid values)
  int64_t map_revision_ = 0;
  std::vector<etcd::Event> pending_; // delivered, not yet in a batch
  bool have_map_ = false;            // false: started on the persisted copy, no load yet
  bool push_open_ = false;           // PREFIX meta/push exists: batches wait for its delete
  bool consistent_ = false;          // the running policy is decode(map_) (fast path allowed)
  bool need_full_ = false;           // the next batch is a full decode even without events
  bool in_flight_ = false;
  uint64_t epoch_ = 0;               // full loads so far: a batch from before the last one does not mark the map consistent

  int64_t revision_ = 0;             // the revision the running generation reflects
  std::chrono::system_clock::time_point applied_at_;
  bool connected_ = false;
  uint64_t refused_ = 0;
  std::optional<std::string> last_error_;
  std::optional<control::Json> last_result_;  // the last applied batch's commit result
  bool copy_due_ = false;
  std::chrono::steady_clock::time_point copy_offered_{};

  struct Waiter {
    uint64_t connection = 0;
    int64_t revision = 0;  // reply once a batch up to it is applied (or refused)
    bool reload = false;   // a reload: the next full batch
  };
  std::vector<Waiter> waiters_;
  std::vector<std::pair<uint64_t, std::string>> replies_;  // ready to deliver
};

}  // namespace sgfw::daemon
