#include "control/socket_server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

namespace sgfw::control {

namespace {

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string error_line(const std::string& message) {
  return nlohmann::json{{"ok", false}, {"error", message}}.dump() + "\n";
}

// The socket's directory is sgfwd's own: created here (the last path component only)
// 02750 euid:group, or, if it exists, accepted only when it is already exactly that
// (a restart); anything else (/tmp, /run, a directory someone else made) is refused,
// never re-permissioned. The checks and changes go through one descriptor opened with
// O_NOFOLLOW, so a path swapped after the check cannot be re-permissioned either.
core::Status prepare_directory(const std::string& dir, gid_t group) {
  const mode_t kMode = 02750;
  const gid_t g = group == static_cast<gid_t>(-1) ? getegid() : group;
  bool created = false;
  if (mkdir(dir.c_str(), 0700) == 0) created = true;
  else if (errno != EEXIST) return core::make_error(sys_error("cannot create the control socket directory " + dir));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return core::make_error(sys_error("cannot open the control socket directory " + dir));
  struct stat st {};
  core::Status result;
  auto refuse = [&](const std::string& why) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return core::make_error("control socket directory " + dir + " " + why + " (owner uid " + std::to_string(st.st_uid) +
                            ", group " + std::to_string(st.st_gid) + ", mode " + mode +
                            "): sgfwd uses a directory of its own, which it creates with mode 02750 "
                            "(give control_socket a path in a directory that does not exist yet, "
                            "e.g. /run/sgfw/sgfwd.sock)");
  };
  if (fstat(fd, &st) != 0) {
    result = core::make_error(sys_error("stat " + dir));
  } else if (created) {
    if (st.st_uid != geteuid()) result = refuse("was replaced while being created");
    else if (fchown(fd, geteuid(), g) != 0) result = core::make_error(sys_error("chown " + dir));
    // setgid: the socket created inside inherits the control group at creation.
    else if (fchmod(fd, kMode) != 0) result = core::make_error(sys_error("chmod " + dir));
  } else if (st.st_uid != geteuid() && st.st_uid != 0) {
    result = refuse("is not owned by sgfwd's user");
  } else if ((st.st_mode & 07777) != kMode) {
    result = refuse("is not sgfwd's own");
  } else if (st.st_gid != g && fchown(fd, static_cast<uid_t>(-1), g) != 0) {
    // Ours (a previous run's) with another control group: regroup it.
    result = core::make_error(sys_error("chown " + dir));
  }
  close(fd);
  return result;
}

// getgrnam_r/getpwuid_r with a buffer grown on ERANGE (a group with ~1,700 members
// needs more than 16 KiB). Found: true; not found: false (rc 0 without an entry, or
// ENOENT/ESRCH, which some NSS modules return for it); any other failure: an error.
template <typename Entry, typename Fn>
core::Expected<bool> lookup(Entry& entry, std::vector<char>& buf, Fn&& fn) {
  buf.resize(16384);
  for (;;) {
    Entry* res = nullptr;
    int rc = fn(&entry, buf.data(), buf.size(), &res);
    if (rc == 0) return res != nullptr;
    if (rc == ENOENT || rc == ESRCH) return false;
    if (rc != ERANGE) return core::make_error(std::strerror(rc));
    if (buf.size() >= (size_t{64} << 20)) return core::make_error("entry larger than 64 MiB");
    buf.resize(buf.size() * 2);
  }
}

// A socket file left by a crash is removed only if nothing answers on it.
core::Status clear_stale(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return errno == ENOENT ? core::Status{} : core::make_error(sys_error("stat " + path));
  if (!S_ISSOCK(st.st_mode)) return core::make_error(path + " exists and is not a socket; refusing to replace it");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::make_error(sys_error("socket"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  close(fd);
  if (rc == 0) return core::make_error("another daemon is serving " + path);
  if (err != ECONNREFUSED && err != ENOENT) return core::make_error("cannot probe " + path + ": " + std::strerror(err));
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return core::make_error(sys_error("unlink " + path));
  return {};
}

}  // namespace

SocketServer::~SocketServer() {
  for (auto& c : conns_) close(c.fd);
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    unlink(path_.c_str());
  }
}

core::Expected<std::unique_ptr<SocketServer>> SocketServer::open(const std::string& path, const std::string& group) {
  std::unique_ptr<SocketServer> s(new SocketServer());
  s->path_ = path;
  if (path.size() >= sizeof(sockaddr_un::sun_path)) return core::make_error("control socket path too long: " + path);
  if (!group.empty()) {
    std::vector<char> buf;
    struct group gr {};
    auto found = lookup(gr, buf, [&](struct group* e, char* b, size_t n, struct group** r) {
      return getgrnam_r(group.c_str(), e, b, n, r);
    });
    if (!found) return core::make_error("cannot look up control_group '" + group + "': " + found.error().message);
    if (*found) s->group_ = gr.gr_gid;  // a group that does not exist admits root only
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (auto st = prepare_directory(dir, s->group_); !st) return core::make_error(st.error().message);
  if (auto st = clear_stale(path); !st) return core::make_error(st.error().message);

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::make_error(sys_error("socket"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  mode_t old = umask(0117);  // the socket is 0660 from the moment it exists
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  umask(old);
  if (rc != 0) {
    close(fd);
    return core::make_error("cannot bind " + path + ": " + std::strerror(err));
  }
  if (listen(fd, 16) != 0) {
    close(fd);
    unlink(path.c_str());
    return core::make_error(sys_error("listen " + path));
  }
  s->listen_fd_ = fd;
  return s;
}

bool SocketServer::peer_allowed(const Peer& p) const {
  if (p.uid == 0) return true;
  if (group_ == static_cast<gid_t>(-1)) return false;
  if (p.gid == group_) return true;
  std::vector<char> buf;
  passwd pw{};
  auto found = lookup(pw, buf, [&](passwd* e, char* b, size_t n, passwd** r) { return getpwuid_r(p.uid, e, b, n, r); });
  if (!found || !*found) return false;  // unknown user, or the lookup failed: refused
  int n = 64;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<size_t>(n));
    if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) return false;
  }
  for (int i = 0; i < n; ++i)
    if (groups[static_cast<size_t>(i)] == group_) return true;
  return false;
}

void SocketServer::accept_all() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    ucred cred{};
    socklen_t len = sizeof(cred);
    Peer peer;
    bool known = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
    if (known) peer = {cred.uid, cred.gid, cred.pid};
    std::string refusal;
    size_t cap = peer.uid == 0 ? kMaxConnections : kMaxConnections - kRootReserved;
    if (!known || !peer_allowed(peer)) refusal = "permission denied: uid " + std::to_string(peer.uid) +
                                                 " is neither root nor in the control group";
    else if (conns_.size() >= cap) refusal = "too many control connections";
    if (!refusal.empty()) {
      std::string line = error_line(refusal);
      (void)!write(fd, line.data(), line.size());
      close(fd);
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    peer.connection = next_connection_++;
    conns_.push_back(Conn{fd, peer, {}, {}, false, false, now, now});
  }
}

void SocketServer::serve_lines(Conn& c, const Handler& handler) {
  size_t nl;
  while (!c.closing && !c.waiting && c.out.size() <= kMaxPendingReply &&
         (nl = c.in.find('\n')) != std::string::npos) {
    std::string line = c.in.substr(0, nl);
    c.in.erase(0, nl + 1);
    auto now = std::chrono::steady_clock::now();
    c.last = now;
    c.partial = now;
    std::optional<std::string> reply = handler(line, c.peer);
    if (reply) c.out += *reply + "\n";
    else c.waiting = true;
  }
  // A served large request leaves its capacity behind: give it back.
  if (c.in.empty() && c.in.capacity() > (size_t{1} << 20)) std::string().swap(c.in);
}

void SocketServer::read_conn(Conn& c, const Handler& handler) {
  char buf[65536];
  // Not read while replies wait beyond the bound: the peer's writes then block in the
  // kernel instead of growing this process.
  const bool member = c.peer.uid != 0;
  while (!c.closing && !c.waiting && c.out.size() <= kMaxPendingReply &&
         !(member && member_buffered_ >= kMaxMemberBuffered)) {
    ssize_t n = read(c.fd, buf, sizeof(buf));
    if (n > 0) {
      if (member) member_buffered_ += static_cast<size_t>(n);  // recounted at the next poll
      if (c.in.empty()) c.partial = std::chrono::steady_clock::now();
      // Look for a newline in the new bytes only (rescanning the whole buffer made a
      // 64 MiB request cost seconds of this thread).
      bool complete = std::memchr(buf, '\n', static_cast<size_t>(n)) != nullptr;
      c.in.append(buf, static_cast<size_t>(n));
      if (complete) serve_lines(c, handler);
      if (c.in.size() > kMaxRequest && c.in.find('\n') == std::string::npos) {
        c.out += error_line("request larger than " + std::to_string(kMaxRequest) + " bytes");
        c.in.clear();
        c.closing = true;
        shutdown(c.fd, SHUT_RD);
        return;
      }
      continue;
    }
    if (n == 0) {  // peer closed: a half-written request is dropped unanswered
      c.closing = true;
      c.in.clear();
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      c.closing = true;
      c.out.clear();
    }
    return;
  }
}

void SocketServer::write_conn(Conn& c) {
  while (!c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    c.out.clear();
    c.closing = true;
    return;
  }
}

void SocketServer::poll_once(int timeout_ms, const Handler& handler) {
  std::vector<pollfd> fds;
  fds.push_back({listen_fd_, POLLIN, 0});
  member_buffered_ = 0;
  for (const auto& c : conns_)
    if (c.peer.uid != 0) member_buffered_ += c.in.size();
  const bool members_full = member_buffered_ >= kMaxMemberBuffered;
  for (const auto& c : conns_) {
    short ev = c.closing || c.waiting || c.out.size() > kMaxPendingReply || (members_full && c.peer.uid != 0) ? 0 : POLLIN;
    if (!c.out.empty()) ev |= POLLOUT;
    fds.push_back({c.fd, ev, 0});
  }
  const size_t nconn = conns_.size();
  for (int fd : watch_fds_) fds.push_back({fd, POLLIN, 0});  // wake the caller; read by their owners
  int rc = poll(fds.data(), fds.size(), timeout_ms);
  for (size_t i = 1; i <= nconn; ++i) {
    Conn& c = conns_[i - 1];
    // A client gone while it is not read (its reply deferred: the change still applies,
    // the reply is dropped; or members' buffers full: its request can never complete).
    if (rc > 0 && !(fds[i].events & POLLIN) && (fds[i].revents & (POLLHUP | POLLERR))) c.closing = true;
    if (rc > 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) read_conn(c, handler);
    if (!c.out.empty()) write_conn(c);
    // Requests held back while the reply was over the bound or a reply was deferred.
    if (!c.closing && !c.waiting && c.out.size() <= kMaxPendingReply && !c.in.empty()) serve_lines(c, handler);
  }
  if (rc > 0 && (fds[0].revents & POLLIN)) accept_all();
  expire();
}

void SocketServer::deliver(uint64_t connection, const std::string& reply) {
  for (auto& c : conns_) {
    if (c.peer.connection != connection || !c.waiting) continue;
    c.waiting = false;
    c.out += reply + "\n";
    auto now = std::chrono::steady_clock::now();
    c.last = now;
    c.partial = now;
    write_conn(c);
    return;
  }
}

void SocketServer::expire() {
  auto now = std::chrono::steady_clock::now();
  for (auto& c : conns_) {
    if (!c.closing && !c.waiting && !c.in.empty() && c.in.find('\n') == std::string::npos && now - c.partial > kRequestTimeout) {
      c.out += error_line("request not completed within " + std::to_string(kRequestTimeout.count()) + " s");
      c.in.clear();
      c.closing = true;
      shutdown(c.fd, SHUT_RD);
      write_conn(c);
    }
  }
  for (size_t i = 0; i < conns_.size();) {
    Conn& c = conns_[i];
    bool idle = !c.waiting && now - c.last > kIdleTimeout;
    if ((c.closing && c.out.empty()) || idle) {
      close(c.fd);
      conns_.erase(conns_.begin() + static_cast<long>(i));
    } else {
      ++i;
    }
  }
}

}  // namespace sgfw::control
