#pragma once
// systemd's readiness protocol (sd_notify(3)) for sgfwd.service (docs/packaging.md).
// Control path, called from the main thread only. Each call is a no-op when NOTIFY_SOCKET
// is not in the environment (sgfwd not started by systemd with Type=notify) or when sgfwd
// was built without libsystemd (meson: the optional dependency was not found).

namespace sgfw::daemon {

// READY=1: the first policy is compiled and published, the ports are started, the
// workers launched and the control socket open (docs/daemon.md, step 6).
void notify_ready();

// STOPPING=1: SIGTERM/SIGINT received, the daemon is shutting down.
void notify_stopping();

}  // namespace sgfw::daemon
