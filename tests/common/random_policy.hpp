// Random valid policies and packets for the differential tests. Addresses come from a
// small pool so that rules, subnets and group members overlap often.
#pragma once

#include <random>
#include <vector>

#include "policy/model.hpp"
#include "policy/packet_tuple.hpp"

namespace sgfw::testing {

// A finalized, valid policy.
[[nodiscard]] policy::Policy random_policy(std::mt19937_64& rng);

// A packet whose addresses are drawn mostly from the policy's VM addresses.
[[nodiscard]] policy::PacketTuple random_packet(std::mt19937_64& rng, const policy::Policy& p);

}  // namespace sgfw::testing
