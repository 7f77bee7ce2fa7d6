#include "fleet/key_layout.hpp"

#include "core/escape.hpp"
#include "policy/model.hpp"

namespace sgfw::fleet {

namespace {

std::string_view dir_of(Kind kind) {
  switch (kind) {
    case Kind::kSubnet: return kSubnetsDir;
    case Kind::kGroup: return kGroupsDir;
    case Kind::kVm: return kVmsDir;
  }
  return kVmsDir;
}

std::string quoted_key(std::string_view key) { return "key '" + core::escape_for_log(key, 300) + "'"; }

}  // namespace

core::Status check_prefix(std::string_view prefix) {
  std::string shown = "etcd prefix '" + core::escape_for_log(prefix, 300) + "'";
  if (prefix.empty()) return core::make_error("etcd prefix: must not be empty (e.g. /sgfw/)");
  if (prefix.size() > kMaxPrefix) return core::make_error(shown + ": longer than 200 bytes");
  for (char c : prefix) {
    if (c <= 0x20 || c >= 0x7f) return core::make_error(shown + ": only printable ASCII without spaces");
  }
  if (prefix.back() != '/') return core::make_error(shown + ": must end with '/'");
  return {};
}

std::string key_for(std::string_view prefix, Kind kind, std::string_view name) {
  std::string k(prefix);
  k += dir_of(kind);
  k += name;
  return k;
}

core::Expected<KeyRef> parse_key(std::string_view prefix, std::string_view key) {
  if (key.substr(0, prefix.size()) != prefix)
    return core::make_error(quoted_key(key) + ": not under the prefix '" + core::escape_for_log(prefix, 300) + "'");
  std::string_view rest = key.substr(prefix.size());
  KeyRef ref;
  bool found = false;
  for (Kind k : {Kind::kSubnet, Kind::kGroup, Kind::kVm}) {
    if (rest.substr(0, dir_of(k).size()) == dir_of(k)) {
      ref.kind = k;
      rest.remove_prefix(dir_of(k).size());
      found = true;
      break;
    }
  }
  if (!found)
    return core::make_error(quoted_key(key) + ": expected " + core::escape_for_log(prefix, 300) +
                            "{subnets,groups,vms}/NAME");
  if (!policy::is_valid_name(rest))
    return core::make_error(quoted_key(key) + ": invalid " + std::string(kind_name(ref.kind)) + " name '" +
                            core::escape_for_log(rest, 100) +
                            "': names are 1-63 of [a-z0-9-], starting and ending with a letter or digit");
  ref.name = std::string(rest);
  return ref;
}

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kSubnet: return "subnet";
    case Kind::kGroup: return "security group";
    case Kind::kVm: return "VM";
  }
  return "VM";
}

}  // namespace sgfw::fleet
