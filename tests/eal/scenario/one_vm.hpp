// The smallest scenario: one local VM, a (10.0.0.10 on port vm-a), and the internet
// behind the uplink (203.0.113.7), with a policy of one group of a's egress rules and
// nothing allowed in. For the scenarios about one connection's or one datagram's life.
#pragma once

#include <string>

#include "frames.hpp"

namespace sgfw::scenario::one_vm {

inline const Mac kMacA = mac("02:00:00:00:00:0a"), kInetMac = mac("02:00:00:00:99:01");
inline const std::string kA = "10.0.0.10", kInet = "203.0.113.7";

// a's policy: group `client` with `egress_rule`, a flow-style rule line.
inline std::string one_vm_policy(const std::string& egress_rule) {
  return "securityGroups:\n"
         "  - name: client\n"
         "    rules:\n"
         "      - " +
         egress_rule +
         "\n"
         "vms:\n"
         "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [client]}\n";
}

}  // namespace sgfw::scenario::one_vm
