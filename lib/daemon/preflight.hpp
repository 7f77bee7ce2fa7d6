// Everything sgfwd checks before it touches a device (docs/daemon.md, "Start-up
// order", steps 1-2): configuration and policy loaded (files that cannot be opened
// named with their errno), VM ports with their location, limits, interfaces and tx
// queues, the control socket path. Warnings (checksum offload) and notes
// (control_group) are returned, not printed. `sgfwd --check` and the start both run
// it. Control path; run from the main thread before the EAL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"
#include "daemon/etcd_start.hpp"
#include "daemon/socket_precheck.hpp"
#include "policy/model.hpp"

namespace sgfw::daemon {

struct Preflight {
  config::DaemonConfig cfg;
  policy::Policy policy;
  std::string policy_text;        // as read: what the first generation persists as
  // Changes replayed from the policy file's set-groups journal (docs/configuration.md,
  // "The policy file is rewritten"): `policy` includes them, `policy_text` does not;
  // the journal stays and later changes are appended to it.
  size_t journal_applied = 0;
  // policy_source etcd: the start-up load (the policy came from etcd or from the
  // persisted copy); unset for a file source.
  std::optional<EtcdStart> etcd;
  SocketPathState socket = SocketPathState::kFree;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;
};

// The policy is the file's content plus its journal's records (a damaged journal, or
// one naming an unknown VM or group, is an error; a torn last record is a note).
// Error: the first thing start-up would stop on, as the message to print.
[[nodiscard]] core::Expected<Preflight> preflight(const std::string& config_file);

}  // namespace sgfw::daemon
