// The scenario policies' VMs a, b and c (on ports vm-a, vm-b and vm-c) and the
// internet behind the uplink, shared by the scenario tests: their MAC addresses, and
// (for the IPv4 scenarios, `using namespace ipv4`) their addresses and a router's.
#pragma once

#include <string>

#include "frames.hpp"

namespace sgfw::scenario {

inline const Mac kMacA = mac("02:00:00:00:00:0a"), kMacB = mac("02:00:00:00:00:0b"), kMacC = mac("02:00:00:00:00:0c");
inline const Mac kInetMac = mac("02:00:00:00:99:01");

namespace ipv4 {
inline const std::string kA = "10.0.0.10", kB = "10.0.0.11", kC = "10.0.0.12", kInet = "203.0.113.7",
                         kRouter = "198.51.100.1";
}  // namespace ipv4

}  // namespace sgfw::scenario
