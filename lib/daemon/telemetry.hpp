#pragma once
// sgfwd's figures over DPDK telemetry (docs/metrics.md, "DPDK telemetry"): commands
// /sgfw/status, /sgfw/stats, /sgfw/ports, /sgfw/port,<name>, /sgfw/vms, /sgfw/vm,<name>,
// /sgfw/rules and /sgfw/workers on the EAL's telemetry socket
// (<runtime dir>/dpdk_telemetry.v2).
//
// The callbacks run on DPDK's telemetry threads, which must not read the control
// plane's state: like GET /metrics they ask the control thread through a
// ControlHandoff (bounded wait) for one JSON rendering of stats and status, and
// answer from that copy.
//
// Thread-safety: start() once, after rte_eal_init, and serve_pending() on the control
// thread. DPDK cannot unregister a command: after the Telemetry object is gone the
// commands answer null (an error) at once.
#include <functional>
#include <memory>
#include <string>

#include "core/expected.hpp"

namespace sgfw::daemon {

class Telemetry {
 public:
  // Registers the commands. Error: a command could not be registered (already
  // registered: one Telemetry per process).
  [[nodiscard]] static core::Expected<std::unique_ptr<Telemetry>> start();
  ~Telemetry();  // the commands answer null from now on
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // Control thread: renders once for every command waiting now. `render` returns
  // {"stats": <stats reply>, "status": <status reply>, "load_seconds": <number>}.
  void serve_pending(const std::function<std::string()>& render);

  // Where the EAL's telemetry socket is, or "" when telemetry is off (--no-telemetry).
  [[nodiscard]] static std::string socket_path();

 private:
  Telemetry() = default;
};

}  // namespace sgfw::daemon
