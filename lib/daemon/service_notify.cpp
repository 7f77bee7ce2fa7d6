#include "daemon/service_notify.hpp"

#include <iostream>

#ifdef SGFW_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace sgfw::daemon {

namespace {

void notify(const char* state) {
#ifdef SGFW_HAVE_SYSTEMD
  // unset_environment = 0: the workers and the EAL do not exec, nothing inherits it.
  // The result is ignored: without NOTIFY_SOCKET it is 0, and a failed send to systemd
  // changes nothing the daemon could act on.
  (void)sd_notify(0, state);
#else
  (void)state;
#endif
}

}  // namespace

void notify_ready() { notify("READY=1\nSTATUS=running"); }

void notify_stopping() { notify("STOPPING=1\nSTATUS=stopping"); }

std::unique_ptr<ServiceWatchdog> ServiceWatchdog::from_environment(LoopCounters loops) {
#ifdef SGFW_HAVE_SYSTEMD
  uint64_t usec = 0;
  // > 0: WATCHDOG_USEC set and WATCHDOG_PID (if set) is this process.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return nullptr;
  return std::unique_ptr<ServiceWatchdog>(new ServiceWatchdog(std::chrono::microseconds(usec / 2), std::move(loops)));
#else
  (void)loops;
  return nullptr;
#endif
}

ServiceWatchdog::ServiceWatchdog(std::chrono::microseconds period, LoopCounters loops)
    : period_(period), loops_(std::move(loops)), last_(loops_()), next_(Clock::now() + period) {}

void ServiceWatchdog::tick(Clock::time_point now) {
  if (now < next_) return;
  next_ = now + period_;
  std::vector<uint64_t> cur = loops_();
  size_t stuck = cur.size();
  for (size_t w = 0; w < cur.size() && stuck == cur.size(); ++w)
    if (w >= last_.size() || cur[w] == last_[w]) stuck = w;
  last_ = std::move(cur);
  if (stuck != last_.size()) {
    if (!stalled_)
      std::cerr << "sgfwd: worker " << stuck << " made no progress in "
                << std::chrono::duration_cast<std::chrono::milliseconds>(period_).count()
                << " ms: WATCHDOG=1 withheld (docs/packaging.md)" << std::endl;
    stalled_ = true;
    return;
  }
  if (stalled_) std::cerr << "sgfwd: every worker makes progress again: WATCHDOG=1 resumed" << std::endl;
  stalled_ = false;
  notify("WATCHDOG=1");
  ++pings_;
}

}  // namespace sgfw::daemon
