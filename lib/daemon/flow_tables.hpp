// The connection-tracking tables of one packet path (docs/design/flow-table.md, "Two
// address families"): the IPv4 and the IPv6 connection table, sharing one VmQuota (a
// VM's flows.per_vm_limit counts its connections of both families,
// docs/enforcement.md §4.6), and the IPv4 and the IPv6 fragment table. Each connection
// table has its own flows.capacity (docs/configuration.md, `flows`).
// Control path: create() and reclaim_fragments() on the control thread (with an lcore
// id: flow_table.hpp); the workers use the tables through context().
#pragma once

#include <rte_rcu_qsbr.h>

#include <cstdint>
#include <memory>
#include <string>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"
#include "dataplane/pipeline.hpp"
#include "flow/flow_table.hpp"

namespace sgfw::daemon {

struct FlowTables {
  std::shared_ptr<flow::VmQuota> quota;  // shared by `connections` and `connections6`
  std::unique_ptr<flow::FlowTable> connections, fragments;
  std::unique_ptr<flow::FlowTable6> connections6, fragments6;

  // Creates the four tables, named PREFIX-flows, PREFIX-frags, PREFIX-flows6 and
  // PREFIX-frags6 (+ suffix), with connection_table_options() and
  // fragment_table_options() (flow_options.hpp). `qs`: the workers' RCU variable.
  // Errors: a table could not be created (a name in use, no memory), the message
  // naming the table ("IPv6 connection table: rte_ring_create(...): ...").
  [[nodiscard]] static core::Expected<FlowTables> create(const config::DaemonConfig& cfg, uint64_t tsc_hz,
                                                         rte_rcu_qsbr* qs, const std::string& prefix,
                                                         const std::string& suffix = "");

  // The packet path's view of the tables (all four set) and of cfg.flows' switches.
  [[nodiscard]] dataplane::FlowContext context(const config::DaemonConfig& cfg) const;

  // Expires the fragment trains of both families (control thread).
  void reclaim_fragments(uint64_t now, uint32_t slices = 1);
};

}  // namespace sgfw::daemon
