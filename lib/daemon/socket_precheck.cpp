#include "daemon/socket_precheck.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace sgfw::daemon {

core::Expected<SocketPathState> probe_control_socket(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    return core::make_error("control_socket path too long (" + std::to_string(path.size()) + " bytes, at most " +
                            std::to_string(sizeof(sockaddr_un::sun_path) - 1) + "): " + path);
  std::string dir = std::filesystem::path(path).parent_path().string();
  struct stat st {};
  // A symlink in place of the directory is refused before anything is probed through
  // it (the server opens the directory O_NOFOLLOW and refuses it too).
  if (!dir.empty() && ::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return core::make_error("control socket directory " + dir +
                            " is a symbolic link: refusing it; set control_socket to a path in a real directory");
  if (!dir.empty() && ::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
    return core::make_error("control socket: " + dir + " is not a directory: set control_socket to a path in a directory");
  if (::lstat(path.c_str(), &st) != 0) return SocketPathState::kFree;
  if (!S_ISSOCK(st.st_mode))
    return core::make_error(path + " exists and is not a socket; refusing to replace it: remove it or set "
                                   "control_socket to another path");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketPathState::kStale;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::close(fd);
  return rc == 0 ? SocketPathState::kServed : SocketPathState::kStale;
}

}  // namespace sgfw::daemon
