// DPDK port bring-up for the daemon's configured devices: probe by devargs (any vdev or
// a PCI address), configure rx/tx queues (RSS when a port offers several rx queues),
// start, promiscuous mode. Control path only; not thread-safe.
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"

namespace sgfw::ports {

struct PortRuntime {
  std::string name;
  std::string device;
  uint16_t dpdk_port = 0;
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  bool uplink = false;
};

// Probes and configures every port (not started). tx queues = workers (each worker
// owns one per port, so tx needs no lock); rx queues = min(workers, what the port
// offers). Errors name the port and the DPDK reason.
[[nodiscard]] core::Expected<std::vector<PortRuntime>> setup_ports(const config::DaemonConfig& cfg,
                                                                  rte_mempool* pool);
[[nodiscard]] core::Status start_ports(const std::vector<PortRuntime>& ports);
void stop_ports(const std::vector<PortRuntime>& ports);

// The mbuf pool: `count` buffers, or (count 0) enough for `ports` ports and `workers`
// workers' descriptor rings and caches.
[[nodiscard]] core::Expected<rte_mempool*> create_mbuf_pool(size_t ports, unsigned workers, unsigned count = 0);

}  // namespace sgfw::ports
