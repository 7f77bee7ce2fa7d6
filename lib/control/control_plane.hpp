// The daemon's control plane (docs/control.md): a thin facade over the control
// protocol (lib/protocol), the policy changes (policy_change.hpp, computed off to the
// side, on a builder thread for socket requests: change_queue.hpp), the views
// (status, stats, flows, explain: views.cpp) and the data plane it reads through
// DataplaneAccess. It owns the policy state (text, generation, persistence), publishes
// snapshots through the RCU Publisher, keeps counter totals across generations and the
// stable VM ids. Control thread only (not thread-safe): the socket server calls it one
// request at a time; changes are committed in the order they were queued (root's
// first), and the last committed one wins.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "control/change_journal.hpp"
#include "control/change_queue.hpp"
#include "control/counter_totals.hpp"
#include "control/dataplane_access.hpp"
#include "control/metrics_text.hpp"
#include "control/socket_server.hpp"
#include "control/vm_ids.hpp"
#include "core/expected.hpp"
#include "protocol/protocol.hpp"
#include "runtime/publisher.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::control {

using Json = nlohmann::ordered_json;

class ControlPlane {
 public:
  // `policy_text` is the content the first snapshot was built from; `dataplane`
  // outlives the control plane.
  ControlPlane(config::DaemonConfig cfg, runtime::Publisher* publisher, DataplaneAccess* dataplane,
               std::string policy_text);

  // One request line -> one reply line ({"ok": true, "result": ...} or {"ok": false,
  // "error": "..."}), or nothing yet: a change (reload, set-groups) is built on the
  // builder thread and its reply comes out of collect(), for peer.connection. Never
  // throws.
  [[nodiscard]] std::optional<std::string> handle(const std::string& line, const Peer& peer);
  // The same, with changes built on this thread: always a reply (tests, fuzzing).
  [[nodiscard]] std::string handle_now(const std::string& line, const Peer& peer);
  // Commits the change whose build has finished, if any, and hands its reply to
  // `deliver(connection, reply line)`; starts the next waiting change.
  void collect(const std::function<void(uint64_t connection, const std::string& reply)>& deliver);
  // A change is building or waiting (the caller polls collect() more often).
  [[nodiscard]] bool changes_pending() const { return changes_.building() || changes_.waiting() > 0; }
  // Readable when a change has finished building (watch it in the poll loop).
  [[nodiscard]] int change_wake_fd() const { return changes_.wake_fd(); }

  // Changes built and committed on this thread (tests, the daemon). Errors leave the
  // running generation untouched.
  // text: a policy's content sent by a client (display_name names it in messages);
  // nullptr: re-read the configured policy file.
  [[nodiscard]] core::Expected<Json> reload(const std::string* text, const std::string& display_name,
                                            const Peer& peer);
  // Group names are trimmed of spaces; an empty name is an error (an empty list: none).
  [[nodiscard]] core::Expected<Json> set_groups(const std::string& vm, std::vector<std::string> groups,
                                                const Peer& peer);
  [[nodiscard]] Json status() const;

  // Another policy source (etcd, docs/fleet.md "Following the policy live"), served on
  // the control thread. `status` is status()'s "policy_source" (null: the file source).
  // `change`: a reload or set-groups request goes to the source instead of the change
  // queue; it returns the reply, or nothing when the source replies later (through the
  // deliver function it was given by the daemon's loop).
  struct SourceHooks {
    std::function<Json()> status;
    std::function<std::optional<std::string>(ChangeRequest, const Peer&)> change;
    std::function<std::string()> metrics;  // extra Prometheus lines (may be null)
  };
  void set_source_hooks(SourceHooks hooks) { source_ = std::move(hooks); }
  // Queues a change built on the builder thread like a client's (job.done receives the
  // outcome after the commit). Control thread only.
  void submit_change(ChangeJob job);
  // Error: `vm` names no VM of the running policy.
  [[nodiscard]] core::Expected<Json> stats(const std::string& vm) const;
  // GET /metrics (docs/metrics.md): stats and status as Prometheus text. Control thread only.
  [[nodiscard]] std::string metrics_text() const;
  // The duration of the start-up load (policy read, validated, compiled), reported as
  // the last load's duration until the first accepted change (docs/metrics.md).
  void set_startup_load_seconds(double seconds) { last_load_seconds_ = seconds; }
  // The last accepted load: its duration and when it happened (docs/metrics.md).
  [[nodiscard]] PolicyLoadInfo policy_load() const;
  // Connections reclaim() expired since start.
  [[nodiscard]] uint64_t connections_expired() const { return connections_expired_; }
  [[nodiscard]] Json explain(const std::vector<std::string>& packets) const;
  // Error: `vm` names no VM of the running policy.
  [[nodiscard]] core::Expected<Json> flows(const std::string& vm, long limit) const;
  [[nodiscard]] core::Expected<Json> flush(const std::string& vm, const Peer& peer);
  // Periodic housekeeping (control thread): expire connections, recycle positions;
  // `slices` > 1 sweeps the next 1/slices of the tables (flow_table.hpp, reclaim()).
  size_t reclaim(uint32_t slices = 1);
  // Control thread (the log writer, docs/logs.md): the VM holding stable id `id`, and
  // the "group/rule" label of rule `index` under `generation`; nullptr when unknown
  // (released, or that generation's labels are no longer kept).
  [[nodiscard]] const std::string* vm_name(uint32_t id) const { return vm_ids_.name_of(id); }
  [[nodiscard]] const std::string* rule_label(uint64_t generation, uint32_t index) const {
    auto it = labels_.find(generation);
    return it != labels_.end() && index < it->second->size() ? &(*it->second)[index] : nullptr;
  }

  // Stable ids for the VMs of a snapshot (by name; a VM keeps its id across
  // generations), and keeps the snapshot's rule labels for `flows`. Call before
  // publishing a snapshot. `added` receives the VMs that got a new id. Error: not
  // enough free ids (nothing assigned).
  [[nodiscard]] core::Status assign_vm_ids(runtime::Snapshot& snap, std::vector<std::string>* added = nullptr);

  // Opens the change journal next to the policy file (ChangeJournal::path_for) for the
  // policy text this control plane was given (which must be the file's content; the
  // running policy is that plus the journal's records, replayed at start-up), or
  // starts an empty one: from then on an accepted set-groups is persisted by appending
  // one record to it (docs/design/update-protocol.md, "The change journal"). Without it
  // (tests), every change rewrites the whole policy file. Error: the journal cannot
  // be written (nothing started).
  [[nodiscard]] core::Status open_journal();
  // A journal longer than this is compacted into the policy file by the change that
  // crosses it (the policy file rewritten, an empty journal started).
  static constexpr size_t kCompactBytes = 1 << 20;
  void set_compact_bytes(size_t bytes) { compact_bytes_ = bytes; }  // tests

  // Rule labels of the generations live connections may still reference (flows shows
  // the deciding rule by the generation that decided): at most this many generations,
  // the oldest dropped first; consecutive generations with the same rules share one list.
  static constexpr size_t kLabelGenerations = 64;

 private:
  std::optional<std::string> dispatch(const std::string& line, const Peer& peer, bool defer_changes);
  // The base of `request`: the running generation and the next generation number.
  [[nodiscard]] ChangeBase change_base(const ChangeRequest& request);
  // Applies a prepared change: VM ids, publish, persist (reverted if it cannot be
  // persisted), flush of removed VMs, counter folding; logs the outcome.
  core::Expected<Json> commit(const ChangeJob& job, core::Expected<PreparedChange> prepared);
  core::Expected<Json> change_now(ChangeRequest request, const Peer& peer);
  void fold(const runtime::Snapshot& old);
  void prune_totals(const runtime::Snapshot& running);
  void remember_labels(const runtime::Snapshot& snap);
  // Persists an accepted change: a journal record for a set-groups (when the journal
  // is open), else the whole file and a fresh journal. `text`: the file content to
  // write (empty: written from the running policy); on return, what the file now holds,
  // or empty when only the journal was appended to.
  core::Status persist(const ChangeJob& job, std::string& persisted_text);
  // Rewrites the policy file from the running policy and starts an empty journal.
  core::Status compact();

  config::DaemonConfig cfg_;
  runtime::Publisher* publisher_;
  DataplaneAccess* dataplane_;
  std::string policy_text_;  // the policy file's content (the journal's records apply on top)
  std::optional<ChangeJournal> journal_;  // open: set-groups changes are journaled
  size_t compact_bytes_ = kCompactBytes;
  mutable std::string policy_sha256_;  // of policy_text_; empty until asked
  std::chrono::system_clock::time_point loaded_at_;
  double last_load_seconds_ = 0.0;  // total time of the last accepted change (0: none since start)
  uint64_t connections_expired_ = 0;  // by reclaim()
  uint64_t last_generation_ = 1;  // the highest generation ever published (never reused)
  // A retired snapshot is destroyed after the reply has gone out (next request or
  // housekeeping).
  std::unique_ptr<runtime::Snapshot> retired_;
  std::map<std::string, Totals> vm_totals_;     // folded from retired generations, by VM name
  std::map<std::string, uint64_t> rule_totals_; // by "group/rule"
  bool prune_pending_ = false;                  // totals hold a reverted generation's VMs or rules
  VmIds vm_ids_;                                // stable VM ids, bounded and recycled
  using Labels = std::shared_ptr<const std::vector<std::string>>;
  // generation -> its rules' "group/rule" in rule_id order; pruned by flows()
  mutable std::map<uint64_t, Labels> labels_;
  core::CowVector<compiler::RuleRef> labelled_rules_;  // the rules the newest labels were made from
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();  // busy share
  SourceHooks source_;
  ChangeQueue changes_;  // last: its destructor waits for a build that reads the members above
};

[[nodiscard]] std::string sha256_hex(const std::string& data);

}  // namespace sgfw::control
