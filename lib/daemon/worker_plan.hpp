// The workers' setups (docs/design/packet-path.md): tx queues, counter blocks and the
// (port, rx queue) pairs spread round-robin. Main thread, before the workers start.
#pragma once

#include <atomic>
#include <vector>

#include "dataplane/worker.hpp"
#include "ports/ports.hpp"
#include "runtime/counters.hpp"
#include "runtime/publisher.hpp"

namespace sgfw::daemon {

// `stop`: the flag the workers poll to end.
[[nodiscard]] std::vector<dataplane::WorkerSetup> plan_workers(
    const std::vector<ports::PortRuntime>& ports, std::vector<std::vector<runtime::PortCounters>>& port_counters,
    std::vector<dataplane::WorkerStats>& stats, runtime::Publisher* publisher, const dataplane::FlowContext& flows,
    std::atomic<bool>* stop);

}  // namespace sgfw::daemon
