// The key layout of a policy in etcd (docs/fleet.md, "Key layout"): one key per security
// group, subnet and VM under a prefix, e.g. /sgfw/groups/web-sg, /sgfw/subnets/net-a,
// /sgfw/vms/app-1. Pure; thread-safe; never throws.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace sgfw::fleet {

// Every key of a policy under one prefix and its value, sorted by key (byte order, the
// order etcd returns a range in).
using KeyValues = std::map<std::string, std::string>;

enum class Kind : uint8_t { kSubnet, kGroup, kVm };

inline constexpr std::string_view kSubnetsDir = "subnets/";
inline constexpr std::string_view kGroupsDir = "groups/";
inline constexpr std::string_view kVmsDir = "vms/";
// The longest prefix accepted, in bytes.
inline constexpr size_t kMaxPrefix = 200;

struct KeyRef {
  Kind kind = Kind::kVm;
  std::string name;
};

// A prefix: 1..200 printable ASCII bytes without spaces, ending with '/'. Errors:
// "etcd prefix 'P': must end with '/'" and the like.
[[nodiscard]] core::Status check_prefix(std::string_view prefix);
// prefix + "vms/" + name and so on.
[[nodiscard]] std::string key_for(std::string_view prefix, Kind kind, std::string_view name);
// The kind and name of a key under `prefix`. Errors name the key: "key 'K': not under
// the prefix 'P'", "key 'K': expected P{subnets,groups,vms}/NAME", "key 'K': invalid
// name 'N': names are 1-63 of [a-z0-9-], ...".
[[nodiscard]] core::Expected<KeyRef> parse_key(std::string_view prefix, std::string_view key);
[[nodiscard]] std::string_view kind_name(Kind kind);  // "subnet", "security group", "VM"

}  // namespace sgfw::fleet
