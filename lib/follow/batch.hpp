// The etcd key map a following daemon keeps (docs/fleet.md, "Following the policy
// live"): the watch's events applied to it, and the membership fast path: which batches
// change nothing but VMs' security groups, so that they are applied like `vm
// set-groups` (the incremental compile) instead of a decode of every key. Pure;
// thread-safe; never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/types.hpp"
#include "fleet/key_layout.hpp"

namespace sgfw::follow {

// Puts set the key's value, deletes erase it (events in revision order).
void apply_events(fleet::KeyValues& map, const std::vector<etcd::Event>& events);

// One VM's new groups.
struct GroupChange {
  std::string key;  // PREFIX vms/NAME
  std::string vm;
  std::vector<std::string> groups;
};

// The membership fast path: the batch qualifies when every event is a put of a
// `PREFIX vms/NAME` key that exists in `before` (the map the running policy was decoded
// from), and the key's last new value, parsed as JSON, is an object equal to its value
// in `before` except for "securityGroups", which is an array of strings. Then: one
// GroupChange per VM (in key order). Anything else (a delete, a new key, another field
// changed, a value that is not JSON, a key outside vms/, an empty batch): nullopt, and
// the batch takes the full decode, whose errors name the key.
[[nodiscard]] std::optional<std::vector<GroupChange>> membership_only(std::string_view prefix,
                                                                      const fleet::KeyValues& before,
                                                                      const std::vector<etcd::Event>& events);

// The staged-push marker (docs/fleet.md, "Limits and the push of a large policy").
[[nodiscard]] std::string push_marker_key(std::string_view prefix);

}  // namespace sgfw::follow
