#include "policy/limits.hpp"

#include <string>

namespace sgfw::policy {

core::Status check_limits(const Policy& policy, const Limits& limits) {
  size_t local = 0;
  for (const auto& vm : policy.vms) local += vm.is_local();
  auto over = [](size_t have, const char* what, const char* key, uint32_t limit) {
    return core::make_error("policy has " + std::to_string(have) + " " + what + "; limits." + key + " is " +
                            std::to_string(limit) + " (raise it in the daemon configuration)");
  };
  if (local > limits.local_vms) return over(local, "local VMs", "local_vms", limits.local_vms);
  if (policy.vms.size() > limits.vms) return over(policy.vms.size(), "VMs", "vms", limits.vms);
  if (policy.groups.size() > limits.groups)
    return over(policy.groups.size(), "security groups (built-ins included)", "groups", limits.groups);
  return {};
}

}  // namespace sgfw::policy
