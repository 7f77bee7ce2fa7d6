#pragma once
// systemd's service protocol (sd_notify(3), sd_watchdog_enabled(3)) for sgfwd.service
// (docs/packaging.md). Control path, called from the main (control) thread only. Each
// call is a no-op when NOTIFY_SOCKET is not in the environment (sgfwd not started by
// systemd with Type=notify) or when sgfwd was built without libsystemd (meson: the
// optional dependency was not found). No errors: a failed send changes nothing sgfwd
// could act on.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace sgfw::daemon {

// READY=1: the first policy is compiled and published, the ports are started, the
// workers launched and the control socket open (docs/daemon.md, step 6).
void notify_ready();

// STOPPING=1: SIGTERM/SIGINT received, the daemon is shutting down.
void notify_stopping();

// WatchdogSec= in the unit (docs/packaging.md, "Watchdog"): WATCHDOG=1 every half of
// WATCHDOG_USEC, and only while every worker's loop counter (WorkerStats::loops)
// advanced since the previous ping: a stuck worker (or a stuck control thread, which
// makes the pings) lets systemd's watchdog fire.
class ServiceWatchdog {
 public:
  using Clock = std::chrono::steady_clock;
  // The workers' loop counters, in worker order.
  using LoopCounters = std::function<std::vector<uint64_t>()>;

  // Null when systemd asked for no pings (no WATCHDOG_USEC, or WATCHDOG_PID names
  // another process) or sgfwd was built without libsystemd. `loops` is read now (the
  // baseline) and at each check.
  [[nodiscard]] static std::unique_ptr<ServiceWatchdog> from_environment(LoopCounters loops);

  // Control thread, every serve-loop turn: at each half interval, sends WATCHDOG=1 if
  // every worker advanced since the last check; else withholds it and says once which
  // worker stalled (standard error).
  void tick(Clock::time_point now);

  [[nodiscard]] std::chrono::microseconds period() const { return period_; }
  [[nodiscard]] uint64_t pings() const { return pings_; }

 private:
  ServiceWatchdog(std::chrono::microseconds period, LoopCounters loops);

  std::chrono::microseconds period_;  // half of WATCHDOG_USEC
  LoopCounters loops_;
  std::vector<uint64_t> last_;
  Clock::time_point next_;
  uint64_t pings_ = 0;
  bool stalled_ = false;  // said so already
};

}  // namespace sgfw::daemon
