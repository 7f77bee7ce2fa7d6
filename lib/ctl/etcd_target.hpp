// Where `sgfwctl policy push/pull` find etcd (docs/fleet.md, "policy push and pull"):
// the flags --endpoints/--prefix/--appliance, or, without them, the daemon's `status`
// (`policy_source`, docs/control.md). Control path; not thread-safe (one call per
// process). Never throws.
#pragma once

#include <string>
#include <vector>

#include "ctl/client.hpp"

namespace sgfw::ctl {

struct EtcdTarget {
  std::vector<std::string> endpoints;  // http://HOST:PORT, 1..16
  std::string prefix;                  // docs/fleet.md prefix rule
  std::string appliance;               // empty only for pull (not needed there)
};

// The command-line flags, as given (empty: not given).
struct EtcdFlags {
  std::string endpoints;  // URL[,URL...]
  std::string prefix;
  std::string appliance;
};

// A target, or the exit code and message of the failure (docs/public-interface.md: 2
// usage, 3 daemon not reachable, 1 anything else).
struct TargetResult {
  EtcdTarget target;
  int code = 0;  // 0: `target` is valid
  std::string error;
};

// `status_result`: the daemon's status result. Errors (code 1): "sgfwd's policy source
// is the file P, not etcd", a status without `policy_source` (an older sgfwd), a
// malformed one.
[[nodiscard]] TargetResult target_from_status(const Json& status_result);

// Empty, or the usage error of flags given in part (some but not all).
[[nodiscard]] std::string flags_usage_error(const EtcdFlags& flags, bool need_appliance);

// The flags when given (all three; for pull `need_appliance` false: --endpoints and
// --prefix), else the daemon's status over `socket`. Checks the endpoints' URLs, the
// prefix and the appliance name. Some flags but not all: code 2.
[[nodiscard]] TargetResult resolve_target(const EtcdFlags& flags, const std::string& socket, bool need_appliance);

}  // namespace sgfw::ctl
