#pragma once
// Prometheus text exposition (format 0.0.4) of the control plane's counters
// (docs/metrics.md). Pure: renders the JSON of `stats` and `status` (docs/control.md),
// so GET /metrics and sgfwctl read the same numbers. Thread-safe (no shared state).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace sgfw::control {

struct PolicyLoadInfo {
  double seconds = 0.0;    // duration of the last accepted load (the start-up load until the first change)
  double unix_time = 0.0;  // when it was accepted, seconds since the epoch
};

// stats: the reply body of `stats` (no VM filter); status: the reply body of `status`
// (its flows.half_open_reclaimed and flows.inbound_half_open_recycled count as 0 when
// absent); expired: connections expired by the control thread since start.
[[nodiscard]] std::string render_metrics(const nlohmann::json& stats, const nlohmann::json& status,
                                         const PolicyLoadInfo& load, uint64_t expired);

}  // namespace sgfw::control
