// The daemon's control plane: every operator command of docs/interfaces.md against the
// running appliance. It owns the policy state (text, model, generation, persistence),
// builds snapshots off to the side and publishes them through the RCU Publisher, and
// keeps counter totals across generations. Control thread only (not thread-safe):
// the socket server calls it one request at a time, so requests are serialized and
// the last accepted one wins.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "control/counter_totals.hpp"
#include "control/socket_server.hpp"
#include "control/vm_ids.hpp"
#include "core/drop_reason.hpp"
#include "core/expected.hpp"
#include "ports/ports.hpp"
#include "dataplane/worker.hpp"
#include "flow/flow_table.hpp"
#include "runtime/publisher.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::control {

using Json = nlohmann::ordered_json;

struct DataplaneView {
  const std::vector<ports::PortRuntime>* ports = nullptr;
  const std::vector<std::vector<runtime::PortCounters>>* port_counters = nullptr;  // [worker][port]
  const std::vector<dataplane::WorkerStats>* workers = nullptr;
  flow::FlowTable* flows = nullptr;
};

class ControlPlane {
 public:
  // `policy_text` is the content the first snapshot was built from.
  ControlPlane(config::DaemonConfig cfg, runtime::Publisher* publisher, DataplaneView view,
               std::string policy_text);

  // One request line -> one reply line ({"ok": true, "result": ...} or {"ok": false,
  // "error": "..."}). Never throws.
  [[nodiscard]] std::string handle(const std::string& line, const Peer& peer);

  // Commands (also used directly by tests and the daemon). Errors leave the running
  // generation untouched.
  // text: a policy's content sent by a client (display_name names it in messages);
  // nullptr: re-read the configured policy file.
  [[nodiscard]] core::Expected<Json> reload(const std::string* text, const std::string& display_name,
                                            const Peer& peer);
  // Group names are trimmed of spaces; an empty name is an error (an empty list: none).
  [[nodiscard]] core::Expected<Json> set_groups(const std::string& vm, std::vector<std::string> groups,
                                                const Peer& peer);
  [[nodiscard]] Json status() const;
  // Error: `vm` names no VM of the running policy.
  [[nodiscard]] core::Expected<Json> stats(const std::string& vm) const;
  [[nodiscard]] Json explain(const Json& args) const;
  [[nodiscard]] Json flows(const std::string& vm, long limit) const;
  [[nodiscard]] core::Expected<Json> flush(const std::string& vm, const Peer& peer);
  // Periodic housekeeping (control thread): expire connections, recycle positions.
  size_t reclaim();

  // Stable ids for the VMs of a snapshot (by name; a VM keeps its id across
  // generations), and keeps the snapshot's rule labels for `flows`. Call before
  // publishing a snapshot. `added` receives the VMs that got a new id. Error: not
  // enough free ids (nothing assigned).
  [[nodiscard]] core::Status assign_vm_ids(runtime::Snapshot& snap, std::vector<std::string>* added = nullptr);

  // Rule labels of the generations live connections may still reference (flows shows
  // the deciding rule by the generation that decided): at most this many generations,
  // the oldest dropped first; consecutive generations with the same rules share one list.
  static constexpr size_t kLabelGenerations = 64;

 private:
  // persisted_text: the file content to persist; empty: written from the policy.
  core::Expected<Json> apply(policy::Policy policy, std::string persisted_text, const char* what,
                             const Peer& peer);
  void fold(const runtime::Snapshot& old);
  void prune_totals(const runtime::Snapshot& running);
  void remember_labels(const runtime::Snapshot& snap);

  config::DaemonConfig cfg_;
  runtime::Publisher* publisher_;
  DataplaneView view_;
  std::string policy_text_;
  mutable std::string policy_sha256_;  // of policy_text_; empty until asked
  std::chrono::system_clock::time_point loaded_at_;
  uint64_t last_generation_ = 1;  // the highest generation ever published (never reused)
  std::chrono::steady_clock::time_point request_start_ = std::chrono::steady_clock::now();
  // A retired snapshot is destroyed after the reply has gone out (next housekeeping).
  std::unique_ptr<runtime::Snapshot> retired_;
  std::map<std::string, Totals> vm_totals_;     // folded from retired generations, by VM name
  std::map<std::string, uint64_t> rule_totals_; // by "group/rule"
  VmIds vm_ids_;                                // stable VM ids, bounded and recycled
  using Labels = std::shared_ptr<const std::vector<std::string>>;
  // generation -> its rules' "group/rule" in rule_id order; pruned by flows()
  mutable std::map<uint64_t, Labels> labels_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();  // busy share
};

[[nodiscard]] std::string sha256_hex(const std::string& data);

}  // namespace sgfw::control
