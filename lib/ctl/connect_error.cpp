#include "ctl/connect_error.hpp"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sgfw::ctl {

namespace {

std::string group_name(gid_t gid) {
  if (const group* g = getgrgid(gid)) return g->gr_name;
  return "gid " + std::to_string(gid);
}

std::string user_name() {
  const char* u = getenv("USER");
  return u && *u ? u : "USER";
}

}  // namespace

std::string connect_error_message(const std::string& socket_path, int err) {
  const std::string base = "cannot connect to " + socket_path + ": " + std::strerror(err);
  struct stat st {};
  if (err == EACCES || err == EPERM) {
    // The socket's directory is 02750 root:control_group (the socket itself 0660 in
    // that group): only root and the group's members get in.
    std::string dir = std::filesystem::path(socket_path).parent_path().string();
    std::string group = "the group named by control_group in the daemon configuration";
    std::string name = "GROUP";
    if (::stat(socket_path.c_str(), &st) == 0 || (!dir.empty() && ::stat(dir.c_str(), &st) == 0)) {
      name = group_name(st.st_gid);
      group = "'" + name + "' (control_group)";
    }
    return base + ": only root and members of " + group +
           " may use sgfwd's control socket; run as root, or add this user to that group (usermod -aG " + name +
           " " + user_name() + ") and log in again";
  }
  if (::stat(socket_path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return base + ": no such socket: is sgfwd running? The path is control_socket in its configuration "
                    "(default /run/sgfw/sgfwd.sock); pass it with --socket PATH";
    return base;
  }
  if (S_ISDIR(st.st_mode))
    return base + ": " + socket_path + " is a directory, not a socket: pass the socket inside it "
                  "(--socket " + socket_path + "/sgfwd.sock) or the daemon's control_socket";
  if (!S_ISSOCK(st.st_mode))
    return base + ": " + socket_path + " is a regular file (or other non-socket), not sgfwd's control socket: "
                  "check --socket against the daemon's control_socket";
  if (err == ECONNREFUSED)
    return base + ": nobody listens on this socket (a stale socket of an sgfwd that is gone): start sgfwd, "
                  "which replaces it";
  return base;
}

}  // namespace sgfw::ctl
