// Start-up checks of the configured ports that need no DPDK (docs/daemon.md,
// "Before any packet"): run by `sgfwd --check` and at start, before the EAL. Control
// path; thread-safe except checksum_warnings (it moves a helper thread between network
// namespaces, never the calling thread).
#pragma once

#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"

namespace sgfw::daemon {

// Every kernel interface named in a device exists, and every port whose queue count
// can be read from its devargs offers at least `workers` tx queues. Errors name the
// port, the cause and the remedy.
[[nodiscard]] core::Status check_ports(const config::DaemonConfig& cfg);

// One warning per kernel interface behind a port (or its veth peer, found in this or
// a named network namespace under /run/netns) whose TX checksum offload is on: the
// kernel there hands out TCP/UDP packets with unfinished checksums that sgfwd forwards
// as they are and the receiver drops (docs/daemon.md, "Checksum offload").
[[nodiscard]] std::vector<std::string> checksum_warnings(const config::DaemonConfig& cfg);

}  // namespace sgfw::daemon
