#include "ctl/client.hpp"

#include "ctl/connect_error.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sgfw::ctl {

CallResult call(const std::string& socket_path, const protocol::Request& request, int timeout_s) {
  return call_line(socket_path, protocol::encode_request(request), timeout_s);
}

CallResult call_line(const std::string& socket_path, const std::string& request_line, int timeout_s) {
  CallResult r;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r.error = std::string("socket: ") + std::strerror(errno);
    return r;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    close(fd);
    r.error = "socket path too long";
    return r;
  }
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    r.error = connect_error_message(socket_path, errno);
    close(fd);
    return r;
  }
  std::string req = request_line + "\n";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  size_t off = 0;
  std::string send_error;
  while (off < req.size()) {
    ssize_t n = send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // The daemon may have refused this connection (permission, too many connections)
      // and closed it before reading anything: its error line is still to be read.
      send_error = std::string("send: ") + std::strerror(errno);
      break;
    }
    off += static_cast<size_t>(n);
  }
  std::string in;
  char buf[65536];
  while (in.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.error = "no reply from " + socket_path + " within " + std::to_string(timeout_s) + " s";
      close(fd);
      return r;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.error = send_error.empty() ? "connection closed by " + socket_path : send_error;
      close(fd);
      return r;
    }
    in.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  auto reply = protocol::decode_reply(std::string_view(in).substr(0, in.find('\n')));
  if (!reply) {
    r.error = reply.error().message;
  } else if (reply->ok) {
    r.status = CallResult::Status::kOk;
    r.result = std::move(reply->result);
  } else {
    r.status = CallResult::Status::kRejected;
    r.error = std::move(reply->error);
  }
  return r;
}

}  // namespace sgfw::ctl
