// What the control plane reads of and asks from the running data plane, as an
// interface: `control` does not include the data plane (docs/design/architecture.md).
// The daemon implements it over its ports, workers and connection tables (IPv4, IPv6)
// (daemon/live_dataplane.hpp); tests and fuzz targets implement it with fakes.
// Control thread only: every call is made from the one control thread; counters are
// read with relaxed loads while the workers write them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "control/counter_totals.hpp"
#include "core/ip_address.hpp"

namespace sgfw::control {

struct PortInfo {
  std::string name;
  std::string device;
  bool uplink = false;
  uint16_t rx_queues = 1;
};

struct WorkerInfo {
  uint64_t packets = 0;      // received
  uint64_t busy_cycles = 0;  // TSC cycles of loop iterations that received or judged packets
  uint64_t loops = 0;
  uint64_t classify_cache_hits = 0;  // rule checks the classification cache answered
  uint64_t classify_cache_misses = 0;
  uint64_t classify_cache_bypassed = 0;
};

struct FlowTableInfo {
  bool present = false;    // false: the daemon runs without a connection table (fakes)
  uint64_t used = 0;       // connections of both families: used_ipv4 + used_ipv6
  uint64_t used_ipv4 = 0;  // in the IPv4 connection table
  uint64_t used_ipv6 = 0;  // in the IPv6 connection table
  // Summed over both tables:
  uint64_t half_open_reclaimed = 0;
  uint64_t inbound_half_open_recycled = 0;
};

inline constexpr uint32_t kNoVmId = 0xffffffffu;  // a stable VM id: the connection end is no local VM

// One connection of either family, as `flows` shows it (ports in host byte order;
// core::IpAddress: IPv4 in host order, IPv6 as its 16 wire bytes).
struct FlowRecord {
  uint8_t proto = 0;
  core::IpAddress src, dst;  // the originator (first packet's source) and the responder; one family
  uint16_t sport = 0, dport = 0;
  std::string_view state;
  uint32_t vm_id[2] = {kNoVmId, kNoVmId};  // stable VM ids at the originator's / responder's end
  double age_s = 0, idle_s = 0;
  uint64_t generation = 0;  // the generation that admitted or last re-checked it
  uint32_t egress_rule = 0, ingress_rule = 0;  // deciding rule id + 1; 0: no such check
};

// One log file's counters (docs/logs.md, "Counters").
struct LogFileInfo {
  std::string file;  // "connections" or "drops"
  std::string path;
  uint64_t written = 0, suppressed = 0, lost = 0, errors = 0;
};

class DataplaneAccess {
 public:
  virtual ~DataplaneAccess() = default;
  [[nodiscard]] virtual std::vector<PortInfo> ports() const = 0;
  // A port's counters summed over every worker (counter_totals.hpp).
  [[nodiscard]] virtual Totals port_totals(size_t port) const = 0;
  [[nodiscard]] virtual std::vector<WorkerInfo> workers() const = 0;
  [[nodiscard]] virtual double tsc_hz() const = 0;
  [[nodiscard]] virtual FlowTableInfo flow_table() const = 0;
  // Every connection, of both families (IPv4 first).
  virtual void for_each_flow(const std::function<void(const FlowRecord&)>& fn) const = 0;
  // Removes the connections (of both families) with a VM of `vm_ids` (indexed by
  // stable id) at either end; nullptr: every connection. Returns how many.
  virtual size_t flush_flows(const std::vector<bool>* vm_ids) = 0;
  // Expires idle connections and recycles positions; returns how many were reclaimed.
  // `slices` > 1: only the next 1/slices of each table (flow_table.hpp, reclaim()).
  virtual size_t reclaim_flows(uint32_t slices = 1) = 0;
  // The log files' counters (docs/logs.md); empty: logs off.
  [[nodiscard]] virtual std::vector<LogFileInfo> logs() const { return {}; }
};

}  // namespace sgfw::control
