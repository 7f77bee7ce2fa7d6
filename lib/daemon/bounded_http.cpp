#include "daemon/bounded_http.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <functional>
#include <string>

namespace sgfw::daemon {

namespace {

constexpr char kBusy[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    "Connection: close\r\n\r\nbusy\n";

// The inode of the socket `fd` refers to, or 0 (not a socket, closed).
uint64_t socket_inode(int fd) {
  char link[64];
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(path.c_str(), link, sizeof(link) - 1);
  if (n <= 8) return 0;
  link[n] = '\0';
  if (std::string(link, 8) != "socket:[") return 0;
  return std::strtoull(link + 8, nullptr, 10);
}

// A TCP connection (it has a peer) whose local port is `port`.
bool connected_on(int fd, uint16_t port) {
  sockaddr_storage local{}, peer{};
  socklen_t len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return false;
  uint16_t p = 0;
  if (local.ss_family == AF_INET) p = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  else if (local.ss_family == AF_INET6) p = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  else return false;
  len = sizeof(peer);
  return p == port && getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
}

}  // namespace

// A fixed pool of threads and a bounded queue; a full queue never blocks the caller.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(BoundedHttpServer* server, unsigned threads, unsigned max_queued)
      : server_(server), max_queued_(max_queued) {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~BoundedPool() override = default;

  // The accepting thread, right after accept().
  void enqueue(std::function<void()> fn) override {
    std::vector<int> fresh = server_->claim_new();
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (jobs_.size() < max_queued_) {
        jobs_.push_back(std::move(fn));
        cv_.notify_one();
        return;
      }
    }
    BoundedHttpServer::refuse(fresh);
    fn();  // on a shut-down socket: reads end of file at once and closes it
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      shutdown_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return shutdown_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // shutdown_, nothing left
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  BoundedHttpServer* server_;
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_ = false;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
};

BoundedHttpServer::BoundedHttpServer(uint16_t port, unsigned threads, unsigned max_queued,
                                     std::chrono::milliseconds deadline)
    : port_(port), deadline_(deadline) {
  new_task_queue = [this, threads, max_queued] { return new BoundedPool(this, threads, max_queued); };
  reaper_ = std::thread([this] { reap(); });
}

BoundedHttpServer::~BoundedHttpServer() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
}

void BoundedHttpServer::scan_locked(Clock::time_point now) {
  std::map<uint64_t, Conn> seen;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;  // no /proc: no deadline, no refusal (docs/metrics.md)
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int fd = std::atoi(e->d_name);
    uint64_t ino = socket_inode(fd);
    if (ino == 0) continue;
    if (auto it = open_.find(ino); it != open_.end() && it->second.fd == fd) {
      seen.emplace(ino, it->second);
    } else if (connected_on(fd, port_)) {
      seen.emplace(ino, Conn{fd, now});
    }
  }
  closedir(dir);
  open_ = std::move(seen);  // closed connections leave
}

std::vector<int> BoundedHttpServer::claim_new() {
  std::vector<int> fresh;
  std::lock_guard<std::mutex> lk(mu_);
  scan_locked(Clock::now());
  for (auto& [ino, c] : open_)
    if (!c.claimed) {
      c.claimed = true;
      fresh.push_back(c.fd);
    }
  return fresh;
}

void BoundedHttpServer::refuse(const std::vector<int>& fds) {
  for (int fd : fds) {
    // Best effort: a fresh socket's send buffer takes these bytes without waiting.
    (void)send(fd, kBusy, sizeof(kBusy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_RDWR);
  }
}

// Every 100 ms: shuts down (never closes: the serving thread owns the descriptor) each
// connection past its deadline; the thread serving it then sees end of file or EPIPE.
void BoundedHttpServer::reap() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stopping_) {
    cv_.wait_for(lk, std::chrono::milliseconds(100));
    auto now = Clock::now();
    scan_locked(now);
    for (auto& [ino, c] : open_) {
      // The inode check right before: the descriptor still is that connection.
      if (c.shut || now - c.accepted < deadline_ || socket_inode(c.fd) != ino) continue;
      ::shutdown(c.fd, SHUT_RDWR);
      c.shut = true;
    }
  }
}

}  // namespace sgfw::daemon
