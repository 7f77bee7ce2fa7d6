// sgfwd's connection and drop logs (docs/logs.md): the LogRing the workers and the
// connection tables' end hooks push to, and the LogWriter that drains it on the control
// thread, naming VMs and rules through the control plane. Absent `logs:` nothing is
// created and the packet path gets no ring.
// Control path: every call on the control thread (with an lcore id), create() and
// attach() before the workers start.
#pragma once

#include <memory>

#include "config/daemon_config.hpp"
#include "control/control_plane.hpp"
#include "core/expected.hpp"
#include "daemon/flow_tables.hpp"
#include "logs/log_ring.hpp"
#include "logs/log_writer.hpp"

namespace sgfw::daemon {

class LogService {
 public:
  // The ring and the end hooks of both connection tables; `flows` gets the ring.
  // Null (and nothing done) when cfg.logs is off. Errors: the ring cannot be created.
  [[nodiscard]] static core::Expected<std::unique_ptr<LogService>> create(const config::DaemonConfig& cfg,
                                                                          FlowTables& tables,
                                                                          dataplane::FlowContext& flows);
  // Opens the files; `control` names the VMs and rules. Error: a file cannot be opened.
  [[nodiscard]] core::Status attach(const control::ControlPlane& control);
  // Writes what the workers handed over (every control-loop pass).
  void drain();
  // SIGHUP: both files opened again by path (logrotate); the outcome on stdout/stderr.
  void reopen();
  [[nodiscard]] logs::LogWriter* writer() { return writer_.get(); }

  ~LogService();

 private:
  class ControlNames;
  LogService() = default;
  config::LogConfig cfg_;
  FlowTables* tables_ = nullptr;
  std::unique_ptr<logs::LogRing> ring_;
  std::unique_ptr<ControlNames> names_;
  std::unique_ptr<logs::LogWriter> writer_;
};

}  // namespace sgfw::daemon
