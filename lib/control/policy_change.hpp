// A policy change computed off to the side (docs/control.md, "Changes"): from a
// request (a reload or a VM's new groups) and the running generation to a validated
// policy and a built snapshot that nothing uses yet. Pure with respect to the daemon:
// it reads the running snapshot and the configuration, writes nothing, publishes
// nothing, logs nothing; ControlPlane::commit applies the result. Thread-safety:
// prepare_change may run on a builder thread while the control thread reads the same
// running snapshot (both only read it); one change is prepared at a time. Errors are
// the operator's messages (locations for YAML, client text escaped).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::control {

// One VM's new groups in an etcd batch (the membership fast path, docs/fleet.md,
// "Following the policy live"): `key` names it in errors.
struct Membership {
  std::string key;
  std::string vm;
  std::vector<std::string> groups;
};

struct ChangeRequest {
  enum class Kind { kReload, kSetGroups, kEtcd };
  Kind kind = Kind::kReload;
  // reload: the policy's content sent by a client (name labels messages); none: the
  // configured policy file, read once.
  std::optional<std::string> text;
  std::string name;
  // set-groups: the VM and its new list (trimmed and validated here).
  std::string vm;
  std::vector<std::string> groups;

  // etcd: a batch of the watch (docs/fleet.md). Either `make_policy` builds the whole
  // new policy (called on the builder thread: the decode of every key), or, when it is
  // empty, `memberships` are applied to the running policy like set-groups (the
  // incremental compile). Never persisted by the control plane (the follower writes the
  // persisted copy).
  std::function<core::Expected<policy::Policy>()> make_policy;
  std::vector<Membership> memberships;

  [[nodiscard]] const char* what() const {
    return kind == Kind::kReload ? "reload" : kind == Kind::kSetGroups ? "vm set-groups" : "etcd";
  }
};

// What a change is computed against.
struct ChangeBase {
  const config::DaemonConfig* cfg = nullptr;
  const runtime::Snapshot* running = nullptr;  // the published generation (contexts are reused from it)
  uint64_t generation = 0;                     // the new snapshot's generation
  unsigned workers = 1;
};

struct PreparedChange {
  std::unique_ptr<runtime::Snapshot> snapshot;  // VM ids not yet assigned
  std::string persisted_text;                   // the file content to persist; empty: written from the policy
  double prepare_ms = 0;                        // read, parse, validate and build
  std::chrono::steady_clock::time_point started, finished;  // of the preparation
};

[[nodiscard]] core::Expected<PreparedChange> prepare_change(const ChangeRequest& request, const ChangeBase& base);

}  // namespace sgfw::control
