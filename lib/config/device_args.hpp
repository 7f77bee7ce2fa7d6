// What sgfwd reads from a port's DPDK devargs before touching the device
// (docs/configuration.md, "ports"): the kernel interfaces behind it and how many queue
// pairs it will offer. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sgfw::config {

// The driver part of a devargs string: "net_af_packet0,iface=x" -> "net_af_packet"
// (trailing digits dropped); a PCI address is returned as is.
[[nodiscard]] std::string device_driver(const std::string& devargs);

// Values of iface=, rx_iface=, rx_iface_in= and tx_iface= (net_af_packet, net_af_xdp,
// net_pcap), without duplicates, in order.
[[nodiscard]] std::vector<std::string> device_ifaces(const std::string& devargs);

// The tx queues the port will offer: net_af_packet qpairs= and net_af_xdp
// queue_count= (default 1 each), net_pcap 1; nullopt for drivers sgfwd cannot tell
// before probing (the check then happens at start).
[[nodiscard]] std::optional<unsigned> device_tx_queues(const std::string& devargs);

// True for a DPDK virtual device (net_...), false for a PCI address.
[[nodiscard]] bool is_vdev(const std::string& devargs);

}  // namespace sgfw::config
