// The control plane's view of sgfwd's running data plane (control/dataplane_access.hpp)
// over its ports, the workers' counter blocks and the connection tables of both
// address families (flows lists, flushes and reclaims both). Control thread only;
// counters are read while the workers write them (relaxed loads).
#pragma once

#include <vector>

#include "control/dataplane_access.hpp"
#include "dataplane/worker.hpp"
#include "flow/flow_table.hpp"
#include "logs/log_writer.hpp"
#include "ports/ports.hpp"
#include "runtime/counters.hpp"

namespace sgfw::daemon {

struct LiveDataplaneParts {
  const std::vector<ports::PortRuntime>* ports = nullptr;
  const std::vector<std::vector<runtime::PortCounters>>* port_counters = nullptr;  // [worker][port]
  const std::vector<dataplane::WorkerStats>* workers = nullptr;
  flow::FlowTable* flows = nullptr;    // may be null (no IPv4 connection table)
  flow::FlowTable6* flows6 = nullptr;  // may be null (no IPv6 connection table)
};

class LiveDataplane final : public control::DataplaneAccess {
 public:
  explicit LiveDataplane(LiveDataplaneParts parts) : parts_(parts) {}

  [[nodiscard]] std::vector<control::PortInfo> ports() const override;
  [[nodiscard]] control::Totals port_totals(size_t port) const override;
  [[nodiscard]] std::vector<control::WorkerInfo> workers() const override;
  [[nodiscard]] double tsc_hz() const override;
  [[nodiscard]] control::FlowTableInfo flow_table() const override;
  void for_each_flow(const std::function<void(const control::FlowRecord&)>& fn) const override;
  size_t flush_flows(const std::vector<bool>* vm_ids) override;
  size_t reclaim_flows(uint32_t slices = 1) override;
  [[nodiscard]] std::vector<control::LogFileInfo> logs() const override;
  // The log writer whose counters logs() reports (null: logs off); flush_flows()
  // writes the flushed connections' end records at once, while their VM ids are held.
  void set_log_writer(logs::LogWriter* w) { log_writer_ = w; }

 private:
  LiveDataplaneParts parts_;
  logs::LogWriter* log_writer_ = nullptr;
};

}  // namespace sgfw::daemon
