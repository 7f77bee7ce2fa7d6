#include "policy/verdict.hpp"

namespace sgfw::policy {

Verdict combine_checks(std::vector<Check> checks) {
  Verdict v;
  v.checks = std::move(checks);
  if (v.checks.empty()) {
    v.reason = "not-local";
    return v;
  }
  v.allow = true;
  for (const auto& c : v.checks) v.allow = v.allow && c.allow;
  if (!v.allow) v.reason = "no-rule";
  return v;
}

}  // namespace sgfw::policy
