#include "daemon/device_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "config/device_args.hpp"

namespace sgfw::daemon {

using config::device_ifaces;
using config::is_vdev;

namespace {

std::string lock_dir() {
  const char* d = std::getenv("SGFW_LOCK_DIR");
  return d && *d ? d : "/run/sgfw";
}

std::string sanitized(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  return out;
}

// (key, what) of every device of a port that gets a lock.
std::vector<std::pair<std::string, std::string>> lock_keys(const config::PortConfig& p) {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& iface : device_ifaces(p.device)) keys.emplace_back("iface-" + iface, "interface '" + iface + "'");
  if (!is_vdev(p.device)) {
    std::string pci = p.device.substr(0, p.device.find(','));
    keys.emplace_back("pci-" + pci, "device " + pci);
  }
  return keys;
}

}  // namespace

std::vector<std::string> DeviceLocks::holders(const config::DaemonConfig& cfg) {
  std::vector<std::string> out;
  for (const auto& p : cfg.ports) {
    for (const auto& [key, what] : lock_keys(p)) {
      std::string path = lock_path(key);
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char buf[32] = {};
      ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
      ::close(fd);
      long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
      if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) continue;
      char comm[64] = {};
      int cfd = ::open(("/proc/" + std::to_string(pid) + "/comm").c_str(), O_RDONLY | O_CLOEXEC);
      if (cfd < 0) continue;
      ssize_t m = ::read(cfd, comm, sizeof(comm) - 1);
      ::close(cfd);
      if (m <= 0 || std::string(comm).rfind("sgfwd", 0) != 0) continue;
      out.push_back("port '" + p.name + "': " + what + " is in use by sgfwd pid " + std::to_string(pid) + " (lock " +
                    path + "): a start with this configuration stops until that daemon is stopped");
    }
  }
  return out;
}

DeviceLocks::~DeviceLocks() {
  for (int fd : fds_) ::close(fd);
}

std::string DeviceLocks::lock_path(const std::string& key) { return lock_dir() + "/dev-" + sanitized(key) + ".lock"; }

core::Expected<DeviceLocks> DeviceLocks::acquire(const config::DaemonConfig& cfg) {
  DeviceLocks locks;
  std::error_code ec;
  // Made here 02750 (the mode the control socket's directory must have): by default
  // the locks and the control socket share /run/sgfw, which the socket server
  // refuses when someone else made it (docs/packaging.md).
  if (std::filesystem::create_directories(lock_dir(), ec)) (void)::chmod(lock_dir().c_str(), 02750);
  for (const auto& p : cfg.ports) {
    for (const auto& [key, what] : lock_keys(p)) {
      std::string path = lock_path(key);
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        return core::make_error("port '" + p.name + "': cannot open the lock file " + path + ": " +
                                std::strerror(errno) + " (set SGFW_LOCK_DIR to a writable directory)");
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char buf[32] = {};
        ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
        ::close(fd);
        std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
        if (err != EWOULDBLOCK)
          return core::make_error("port '" + p.name + "': cannot lock " + path + ": " + std::strerror(err));
        return core::make_error("port '" + p.name + "': " + what + " is already used by another sgfwd" +
                                (holder.empty() ? "" : " (pid " + holder + ")") + ", lock " + path +
                                ": two daemons on one interface would both forward every packet. Stop the other "
                                "sgfwd first, or give this one other ports");
      }
      std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
        // the lock holds without the pid; only the message gets poorer
      }
      locks.fds_.push_back(fd);
    }
  }
  return locks;
}

}  // namespace sgfw::daemon
