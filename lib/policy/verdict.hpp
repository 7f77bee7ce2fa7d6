// The verdict of docs/enforcement.md §3 for one first packet, check by check: the shape
// `explain` prints, shared by the reference matcher and the compiled path so the two
// can be compared field for field. Thread-safety: plain values.
#pragma once

#include <string>
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

struct Verdict {
  bool allow = false;
  std::string reason;         // empty when allowed; "no-rule" or "not-local"
  std::vector<Check> checks;  // egress check of the sender first, then ingress
  bool operator==(const Verdict&) const = default;
};

// Combines checks into a verdict: no checks => not-local; any deny => no-rule.
[[nodiscard]] Verdict combine_checks(std::vector<Check> checks);

}  // namespace sgfw::policy
