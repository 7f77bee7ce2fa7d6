// Runs the `capture` and `trace` sessions for the control plane (docs/capture.md): arms
// a tap for the workers (capture::process_taps()), drains it on the control thread at
// every tick, ends it after its count or timeout, and hands the deferred reply to the
// socket server. At most one capture and one trace at a time.
// Control thread only (not thread-safe). Errors are returned as messages for the client.
#pragma once

#include <rte_rcu_qsbr.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/taps.hpp"
#include "control/capture_request.hpp"
#include "core/expected.hpp"
#include "runtime/publisher.hpp"

namespace sgfw::control {

using Deliver = std::function<void(uint64_t connection, const std::string& reply)>;

// The capture filter resolved against the running policy and ports.
struct CaptureFilter {
  uint16_t port = capture::kAnyPort;
  bool by_vm = false;
  uint64_t vm_mac = 0;
  uint16_t vm_port = 0;
};

class TapService {
 public:
  TapService() = default;
  TapService(const TapService&) = delete;
  TapService& operator=(const TapService&) = delete;
  ~TapService();

  // Starts a capture whose reply goes to `connection`. Error: a capture is running, or the ring/mempool
  // cannot be made (nothing armed).
  [[nodiscard]] core::Status start_capture(const CaptureRequest& r, const CaptureFilter& f, uint64_t connection,
                                           const runtime::Publisher* publisher);
  // Starts a trace; port_names: sgfw port index -> name. Error: a trace is running, or the ring cannot be made.
  [[nodiscard]] core::Status start_trace(const TraceRequest& r, uint64_t connection,
                                         const runtime::Publisher* publisher, std::vector<std::string> port_names);
  // Drains what the workers handed over; ends finished sessions and delivers their replies.
  void tick(const Deliver& deliver);
  // Ends both sessions now (their replies are dropped): the daemon, before the EAL goes.
  void stop();
  [[nodiscard]] bool active() const { return capture_ != nullptr || trace_ != nullptr; }

 private:
  struct CaptureRun;
  struct TraceRun;
  void finish_capture(const Deliver& deliver, const char* why);
  void finish_trace(const Deliver& deliver, const char* why);
  std::unique_ptr<CaptureRun> capture_;
  std::unique_ptr<TraceRun> trace_;
};

// The process's one service (the daemon's control thread), and its tick.
[[nodiscard]] TapService& tap_service();
void tap_tick(const Deliver& deliver);

}  // namespace sgfw::control
