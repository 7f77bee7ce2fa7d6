#include "control/control_plane.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <iostream>

#include "config/file_writer.hpp"
#include "core/escape.hpp"
#include "policy/limits.hpp"
#include "policy/policy_writer.hpp"

namespace sgfw::control {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::vector<std::string> local_vm_names(const runtime::Snapshot& snap) {
  std::vector<std::string> names;
  for (const auto& vm : snap.tables().compiled().vms) names.push_back(vm.name);
  return names;
}

void log_rejected(const char* what, const Peer& peer, const std::string& message) {
  std::cout << "sgfwd: " << what << " by uid " << peer.uid << " rejected: " << core::escape_for_log(message, 4096)
            << std::endl;
}

// `labels` are the "group/rule" labels of `rules`, in order (compared without building them).
bool same_labels(const std::vector<std::string>& labels, const std::vector<compiler::RuleRef>& rules) {
  if (labels.size() != rules.size()) return false;
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string& l = labels[i];
    const auto& g = rules[i].group;
    const auto& r = rules[i].rule;
    if (l.size() != g.size() + 1 + r.size() || l.compare(0, g.size(), g) != 0 || l[g.size()] != '/' ||
        l.compare(g.size() + 1, r.size(), r) != 0)
      return false;
  }
  return true;
}

}  // namespace

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += kHex[md[i] >> 4];
    s += kHex[md[i] & 15];
  }
  return s;
}

ControlPlane::ControlPlane(config::DaemonConfig cfg, runtime::Publisher* publisher, DataplaneAccess* dataplane,
                           std::string policy_text)
    : cfg_(std::move(cfg)),
      publisher_(publisher),
      dataplane_(dataplane),
      policy_text_(std::move(policy_text)),
      policy_sha256_(sha256_hex(policy_text_)),
      loaded_at_(std::chrono::system_clock::now()),
      last_generation_(publisher->current()->generation()),
      vm_ids_(2 * cfg_.limits.local_vms),
      changes_([this](const ChangeRequest& r) { return change_base(r); }) {}

ChangeBase ControlPlane::change_base(const ChangeRequest& /*request*/) {
  return ChangeBase{&cfg_, publisher_->current(), last_generation_ + 1,
                    static_cast<unsigned>(dataplane_->workers().size())};
}

core::Status ControlPlane::assign_vm_ids(runtime::Snapshot& snap, std::vector<std::string>* added) {
  auto ids = vm_ids_.assign(local_vm_names(snap), added);
  if (!ids) return core::make_error(ids.error().message);
  snap.set_vm_ids(std::move(*ids));
  remember_labels(snap);
  return {};
}

void ControlPlane::remember_labels(const runtime::Snapshot& snap) {
  const auto& rules = snap.tables().compiled().rules;
  // Unchanged rules (set-groups): the same shared list, or the same labels.
  if (!labels_.empty() && (rules.shares_with(labelled_rules_) || same_labels(*labels_.rbegin()->second, rules))) {
    labelled_rules_ = rules;
    labels_[snap.generation()] = labels_.rbegin()->second;
    while (labels_.size() > kLabelGenerations) labels_.erase(labels_.begin());
    return;
  }
  std::vector<std::string> labels;
  labels.reserve(rules.size());
  for (const auto& r : rules) labels.push_back(r.label());
  Labels shared;
  if (!labels_.empty() && *labels_.rbegin()->second == labels) shared = labels_.rbegin()->second;  // unchanged rules
  if (!shared) shared = std::make_shared<const std::vector<std::string>>(std::move(labels));
  labels_[snap.generation()] = std::move(shared);
  labelled_rules_ = rules;
  while (labels_.size() > kLabelGenerations) labels_.erase(labels_.begin());
}

size_t ControlPlane::reclaim(uint32_t slices) {
  retired_.reset();
  size_t expired = dataplane_->reclaim_flows(slices);
  connections_expired_ += expired;
  return expired;
}

core::Expected<Json> ControlPlane::flush(const std::string& vm, const Peer& peer) {
  size_t removed = 0;
  if (vm.empty()) {
    removed = dataplane_->flush_flows(nullptr);
  } else {
    if (!vm_ids_.id_of(vm)) return core::make_error("unknown VM '" + core::escape_for_log(vm) + "'");
    std::vector<bool> ids = vm_ids_.bitmap({vm});
    removed = dataplane_->flush_flows(&ids);  // connections with the VM at either end
  }
  std::cout << "sgfwd: flows flush" << (vm.empty() ? "" : " --vm " + core::escape_for_log(vm)) << " by uid " << peer.uid << ": "
            << removed << " removed" << std::endl;
  return Json{{"removed", removed}};
}

// Folded totals of VMs and rules the running policy no longer has are dropped (stats
// reports the running policy's VMs and rules only), so VM and rule churn over the
// daemon's lifetime keeps these maps bounded by the policy's size.
void ControlPlane::prune_totals(const runtime::Snapshot& running) {
  const auto& compiled = running.tables().compiled();
  std::map<std::string, Totals> vms;
  for (const auto& vm : compiled.vms)
    if (auto it = vm_totals_.find(vm.name); it != vm_totals_.end()) vms.emplace(vm.name, it->second);
  vm_totals_.swap(vms);
  std::map<std::string, uint64_t> rules;
  const policy::Policy& p = running.policy();
  for (auto& [label, hits] : rule_totals_) {  // rules with hits only: cheaper than every rule's label
    auto slash = label.find('/');
    const policy::Group* g = slash == std::string::npos ? nullptr : p.find_group(std::string_view(label).substr(0, slash));
    if (g == nullptr) continue;
    std::string_view rule = std::string_view(label).substr(slash + 1);
    if (std::any_of(g->rules.begin(), g->rules.end(), [&](const policy::Rule& r) { return r.name == rule; }))
      rules.emplace(label, hits);
  }
  rule_totals_.swap(rules);
}

void ControlPlane::fold(const runtime::Snapshot& old) {
  const auto& compiled = old.tables().compiled();
  for (size_t v = 0; v < compiled.vms.size(); ++v) vm_totals_[compiled.vms[v].name].add(vm_totals(old, v));
  for (size_t r = 0; r < compiled.rules.size(); ++r)
    if (uint64_t hits = rule_hits(old, r)) rule_totals_[compiled.rules[r].label()] += hits;  // absent: 0
}

core::Expected<Json> ControlPlane::commit(const ChangeJob& job, core::Expected<PreparedChange> prepared) {
  const char* what = job.request.what();
  if (!prepared) {
    log_rejected(what, job.peer, prepared.error().message);
    return core::make_error(prepared.error().message);
  }
  auto t0 = Clock::now();
  runtime::Snapshot& snap = *prepared->snapshot;
  const uint64_t generation = snap.generation();
  std::vector<std::string> added;
  if (auto st = assign_vm_ids(snap, &added); !st) {
    log_rejected(what, job.peer, st.error().message);
    return core::make_error(st.error().message);
  }
  size_t built = snap.tables().contexts_built(), total = snap.tables().context_count();
  Json r{{"generation", generation},
         {"contexts", total},
         {"contexts_rebuilt", built},
         {"queued_ms", std::chrono::duration<double, std::milli>(prepared->started - job.received).count()},
         {"build_ms", prepared->prepare_ms},
         {"handoff_ms", std::chrono::duration<double, std::milli>(t0 - prepared->finished).count()},
         {"compile_ms", snap.compile_ms()},
         {"tables_ms", snap.tables_ms()},
         {"snapshot_other_ms", snap.other_ms()}};
  std::vector<std::string> now_local = local_vm_names(snap);
  // Enforce first, then persist; the reply waits for both. If the policy cannot be
  // written, the previous snapshot is published again and the change is rejected, so
  // what runs is always what a restart would load. Either way the generation is used
  // up: connections admitted under it are re-checked (generations are never reused).
  std::unique_ptr<runtime::Snapshot> old = publisher_->publish(std::move(prepared->snapshot));
  last_generation_ = generation;
  r["publish_ms"] = ms_since(t0);
  r["enforced_ms"] = ms_since(job.received);
  auto tp = Clock::now();
  std::string persisted = std::move(prepared->persisted_text);
  if (auto st = persist(job, persisted); !st) {
    std::unique_ptr<runtime::Snapshot> rejected = publisher_->publish(std::move(old));
    fold(*rejected);
    prune_pending_ = true;  // the rejected generation's VMs and rules are folded in
    // VMs only the rejected generation had: no worker holds their ids any more.
    std::vector<bool> ids = vm_ids_.bitmap(added);
    if (!added.empty()) dataplane_->flush_flows(&ids);
    vm_ids_.release(added);
    std::string e = "policy not persisted, change reverted: " + st.error().message;
    log_rejected(what, job.peer, e);
    return core::make_error(e);
  }
  r["persist_ms"] = ms_since(tp);
  fold(*old);
  // The same rule list (a membership change): every folded rule label is still a rule.
  const bool same_rules = old->tables().compiled().rules.shares_with(publisher_->current()->tables().compiled().rules);
  retired_ = std::move(old);
  // VMs the new generation no longer has: their connections go, their ids are free.
  std::vector<std::string> gone = vm_ids_.others(now_local);
  if (!gone.empty()) {
    std::vector<bool> ids = vm_ids_.bitmap(gone);
    dataplane_->flush_flows(&ids);
    vm_ids_.release(gone);
  }
  if (!gone.empty() || !same_rules || prune_pending_) prune_totals(*publisher_->current());  // else nothing to prune
  prune_pending_ = false;
  if (!persisted.empty()) {  // the file was rewritten
    policy_text_ = std::move(persisted);
    policy_sha256_.clear();  // computed when asked (status): hashing 10 MiB takes ~20 ms
  }
  loaded_at_ = std::chrono::system_clock::now();
  r["total_ms"] = ms_since(job.received);
  last_load_seconds_ = r["total_ms"].get<double>() / 1000.0;
  std::cout << "sgfwd: " << what << " by uid " << job.peer.uid << ": generation " << generation << ", " << built << "/"
            << total << " contexts rebuilt, " << r["total_ms"].get<double>() << " ms" << std::endl;
  if (journal_ && journal_->bytes() > compact_bytes_) {
    auto tc = Clock::now();
    if (auto st = compact(); !st)
      std::cout << "sgfwd: warning: journal compaction failed (the journal still holds every change): "
                << st.error().message << std::endl;
    else
      std::cout << "sgfwd: journal compacted into " << cfg_.policy << " in " << ms_since(tc) << " ms" << std::endl;
  }
  return r;
}

core::Status ControlPlane::open_journal() {
  if (policy_sha256_.empty()) policy_sha256_ = sha256_hex(policy_text_);
  auto j = ChangeJournal::open(ChangeJournal::path_for(cfg_.policy), policy_sha256_);
  if (!j) return core::make_error(j.error().message);
  journal_ = std::move(*j);
  return {};
}

core::Status ControlPlane::persist(const ChangeJob& job, std::string& text) {
  if (job.request.kind == ChangeRequest::Kind::kEtcd) {  // the follower writes the persisted copy
    text.clear();
    return {};
  }
  const policy::Policy& running = publisher_->current()->policy();
  if (job.request.kind == ChangeRequest::Kind::kSetGroups && journal_ && !journal_->broken()) {
    if (const policy::Vm* vm = running.find_vm(job.request.vm)) {
      if (auto st = journal_->append({vm->name, vm->groups}); !st) return st;
      text.clear();  // the file is unchanged: the record applies on top of it
      return {};
    }
  }
  if (text.empty()) text = policy::write_policy_yaml(running, "written by sgfwd (vm set-groups)");
  if (auto st = config::write_file_atomically(cfg_.policy, text); !st) return st;
  if (journal_) {
    if (auto st = journal_->reset(sha256_hex(text)); !st) {
      // The file holds the change; the old journal names other content and is ignored
      // at start-up. Later set-groups rewrite the whole file.
      std::cout << "sgfwd: warning: " << st.error().message
                << ": the journal is off, every set-groups rewrites the policy file" << std::endl;
      journal_.reset();
    }
  }
  return {};
}

core::Status ControlPlane::compact() {
  std::string text = policy::write_policy_yaml(publisher_->current()->policy(), "written by sgfwd (journal compacted)");
  if (auto st = config::write_file_atomically(cfg_.policy, text); !st) return st;
  policy_text_ = std::move(text);
  policy_sha256_ = sha256_hex(policy_text_);
  if (auto st = journal_->reset(policy_sha256_); !st) {
    journal_.reset();  // the old journal names other content now: ignored at start-up
    return st;
  }
  return {};
}

void ControlPlane::submit_change(ChangeJob job) { changes_.submit(std::move(job)); }

core::Expected<Json> ControlPlane::change_now(ChangeRequest request, const Peer& peer) {
  ChangeJob job{std::move(request), peer};
  auto prepared = prepare_change(job.request, change_base(job.request));
  return commit(job, std::move(prepared));
}

core::Expected<Json> ControlPlane::reload(const std::string* text, const std::string& display_name,
                                          const Peer& peer) {
  ChangeRequest r;
  if (text) r.text = *text;
  r.name = display_name;
  return change_now(std::move(r), peer);
}

core::Expected<Json> ControlPlane::set_groups(const std::string& vm, std::vector<std::string> groups,
                                              const Peer& peer) {
  ChangeRequest r;
  r.kind = ChangeRequest::Kind::kSetGroups;
  r.vm = vm;
  r.groups = std::move(groups);
  return change_now(std::move(r), peer);
}

void ControlPlane::collect(const std::function<void(uint64_t, const std::string&)>& deliver) {
  if (auto done = changes_.finished()) {
    auto r = commit(done->job, std::move(done->result));
    if (done->job.done) {
      done->job.done(r);
    } else {
      deliver(done->job.peer.connection,
            r ? protocol::encode_ok(std::move(*r)) : protocol::encode_error(core::escape_for_log(r.error().message, 4096)));
    }
  }
  changes_.start_next();
}

}  // namespace sgfw::control
