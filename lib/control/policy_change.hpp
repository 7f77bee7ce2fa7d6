// A policy change computed off to the side (docs/control.md, "Changes"): from a
// request (a reload or a VM's new groups) and the running generation to a validated
// policy and a built snapshot that nothing uses yet. Pure with respect to the daemon:
// it reads the running snapshot and the configuration, writes nothing, publishes
// nothing, logs nothing; ControlPlane::commit applies the result. Thread-safety:
// prepare_change may run on a builder thread while the control thread reads the same
// running snapshot (both only read it); one change is prepared at a time. Errors are
// the operator's messages (locations for YAML, client text escaped).
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::control {

struct ChangeRequest {
  enum class Kind { kReload, kSetGroups };
  Kind kind = Kind::kReload;
  // reload: the policy's content sent by a client (name labels messages); none: the
  // configured policy file, read once.
  std::optional<std::string> text;
  std::string name;
  // set-groups: the VM and its new list (trimmed and validated here).
  std::string vm;
  std::vector<std::string> groups;

  [[nodiscard]] const char* what() const { return kind == Kind::kReload ? "reload" : "vm set-groups"; }
};

// A copy of the running policy made ahead of time on another thread (ControlPlane),
// which a set-groups changes instead of copying the policy itself.
using SparePolicy = std::shared_ptr<std::future<std::unique_ptr<policy::Policy>>>;

// What a change is computed against.
struct ChangeBase {
  const config::DaemonConfig* cfg = nullptr;
  const runtime::Snapshot* running = nullptr;  // the published generation (contexts are reused from it)
  uint64_t generation = 0;                     // the new snapshot's generation
  unsigned workers = 1;
  SparePolicy spare;  // set-groups: a copy of running->policy() (being) made; null: copied here
};

struct PreparedChange {
  std::unique_ptr<runtime::Snapshot> snapshot;  // VM ids not yet assigned
  std::string persisted_text;                   // the file content to persist; empty: written from the policy
  double prepare_ms = 0;                        // read, parse, validate and build
};

[[nodiscard]] core::Expected<PreparedChange> prepare_change(const ChangeRequest& request, const ChangeBase& base);

}  // namespace sgfw::control
