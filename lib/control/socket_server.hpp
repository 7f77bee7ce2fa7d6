// The control socket: a Unix stream socket speaking one JSON object per line each way.
// Runs on the daemon's control thread (poll-based, non-blocking, single-threaded, so
// requests are serialized). Security (docs/public-interface.md, test-catalogue C01-C06):
//  - the socket's directory is sgfwd's own: created 02750 root:control_group (setgid,
//    so the socket is created in the control group) or, if it exists, accepted only
//    when already exactly that; any other existing directory (/tmp, /run) is refused,
//    never re-permissioned (through a descriptor opened O_NOFOLLOW, not the path);
//    the socket is 0660 from the moment it exists (umask around bind);
//  - control_group is looked up with a buffer grown on ERANGE; a failed lookup stops
//    the start (a group that does not exist admits root only);
//  - a peer is accepted iff its uid is 0 or its user belongs to control_group
//    (primary or supplementary, via getgrouplist); others get one error line and a
//    close before anything they send is read;
//  - requests are bounded (kMaxRequest bytes, kMaxRequestDepth levels); connections
//    are capped (kMaxConnections, of which kRootReserved only root may take); a
//    connection is closed kIdleTimeout after its last complete request (bytes that do
//    not complete a request do not count) and a request still incomplete
//    kRequestTimeout after its first byte gets an error and a close; a malformed,
//    oversized or half-written request gets an error reply or a close and nothing else;
//  - a connection is not read while more than kMaxPendingReply bytes of replies wait
//    for it to read them, so pipelining without reading cannot grow the daemon; members'
//    connections are not read while kMaxMemberBuffered request bytes are buffered for
//    them, all together (root's always are);
//  - a stale socket file from a crash is replaced only if it is a socket nobody
//    answers on; a live one (another daemon) or a non-socket file is an error.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.hpp"

namespace sgfw::control {

inline constexpr size_t kMaxRequest = 64u << 20;  // a 10,000-VM policy is ~10 MiB of YAML
inline constexpr size_t kMaxConnections = 16;
inline constexpr std::chrono::seconds kIdleTimeout{30};
inline constexpr std::chrono::seconds kRequestTimeout{10};
inline constexpr size_t kRootReserved = 4;               // of kMaxConnections
inline constexpr size_t kMaxPendingReply = size_t{1} << 20;
// Request bytes buffered for peers other than root, all their connections together:
// past it, no member connection is read until requests complete or time out (twelve
// member connections each sending 64 MiB without a newline would otherwise hold 1.5 GB).
inline constexpr size_t kMaxMemberBuffered = size_t{128} << 20;

struct Peer {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  uint64_t connection = 0;  // the server's id of the connection (unique per server)
};

// Handles one request line; returns one reply line (without the newline), or nothing
// yet: the reply comes later through deliver(peer.connection, ...), and the connection
// is not read meanwhile (its requests are answered in order).
using Handler = std::function<std::optional<std::string>(const std::string& line, const Peer& peer)>;

class SocketServer {
 public:
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;
  ~SocketServer();  // closes every connection and removes the socket file

  [[nodiscard]] static core::Expected<std::unique_ptr<SocketServer>> open(const std::string& path,
                                                                          const std::string& group);

  // Waits up to timeout_ms for activity, then accepts, reads, answers and expires.
  void poll_once(int timeout_ms, const Handler& handler);
  // Also returns from poll_once when `fd` is readable (the caller drains it), e.g. the
  // change queue's completion event, the etcd follower's inbox; -1: ignored. Adds to
  // the descriptors watched.
  void watch(int fd) {
    if (fd >= 0) watch_fds_.push_back(fd);
  }
  // The reply to the request of `connection` that the handler deferred. A connection
  // that has gone meanwhile is ignored.
  void deliver(uint64_t connection, const std::string& reply);

  [[nodiscard]] size_t connections() const { return conns_.size(); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  struct Conn {
    int fd = -1;
    Peer peer;
    std::string in;
    std::string out;
    bool closing = false;  // close once `out` is written
    bool waiting = false;  // a deferred reply is due: not read, not expired
    std::chrono::steady_clock::time_point last;     // accepted, or last complete request
    std::chrono::steady_clock::time_point partial;  // first byte of the pending request
  };
  SocketServer() = default;
  void accept_all();
  void read_conn(Conn& c, const Handler& handler);
  // Answers the complete requests in `in` while the pending reply is within bounds.
  void serve_lines(Conn& c, const Handler& handler);
  void expire();
  void write_conn(Conn& c);
  [[nodiscard]] bool peer_allowed(const Peer& p) const;

  std::string path_;
  int listen_fd_ = -1;
  gid_t group_ = static_cast<gid_t>(-1);  // -1: no such group, root only
  std::vector<Conn> conns_;
  uint64_t next_connection_ = 1;
  size_t member_buffered_ = 0;  // request bytes buffered for non-root peers (kMaxMemberBuffered)
  std::vector<int> watch_fds_;
};

}  // namespace sgfw::control
