// Sums the per-worker counters into the stats document (JSON; docs/stats.md) and a
// human-readable table. Control path; reads counters with relaxed loads while workers
// run, so figures are a consistent-enough instant, never torn.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "dataplane/ports.hpp"
#include "dataplane/worker.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::daemon {

struct StatsInputs {
  const std::vector<dataplane::PortRuntime>* ports;
  const std::vector<std::vector<runtime::PortCounters>>* port_counters;  // [worker][port]
  const std::vector<dataplane::WorkerStats>* workers;
  const runtime::Snapshot* snapshot;
};

[[nodiscard]] nlohmann::ordered_json stats_json(const StatsInputs& in);
[[nodiscard]] std::string stats_text(const nlohmann::ordered_json& stats);

}  // namespace sgfw::daemon
