#pragma once
// A cpp-httplib server whose resources a client cannot exhaust (docs/metrics.md,
// "Limits"): a fixed pool of threads, a bounded queue of accepted connections (past
// it, the accepting thread answers 503 and shuts the connection at once, it never
// waits), and a deadline per connection after which its socket is shut down, however
// slowly the client sends (slowloris) or reads.
//
// cpp-httplib 0.11 hands a connection to the task queue as an opaque task: the
// connections are found by their socket inode under /proc/self/fd (those connected
// to this server's port), when the accepting thread queues one and every 100 ms.
//
// Thread-safety: configure (the httplib::Server setters, routes) before
// listen_after_bind(); stop() from any thread. Construction starts the reaper thread;
// destruction stops it. Errors: none beyond httplib's (bind_to_port returns false).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace sgfw::daemon {

class BoundedHttpServer : public httplib::Server {
 public:
  // port: the port this server binds (its connections are those with that local port).
  BoundedHttpServer(uint16_t port, unsigned threads, unsigned max_queued, std::chrono::milliseconds deadline);
  ~BoundedHttpServer() override;
  BoundedHttpServer(const BoundedHttpServer&) = delete;
  BoundedHttpServer& operator=(const BoundedHttpServer&) = delete;

 private:
  friend class BoundedPool;
  using Clock = std::chrono::steady_clock;
  struct Conn {
    int fd;
    Clock::time_point accepted;
    bool claimed = false;  // by the accepting thread's enqueue
    bool shut = false;
  };

  // Under mu_: updates open_ from /proc/self/fd (closed connections leave).
  void scan_locked(Clock::time_point now);
  // Accepting thread, at each enqueue: the connections not claimed before, i.e. the
  // one just accepted (every accept is followed by an enqueue), now claimed.
  std::vector<int> claim_new();
  // Accepting thread, queue full: 503 and shutdown for `fds`.
  static void refuse(const std::vector<int>& fds);
  void reap();

  const uint16_t port_;
  const std::chrono::milliseconds deadline_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<uint64_t, Conn> open_;  // socket inode -> connection
  std::thread reaper_;
};

}  // namespace sgfw::daemon
