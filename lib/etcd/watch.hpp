// A watch on every key under a prefix, from a revision, on its own thread
// (docs/design/etcd-client.md, "Watch"). Control path only.
//
// Delivery: the callback runs on the watch's thread, one call per WatchResponse with
// events (their revisions ascending, each revision delivered once). When the stream
// breaks (member down, no leader, keepalive timeout) the watch reports kDisconnected,
// waits (exponential backoff with jitter) and opens a stream on the next endpoint from
// the last delivered revision + 1, so no event is lost or delivered twice across a
// reconnect. If that revision was compacted it reports kCompacted and ends: the caller
// reloads (range_prefix) and starts a new watch. A server-side cancel ends it too.
//
// Thread-safety: start() and stop() from one owner thread; last_revision() and
// running() from any thread. The callback must not call stop() on its own watch (it
// would wait for itself) nor throw. Errors: start() fails only on bad arguments.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/expected.hpp"
#include "etcd/client.hpp"
#include "etcd/types.hpp"

namespace grpc {
class ClientContext;
}

namespace sgfw::etcd {

class Watch {
 public:
  using Callback = std::function<void(const WatchUpdate&)>;

  // Watches every key under `prefix` (non-empty) from `start_revision` (> 0; 0: from
  // now). The client's endpoints, timeouts and backoff are used; the client may be
  // shared with other threads.
  [[nodiscard]] static core::Expected<std::unique_ptr<Watch>> start(std::shared_ptr<Client> client,
                                                                    std::string prefix, int64_t start_revision,
                                                                    Callback callback);
  ~Watch();  // stop()
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  // Ends the stream and joins the thread; idempotent. No callback runs after it returns.
  void stop();
  // The revision of the last event delivered (0: none yet).
  [[nodiscard]] int64_t last_revision() const noexcept { return last_revision_.load(); }
  // False once the watch ended (compacted, canceled, stopped).
  [[nodiscard]] bool running() const noexcept { return running_.load(); }
  // How many events the server sent again after a reconnect and the watch dropped
  // (revision <= last delivered); expected 0.
  [[nodiscard]] uint64_t duplicates_dropped() const noexcept { return duplicates_.load(); }

 private:
  Watch(std::shared_ptr<Client> client, std::string prefix, int64_t start_revision, Callback callback);
  void run();
  // One stream on endpoint `i`; true: the watch ended (compacted, canceled, stopping).
  bool run_stream(size_t i, bool& connected);
  void sleep_for(std::chrono::milliseconds d);

  std::shared_ptr<Client> client_;
  std::string prefix_;
  int64_t next_revision_;  // watch thread only
  Callback callback_;
  std::atomic<int64_t> last_revision_{0};
  std::atomic<bool> running_{true};
  std::atomic<uint64_t> duplicates_{0};
  std::mutex mutex_;  // guards stopping_ and context_
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;  // the open stream's, to cancel it
  std::thread thread_;
};

}  // namespace sgfw::etcd
