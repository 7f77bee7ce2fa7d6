// The writes of a policy push (docs/fleet.md, "Limits and the push of a large
// policy"): the diff between the keys in etcd and a policy's keys, cut into
// transactions that fit etcd's limits (128 operations, 1.5 MiB per request by default).
// Pure: the caller runs the steps with lib/etcd. Thread-safe; never throws.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "fleet/key_layout.hpp"

namespace sgfw::fleet {

// A key as read from etcd, with the revision of its last change.
struct StoredValue {
  std::string value;
  int64_t mod_revision = 0;
};
using StoredKeys = std::map<std::string, StoredValue>;

// One write, guarded: it may only happen if the key still has `expected_mod_revision`
// (0: the key must be absent), i.e. nobody changed it since it was read.
struct Write {
  enum class Type : uint8_t { kPut, kDelete };
  Type type = Type::kPut;
  std::string key;
  std::string value;  // kPut
  int64_t expected_mod_revision = 0;
};

struct PushLimits {
  size_t max_ops = 128;          // etcd's --max-txn-ops (default 128)
  size_t max_bytes = 1u << 20;   // under etcd's --max-request-bytes (default 1.5 MiB)
};

// The key that brackets a staged push: PREFIX "meta/push".
[[nodiscard]] std::string push_marker_key(std::string_view prefix);

struct PushPlan {
  // The transactions, in order, each at most max_ops - 1 writes (one operation and one
  // compare are the marker's) and max_bytes of keys and values. One step: run it as one
  // transaction guarded by its writes and the marker being absent. Several (staged):
  // create the marker first, guard every step by the marker's revision, delete the
  // marker in the last step (docs/fleet.md).
  std::vector<std::vector<Write>> steps;
  size_t puts = 0;
  size_t deletes = 0;
  size_t unchanged = 0;
  [[nodiscard]] bool staged() const noexcept { return steps.size() > 1; }
  [[nodiscard]] bool empty() const noexcept { return steps.empty(); }
};

// `current`: every key under `prefix` as read at one revision; `wanted`: the policy's
// keys (encode_policy). Keys under PREFIX "meta/" in `current` are not policy keys and
// are left alone. Errors: a bad prefix; a wanted key not under the prefix or under
// "meta/"; a key and value larger than max_bytes ("KEY: N bytes, more than the
// transaction limit of M bytes"); limits below 2 ops or 1 KiB; the marker present ("a
// push is in progress: KEY exists (revision R)").
[[nodiscard]] core::Expected<PushPlan> plan_push(const StoredKeys& current, const KeyValues& wanted,
                                                 std::string_view prefix, const PushLimits& limits = {});

}  // namespace sgfw::fleet
