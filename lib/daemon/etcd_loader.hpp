// The etcd follower's background side (docs/fleet.md, "Following the policy live"):
// one thread that runs the calls which may wait on etcd (a full load, retried with
// backoff until it succeeds; the guarded write of `vm set-groups`), and the inbox
// through which their results and the watch's updates reach the control thread (an
// eventfd the control loop polls). Nothing here touches the control plane.
//
// Thread-safety: post_update() from any thread (the watch's gRPC thread);
// request_full_load(), request_set_groups(), drain() and the destructor from the
// control thread. Errors travel as messages in the results.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "etcd/client.hpp"
#include "etcd/types.hpp"

namespace sgfw::daemon {

struct LoaderItem {
  enum class Kind : uint8_t { kUpdate, kLoaded, kLoadFailed, kWritten };
  Kind kind = Kind::kUpdate;
  etcd::WatchUpdate update;  // kUpdate
  etcd::RangeResult range;   // kLoaded
  std::string endpoint;      // kLoaded: the member that answered
  std::shared_ptr<etcd::Client> client;  // kLoaded: the client that answered (its channel is up)
  std::string error;         // kLoadFailed, kWritten (empty: written)
  uint64_t connection = 0;   // kWritten: the set-groups request's
  int64_t revision = 0;      // kWritten: the store's revision after the write
};

class EtcdLoader {
 public:
  // Error: no eventfd.
  [[nodiscard]] static core::Expected<std::unique_ptr<EtcdLoader>> create(std::shared_ptr<etcd::Client> client,
                                                                          std::string prefix);
  ~EtcdLoader();
  EtcdLoader(const EtcdLoader&) = delete;
  EtcdLoader& operator=(const EtcdLoader&) = delete;

  [[nodiscard]] int wake_fd() const { return wake_fd_; }
  void post_update(etcd::WatchUpdate update);
  // Reads every key under the prefix at one revision, again and again (backoff up to
  // 2 s, a kLoadFailed per failure) until it succeeds: one kLoaded.
  void request_full_load();
  // `sgfwctl vm set-groups` (contract item 6): reads PREFIX vms/VM, replaces its
  // securityGroups, writes it guarded by its mod_revision (a few tries on a conflict).
  void request_set_groups(uint64_t connection, std::string vm, std::vector<std::string> groups);
  // Everything posted so far, in order.
  [[nodiscard]] std::vector<LoaderItem> drain();

 private:
  EtcdLoader(std::shared_ptr<etcd::Client> client, std::string prefix, int wake_fd);
  void run();
  void post(LoaderItem item);
  void full_load();
  LoaderItem set_groups(uint64_t connection, const std::string& vm, const std::vector<std::string>& groups);

  struct Job {
    bool full_load = false;
    uint64_t connection = 0;
    std::string vm;
    std::vector<std::string> groups;
  };
  std::shared_ptr<etcd::Client> client_;
  std::string prefix_;
  int wake_fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<LoaderItem> inbox_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sgfw::daemon
