#include "daemon/live_dataplane.hpp"

#include <rte_byteorder.h>
#include <rte_cycles.h>

namespace sgfw::daemon {

namespace {

core::IpAddress address_of(uint32_t be) { return core::Ipv4{rte_be_to_cpu_32(be)}; }
core::IpAddress address_of(const flow::Addr6& be) { return core::Ipv6{be}; }

// One connection of either family as `flows` shows it, at TSC time `now`.
template <class Entry, class Cold>
control::FlowRecord record_of(const Entry& e, const Cold& c, uint64_t now, double hz) {
  control::FlowRecord r;
  const bool lo = e.orig_is_lo();
  r.proto = c.key.proto;
  r.src = address_of(c.orig_addr_be(lo));
  r.dst = address_of(c.resp_addr_be(lo));
  r.sport = rte_be_to_cpu_16(c.orig_port_be(lo));
  r.dport = rte_be_to_cpu_16(c.resp_port_be(lo));
  r.state = flow::to_string(e.state.load(std::memory_order_relaxed));
  r.vm_id[0] = c.vm_id[0] == flow::kNoVmId ? control::kNoVmId : c.vm_id[0];
  r.vm_id[1] = c.vm_id[1] == flow::kNoVmId ? control::kNoVmId : c.vm_id[1];
  r.age_s = static_cast<double>(e.age(now)) / hz;
  // Another worker may have stamped the connection after `now` was read.
  uint64_t last = e.last_seen.load(std::memory_order_relaxed);
  r.idle_s = last >= now ? 0.0 : static_cast<double>(now - last) / hz;
  r.generation = e.generation.load(std::memory_order_relaxed);
  r.egress_rule = c.egress_rule.load(std::memory_order_relaxed);
  r.ingress_rule = c.ingress_rule.load(std::memory_order_relaxed);
  return r;
}

}  // namespace

std::vector<control::PortInfo> LiveDataplane::ports() const {
  std::vector<control::PortInfo> out;
  for (const auto& p : *parts_.ports) out.push_back({p.name, p.device, p.uplink, p.rx_queues});
  return out;
}

control::Totals LiveDataplane::port_totals(size_t port) const { return control::port_totals(*parts_.port_counters, port); }

std::vector<control::WorkerInfo> LiveDataplane::workers() const {
  std::vector<control::WorkerInfo> out;
  for (const auto& w : *parts_.workers)
    out.push_back({runtime::read(w.packets), runtime::read(w.busy_cycles), runtime::read(w.loops),
                   runtime::read(w.classify_cache_hits), runtime::read(w.classify_cache_misses),
                   runtime::read(w.classify_cache_bypassed)});
  return out;
}

double LiveDataplane::tsc_hz() const { return static_cast<double>(rte_get_tsc_hz()); }

control::FlowTableInfo LiveDataplane::flow_table() const {
  control::FlowTableInfo i;
  i.present = parts_.flows || parts_.flows6;
  if (parts_.flows) {
    i.used_ipv4 = parts_.flows->size();
    i.half_open_reclaimed += parts_.flows->half_open_reclaimed();
    i.inbound_half_open_recycled += parts_.flows->inbound_half_open_recycled();
  }
  if (parts_.flows6) {
    i.used_ipv6 = parts_.flows6->size();
    i.half_open_reclaimed += parts_.flows6->half_open_reclaimed();
    i.inbound_half_open_recycled += parts_.flows6->inbound_half_open_recycled();
  }
  i.used = i.used_ipv4 + i.used_ipv6;
  return i;
}

void LiveDataplane::for_each_flow(const std::function<void(const control::FlowRecord&)>& fn) const {
  const uint64_t now = rte_rdtsc();
  const double hz = tsc_hz();
  if (parts_.flows) parts_.flows->for_each([&](int32_t, const flow::FlowEntry& e, const flow::FlowCold& c) {
    fn(record_of(e, c, now, hz));
  });
  if (parts_.flows6) parts_.flows6->for_each([&](int32_t, const flow::FlowEntry6& e, const flow::FlowCold6& c) {
    fn(record_of(e, c, now, hz));
  });
}

size_t LiveDataplane::flush_flows(const std::vector<bool>* vm_ids) {
  size_t n = parts_.flows ? parts_.flows->flush(vm_ids) : 0;
  n += parts_.flows6 ? parts_.flows6->flush(vm_ids) : 0;
  if (log_writer_) log_writer_->drain(rte_rdtsc());  // named before the caller releases the VM ids
  return n;
}

size_t LiveDataplane::reclaim_flows(uint32_t slices) {
  const uint64_t now = rte_rdtsc();
  size_t n = parts_.flows ? parts_.flows->reclaim(now, slices) : 0;
  return n + (parts_.flows6 ? parts_.flows6->reclaim(now, slices) : 0);
}

std::vector<control::LogFileInfo> LiveDataplane::logs() const {
  std::vector<control::LogFileInfo> out;
  if (!log_writer_) return out;
  for (logs::File f : {logs::File::kConnections, logs::File::kDrops}) {
    if (!log_writer_->enabled(f)) continue;
    logs::FileCounters c = log_writer_->counters(f);
    out.push_back({f == logs::File::kConnections ? "connections" : "drops", log_writer_->path(f), c.written,
                   c.suppressed, c.lost, c.errors});
  }
  return out;
}

}  // namespace sgfw::daemon
