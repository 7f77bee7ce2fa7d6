// The daemon configuration (docs/public-interface.md, "Daemon configuration"). Loaded with the
// same strictness as policies: unknown/duplicate keys and bad values are errors with
// "file:line:col: message". Control path; never throws.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "config/policy_source.hpp"
#include "core/expected.hpp"
#include "policy/limits.hpp"
#include "policy/validate.hpp"

namespace sgfw::config {

struct PortConfig {
  std::string name;    // referenced by vms[].port
  std::string device;  // DPDK devargs: vdev spec ("net_af_packet0,iface=x") or PCI address
  bool uplink = false;
};

struct FlowTimeouts {  // seconds (docs/enforcement.md §4)
  uint32_t tcp_syn = 30;
  uint32_t tcp_established = 432000;
  uint32_t tcp_closing = 120;
  uint32_t udp = 30;
  uint32_t udp_stream = 180;
  uint32_t icmp = 30;
  uint32_t other = 600;
};

struct FlowConfig {
  uint32_t capacity = 1048576;
  uint32_t per_vm_limit = 65536;
  // Half-open connections opened *to* a VM (unanswered inbound first packets) inside
  // its quota; 0 = per_vm_limit / 4 (docs/configuration.md).
  uint32_t per_vm_inbound_half_open = 0;
  bool keep_established = false;
  bool tcp_loose = false;
  FlowTimeouts timeouts;
};

// logs: (docs/logs.md). Both paths empty: logs off.
struct LogConfig {
  std::string connections;          // resolved path, or empty: no connection records
  std::string drops;                // resolved path, or empty: no drop records
  uint32_t rate_limit_per_s = 1000; // lines per second per file, excess counted
  [[nodiscard]] bool enabled() const { return !connections.empty() || !drops.empty(); }
};

using Limits = policy::Limits;  // what a policy may hold (policy/limits.hpp)

inline constexpr uint32_t kMaxPorts = 32;    // Debian's DPDK: RTE_MAX_ETHPORTS
inline constexpr uint32_t kMaxWorkers = 16;

struct DaemonConfig {
  std::string file;                 // where it was loaded from
  std::vector<std::string> eal;     // extra EAL arguments
  std::vector<PortConfig> ports;    // exactly one uplink
  uint32_t workers = 1;
  std::string policy;               // resolved: relative paths are relative to the config file
  std::string control_socket = "/run/sgfw/sgfwd.sock";
  std::string control_group = "sgfw";
  bool control_group_set = false;   // control_group was given (not the default)
  FlowConfig flows;
  Limits limits;
  size_t acl_max_size = 0;          // rte_acl memory cap per context in bytes (0: none)
  uint32_t mbufs = 0;               // packet buffers in the pool (0: sized from ports and workers)
  // metrics.listen: "host:port" of the Prometheus endpoint (docs/metrics.md); empty: off.
  std::string metrics_host;
  uint16_t metrics_port = 0;
  LogConfig logs;                   // logs: connection and drop logs; off when absent
  // policy_source: the policy file (default) or an etcd prefix (docs/configuration.md);
  // with etcd, `policy` is the persisted last good copy.
  PolicySource policy_source;

  [[nodiscard]] std::vector<std::string> port_names() const;
  [[nodiscard]] uint32_t uplink_index() const;  // index into ports
  // The ports as policy::check_vm_ports takes them (VM ports, uplink, this file).
  [[nodiscard]] policy::PortNames policy_ports() const;
  // flows.per_vm_inbound_half_open with its default applied.
  [[nodiscard]] uint32_t inbound_half_open_budget() const {
    return flows.per_vm_inbound_half_open ? flows.per_vm_inbound_half_open
                                          : std::max<uint32_t>(1, flows.per_vm_limit / 4);
  }
};

[[nodiscard]] core::Expected<DaemonConfig> load_daemon_config_file(const std::string& path);
[[nodiscard]] core::Expected<DaemonConfig> load_daemon_config_text(std::string_view text,
                                                                   const std::string& display_name);

}  // namespace sgfw::config
