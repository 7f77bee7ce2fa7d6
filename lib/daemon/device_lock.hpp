// One sgfwd per device: an exclusive flock(2) per kernel interface or PCI device of the
// configured ports, held for the life of the process, so a second daemon on the same
// interfaces (with another control socket) refuses to start instead of forwarding
// duplicates (docs/daemon.md, "One daemon per interface"). Lock files live in
// $SGFW_LOCK_DIR, default /run/sgfw. Control path; not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"

namespace sgfw::daemon {

class DeviceLocks {
 public:
  DeviceLocks() = default;
  DeviceLocks(DeviceLocks&& o) noexcept : fds_(std::move(o.fds_)) { o.fds_.clear(); }
  DeviceLocks& operator=(DeviceLocks&&) = delete;
  DeviceLocks(const DeviceLocks&) = delete;
  ~DeviceLocks();  // releases the locks (the kernel does so too when the process dies)

  // Takes every lock or none. Error: the device, the holder's pid when known, the lock
  // file, and what to do.
  [[nodiscard]] static core::Expected<DeviceLocks> acquire(const config::DaemonConfig& cfg);

  // For --check, without taking any lock: one line per device of `cfg` whose lock file
  // names a live sgfwd ("interface 'x' is in use by sgfwd pid N (lock PATH)").
  [[nodiscard]] static std::vector<std::string> holders(const config::DaemonConfig& cfg);

  // The lock file of one device key ("iface-veth0", "pci-0000:01:00.0").
  [[nodiscard]] static std::string lock_path(const std::string& key);

 private:
  std::vector<int> fds_;
};

}  // namespace sgfw::daemon
