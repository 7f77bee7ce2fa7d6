#include "ports/ports.hpp"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <net/if.h>

#include <algorithm>

#include "config/device_args.hpp"

namespace sgfw::ports {

namespace {

constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;

std::string err(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

// The reason of a failed rte_dev_probe: some drivers return -1 and leave the real
// errno in rte_errno (a bare -1 would read as "Operation not permitted").
std::string probe_err(int rc) { return rc == -1 && rte_errno > 0 ? rte_strerror(rte_errno) : err(rc); }

core::Expected<uint16_t> probe(const std::string& devargs) {
  rte_devargs da{};
  int rc = rte_devargs_parse(&da, devargs.c_str());
  if (rc != 0) return core::make_error("cannot parse device '" + devargs + "': " + err(rc));
  std::string name = da.name;
  rte_devargs_reset(&da);
  uint16_t port = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
    for (const auto& iface : config::device_ifaces(devargs))
      if (if_nametoindex(iface.c_str()) == 0)
        return core::make_error("interface '" + iface + "' of device '" + devargs +
                                "' does not exist: create it or fix iface= ('ip -br link' lists the interfaces)");
    rte_errno = 0;
    rc = rte_dev_probe(devargs.c_str());
    if (rc != 0)
      return core::make_error("cannot probe device '" + devargs + "': " + probe_err(rc) +
                              " (the EAL lines above name the driver's reason: check the driver name and its "
                              "keys, e.g. iface=, qpairs=, queue_count=; docs/configuration.md)");
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0)
      return core::make_error("device '" + devargs + "' probed but has no ethdev port '" + name + "'");
  }
  return port;
}

}  // namespace

core::Expected<rte_mempool*> create_mbuf_pool(size_t ports, unsigned workers, unsigned count) {
  unsigned n = count ? count : static_cast<unsigned>(ports * (kRxDesc * workers + kTxDesc * workers) + 4096 * workers + 8191);
  rte_mempool* pool = rte_pktmbuf_pool_create("sgfw-mbufs", n, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              SOCKET_ID_ANY);
  if (pool == nullptr) return core::make_error(std::string("cannot create mbuf pool: ") + rte_strerror(rte_errno));
  return pool;
}

core::Expected<std::vector<PortRuntime>> setup_ports(const config::DaemonConfig& cfg, rte_mempool* pool) {
  std::vector<PortRuntime> out;
  for (const auto& pc : cfg.ports) {
    auto port = probe(pc.device);
    if (!port) return core::make_error("port '" + pc.name + "': " + port.error().message);
    PortRuntime r{pc.name, pc.device, *port, 1, 1, pc.uplink};
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(r.dpdk_port, &info);
    if (rc != 0) return core::make_error("port '" + pc.name + "': rte_eth_dev_info_get: " + err(rc));
    if (info.max_tx_queues < cfg.workers)
      return core::make_error("port '" + pc.name + "' offers " + std::to_string(info.max_tx_queues) +
                              " tx queues but workers is " + std::to_string(cfg.workers) +
                              " (each worker needs its own; e.g. net_af_packet qpairs=N)");
    r.rx_queues = static_cast<uint16_t>(std::max<unsigned>(1, std::min<unsigned>(cfg.workers, info.max_rx_queues)));
    r.tx_queues = static_cast<uint16_t>(cfg.workers);
    rte_eth_conf conf{};
    if (r.rx_queues > 1) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_hf =
          (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    }
    rc = rte_eth_dev_configure(r.dpdk_port, r.rx_queues, r.tx_queues, &conf);
    if (rc != 0) return core::make_error("port '" + pc.name + "': rte_eth_dev_configure: " + err(rc));
    uint16_t nrx = kRxDesc, ntx = kTxDesc;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(r.dpdk_port, &nrx, &ntx);
    if (rc != 0) return core::make_error("port '" + pc.name + "': adjust descriptors: " + err(rc));
    int socket = rte_eth_dev_socket_id(r.dpdk_port);
    if (socket < 0) socket = 0;
    for (uint16_t q = 0; q < r.rx_queues; ++q) {
      rc = rte_eth_rx_queue_setup(r.dpdk_port, q, nrx, static_cast<unsigned>(socket), nullptr, pool);
      if (rc != 0) return core::make_error("port '" + pc.name + "': rx queue setup: " + err(rc));
    }
    for (uint16_t q = 0; q < r.tx_queues; ++q) {
      rc = rte_eth_tx_queue_setup(r.dpdk_port, q, ntx, static_cast<unsigned>(socket), nullptr);
      if (rc != 0) return core::make_error("port '" + pc.name + "': tx queue setup: " + err(rc));
    }
    out.push_back(std::move(r));
  }
  return out;
}

core::Status start_ports(const std::vector<PortRuntime>& ports) {
  for (const auto& p : ports) {
    int rc = rte_eth_dev_start(p.dpdk_port);
    if (rc != 0) return core::make_error("port '" + p.name + "': rte_eth_dev_start: " + err(rc));
    rte_eth_promiscuous_enable(p.dpdk_port);  // VMs' MACs are not the port's own
  }
  return {};
}

void stop_ports(const std::vector<PortRuntime>& ports) {
  for (const auto& p : ports) {
    rte_eth_dev_stop(p.dpdk_port);
    rte_eth_dev_close(p.dpdk_port);
  }
}

}  // namespace sgfw::ports
