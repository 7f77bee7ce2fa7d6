// The slow, obviously-correct reference matcher: a linear scan over the policy model,
// written straight from docs/enforcement.md §3 with no DPDK and no cleverness. It is the
// oracle of the differential tests. Control-path only; thread-safe (pure).
#pragma once

#include "policy/model.hpp"
#include "policy/packet_tuple.hpp"
#include "policy/verdict.hpp"

namespace sgfw::policy {

// Precondition: policy.finalize() was called and the policy is valid.
[[nodiscard]] Verdict reference_verdict(const Policy& policy, const PacketTuple& packet);

}  // namespace sgfw::policy
