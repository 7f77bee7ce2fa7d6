// The connection table's options from the daemon configuration (docs/configuration.md,
// `flows` and `limits`). Control path; pure.
#pragma once

#include <cstdint>

#include "config/daemon_config.hpp"
#include "flow/flow_table.hpp"

namespace sgfw::daemon {

[[nodiscard]] inline flow::FlowTableOptions connection_table_options(const config::DaemonConfig& cfg,
                                                                    uint64_t tsc_hz) {
  flow::FlowTableOptions o;
  o.capacity = cfg.flows.capacity;
  o.per_vm_limit = cfg.flows.per_vm_limit;
  o.per_vm_inbound_half_open = cfg.inbound_half_open_budget();
  o.max_vm_ids = 2 * cfg.limits.local_vms;  // the running and the next generation's VMs
  const auto& to = cfg.flows.timeouts;
  o.timeouts = flow::make_timeouts(tsc_hz, to.tcp_syn, to.tcp_established, to.tcp_closing, to.udp, to.udp_stream,
                                   to.icmp, to.other);
  return o;
}

// Fragment trains remembered at once (first fragments allowed in the last 15 s).
inline constexpr uint32_t kFragmentTrains = 16384;

[[nodiscard]] inline flow::FlowTableOptions fragment_table_options(const config::DaemonConfig& cfg,
                                                                  uint64_t tsc_hz) {
  flow::FlowTableOptions o = connection_table_options(cfg, tsc_hz);
  o.capacity = kFragmentTrains;
  o.per_vm_limit = kFragmentTrains;
  o.per_vm_inbound_half_open = kFragmentTrains;
  o.max_vm_ids = 1;
  return o;
}

}  // namespace sgfw::daemon
