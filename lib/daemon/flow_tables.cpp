#include "daemon/flow_tables.hpp"

#include "daemon/flow_options.hpp"

namespace sgfw::daemon {

namespace {

template <class Table>
core::Expected<std::unique_ptr<Table>> make_table(const char* what, const flow::FlowTableOptions& o,
                                                  const std::string& name, rte_rcu_qsbr* qs,
                                                  std::shared_ptr<flow::VmQuota> quota = nullptr) {
  auto t = Table::create(o, name, qs, std::move(quota));
  if (!t) return core::make_error(std::string(what) + ": " + t.error().message);
  return std::move(*t);
}

}  // namespace

core::Expected<FlowTables> FlowTables::create(const config::DaemonConfig& cfg, uint64_t tsc_hz, rte_rcu_qsbr* qs,
                                              const std::string& prefix, const std::string& suffix) {
  FlowTables t;
  const flow::FlowTableOptions conn = connection_table_options(cfg, tsc_hz);
  const flow::FlowTableOptions frag = fragment_table_options(cfg, tsc_hz);
  t.quota = flow::VmQuota::create(conn.max_vm_ids, conn.per_vm_limit);
  auto c4 = make_table<flow::FlowTable>("connection table", conn, prefix + "-flows" + suffix, qs, t.quota);
  if (!c4) return core::make_error(c4.error().message);
  t.connections = std::move(*c4);
  auto f4 = make_table<flow::FlowTable>("fragment table", frag, prefix + "-frags" + suffix, qs);
  if (!f4) return core::make_error(f4.error().message);
  t.fragments = std::move(*f4);
  auto c6 = make_table<flow::FlowTable6>("IPv6 connection table", conn, prefix + "-flows6" + suffix, qs, t.quota);
  if (!c6) return core::make_error(c6.error().message);
  t.connections6 = std::move(*c6);
  auto f6 = make_table<flow::FlowTable6>("IPv6 fragment table", frag, prefix + "-frags6" + suffix, qs);
  if (!f6) return core::make_error(f6.error().message);
  t.fragments6 = std::move(*f6);
  return t;
}

dataplane::FlowContext FlowTables::context(const config::DaemonConfig& cfg) const {
  dataplane::FlowContext c;
  c.table = connections.get();
  c.fragments = fragments.get();
  c.table6 = connections6.get();
  c.fragments6 = fragments6.get();
  c.keep_established = cfg.flows.keep_established;
  c.tcp_loose = cfg.flows.tcp_loose;
  return c;
}

void FlowTables::reclaim_fragments(uint64_t now, uint32_t slices) {
  fragments->reclaim(now, slices);
  fragments6->reclaim(now, slices);
}

}  // namespace sgfw::daemon
