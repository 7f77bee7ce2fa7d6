#include "daemon/live_dataplane.hpp"

#include <rte_byteorder.h>
#include <rte_cycles.h>

namespace sgfw::daemon {

std::vector<control::PortInfo> LiveDataplane::ports() const {
  std::vector<control::PortInfo> out;
  for (const auto& p : *parts_.ports) out.push_back({p.name, p.device, p.uplink, p.rx_queues});
  return out;
}

control::Totals LiveDataplane::port_totals(size_t port) const { return control::port_totals(*parts_.port_counters, port); }

std::vector<control::WorkerInfo> LiveDataplane::workers() const {
  std::vector<control::WorkerInfo> out;
  for (const auto& w : *parts_.workers)
    out.push_back({runtime::read(w.packets), runtime::read(w.busy_cycles), runtime::read(w.loops)});
  return out;
}

double LiveDataplane::tsc_hz() const { return static_cast<double>(rte_get_tsc_hz()); }

control::FlowTableInfo LiveDataplane::flow_table() const {
  if (!parts_.flows) return {};
  return {true, parts_.flows->size(), parts_.flows->half_open_reclaimed(), parts_.flows->inbound_half_open_recycled()};
}

void LiveDataplane::for_each_flow(const std::function<void(const control::FlowRecord&)>& fn) const {
  if (!parts_.flows) return;
  const uint64_t now = rte_rdtsc();
  const double hz = tsc_hz();
  parts_.flows->for_each([&](int32_t, const flow::FlowEntry& e) {
    control::FlowRecord r;
    r.proto = e.key.proto;
    r.src = core::Ipv4{rte_be_to_cpu_32(e.orig_addr_be())};
    r.dst = core::Ipv4{rte_be_to_cpu_32(e.resp_addr_be())};
    r.sport = rte_be_to_cpu_16(e.orig_port_be());
    r.dport = rte_be_to_cpu_16(e.resp_port_be());
    r.state = flow::to_string(e.state.load(std::memory_order_relaxed));
    r.vm_id[0] = e.vm_id[0] == flow::kNoVmId ? control::kNoVmId : e.vm_id[0];
    r.vm_id[1] = e.vm_id[1] == flow::kNoVmId ? control::kNoVmId : e.vm_id[1];
    r.age_s = static_cast<double>(now - e.created) / hz;
    // Another worker may have stamped the connection after `now` was read.
    uint64_t last = e.last_seen.load(std::memory_order_relaxed);
    r.idle_s = last >= now ? 0.0 : static_cast<double>(now - last) / hz;
    r.generation = e.generation.load(std::memory_order_relaxed);
    r.egress_rule = e.egress_rule.load(std::memory_order_relaxed);
    r.ingress_rule = e.ingress_rule.load(std::memory_order_relaxed);
    fn(r);
  });
}

size_t LiveDataplane::flush_flows(const std::vector<bool>* vm_ids) {
  return parts_.flows ? parts_.flows->flush(vm_ids) : 0;
}

size_t LiveDataplane::reclaim_flows() { return parts_.flows ? parts_.flows->reclaim(rte_rdtsc()) : 0; }

}  // namespace sgfw::daemon
