// The verdict of docs/enforcement.md §3 for one first packet, check by check: the shape
// `explain` prints, shared by the reference matcher and the compiled path so the two
// can be compared field for field. Thread-safety: plain values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/model.hpp"

namespace sgfw::policy {

struct Check {
  std::string vm;
  Direction direction = Direction::kEgress;
  bool allow = false;
  std::string rule;  // "group/rule" of the deciding rule; empty when denied
  bool operator==(const Check&) const = default;
};

// The reference matcher cannot tell which VM an end of the packet is when its address
// belongs to several local VMs (a shared allowed address pair, docs/enforcement.md
// §3.1) and the tuple carries no MAC for that end that is the MAC (own or pair) of
// exactly one of them. Its verdict then is: allow = false, reason = kReasonAmbiguous,
// no checks, `ambiguous_vms` = the local VMs that share the address (sorted by name).
// This is not a drop reason of the data plane: the tuple says too little to judge.
inline constexpr std::string_view kReasonAmbiguous = "ambiguous-address";

struct Verdict {
  bool allow = false;
  std::string reason;         // empty when allowed; "no-rule", "not-local" or kReasonAmbiguous
  std::vector<Check> checks;  // egress check of the sender first, then ingress
  std::vector<std::string> ambiguous_vms;  // kReasonAmbiguous only
  bool operator==(const Verdict&) const = default;
};

// Combines checks into a verdict: no checks => not-local; any deny => no-rule.
[[nodiscard]] Verdict combine_checks(std::vector<Check> checks);

}  // namespace sgfw::policy
