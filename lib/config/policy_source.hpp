// policy_source: where the daemon's policy comes from (docs/configuration.md,
// "policy_source"): the `policy` file (the default) or an etcd prefix followed live
// (docs/fleet.md, "Following the policy live"). Pure; thread-safe; never throws past
// parse_policy_source, whose errors are LoadError located at the offending node.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_tree.hpp"

namespace sgfw::config {

struct EtcdSource {
  std::vector<std::string> endpoints;  // 1..16 distinct "http://HOST:PORT"
  std::string prefix;                  // docs/fleet.md prefix rule, ends with '/'
  std::string appliance;               // this appliance's name (given, or the host name's first label)
};

struct PolicySource {
  bool etcd = false;  // false: the `policy` file
  EtcdSource source;
};

inline constexpr size_t kMaxEtcdEndpoints = 16;

// The appliance name a host name gives: its first label (up to the first '.') when it
// is a valid name (docs/policy-format.md's rule), else empty.
[[nodiscard]] std::string appliance_from_host(std::string_view host_name);

// One endpoint URL "http://HOST:PORT" (PORT 1..65535, HOST non-empty): empty if valid,
// else why not.
[[nodiscard]] std::string endpoint_problem(std::string_view url);

// A prefix by docs/fleet.md's rule (1-200 printable ASCII bytes, no spaces, ending in
// '/'): empty if valid, else why not.
[[nodiscard]] std::string prefix_problem(std::string_view prefix);

// The value of `policy_source:` in the daemon configuration `file`. `host_name` gives
// the default appliance. Throws LoadError ("file:line:col: message").
[[nodiscard]] PolicySource parse_policy_source(const std::string& file, const YamlNode& node,
                                               std::string_view host_name);

}  // namespace sgfw::config
