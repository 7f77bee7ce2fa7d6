#include "control/control_plane.hpp"

#include <openssl/evp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>

#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>
#include <iostream>

#include "config/policy_loader.hpp"
#include "control/counter_totals.hpp"
#include "config/vm_port_check.hpp"
#include "config/file_writer.hpp"
#include "control/request_depth.hpp"
#include "core/escape.hpp"
#include "policy/limits.hpp"
#include "policy/policy_writer.hpp"
#include "explain/batch.hpp"
#include "explain/tuple_text.hpp"
#include "explain/verdict_format.hpp"

namespace sgfw::control {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

runtime::PortLayout layout_of(const config::DaemonConfig& cfg) {
  runtime::PortLayout l;
  l.names = cfg.port_names();
  l.uplink = static_cast<uint16_t>(cfg.uplink_index());
  return l;
}

// Invalid UTF-8 (a parse error quotes the client's bytes) is replaced, not thrown:
// an exception here would escape handle().
std::string dump_line(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Times for people and scripts alike: `*_ms` to the microsecond, `*_s` to the
// millisecond (docs/control.md), never float noise.
void round_times(Json& j) {
  if (j.is_array()) {
    for (auto& e : j) round_times(e);
    return;
  }
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    bool time = (k.size() > 3 && k.ends_with("_ms")) || (k.size() > 2 && k.ends_with("_s"));
    if (time && it.value().is_number_float()) it.value() = std::round(it.value().get<double>() * 1000.0) / 1000.0;
    else round_times(it.value());
  }
}

std::string reply_ok(Json result) {
  round_times(result);
  return dump_line(Json{{"ok", true}, {"result", std::move(result)}});
}
std::string reply_error(const std::string& e) { return dump_line(Json{{"ok", false}, {"error", e}}); }

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

ControlPlane::ControlPlane(config::DaemonConfig cfg, runtime::Publisher* publisher, DataplaneView view,
                           std::string policy_text)
    : cfg_(std::move(cfg)),
      publisher_(publisher),
      view_(view),
      policy_text_(std::move(policy_text)),
      policy_sha256_(sha256_hex(policy_text_)),
      loaded_at_(std::chrono::system_clock::now()),
      last_generation_(publisher->current()->generation()),
      vm_ids_(2 * cfg_.limits.local_vms) {}

namespace {
std::vector<std::string> local_vm_names(const runtime::Snapshot& snap) {
  std::vector<std::string> names;
  for (const auto& vm : snap.tables().compiled().vms) names.push_back(vm.name);
  return names;
}
}  // namespace

core::Status ControlPlane::assign_vm_ids(runtime::Snapshot& snap, std::vector<std::string>* added) {
  auto ids = vm_ids_.assign(local_vm_names(snap), added);
  if (!ids) return core::make_error(ids.error().message);
  snap.set_vm_ids(std::move(*ids));
  remember_labels(snap);
  return {};
}

void ControlPlane::remember_labels(const runtime::Snapshot& snap) {
  const auto& rules = snap.tables().compiled().rules;
  std::vector<std::string> labels;
  labels.reserve(rules.size());
  for (const auto& r : rules) labels.push_back(r.label());
  Labels shared;
  if (!labels_.empty() && *labels_.rbegin()->second == labels) shared = labels_.rbegin()->second;  // unchanged rules
  if (!shared) shared = std::make_shared<const std::vector<std::string>>(std::move(labels));
  labels_[snap.generation()] = std::move(shared);
  while (labels_.size() > kLabelGenerations) labels_.erase(labels_.begin());
}

size_t ControlPlane::reclaim() {
  retired_.reset();
  return view_.flows ? view_.flows->reclaim(rte_rdtsc()) : 0;
}

core::Expected<Json> ControlPlane::flush(const std::string& vm, const Peer& peer) {
  if (!view_.flows) return Json{{"removed", 0}};
  size_t removed = 0;
  if (vm.empty()) {
    removed = view_.flows->flush(nullptr);
  } else {
    if (!vm_ids_.id_of(vm)) return core::make_error("unknown VM '" + vm + "'");
    std::vector<bool> ids = vm_ids_.bitmap({vm});
    removed = view_.flows->flush(&ids);  // connections with the VM at either end
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
  for (const auto& r : compiled.rules)
    if (auto it = rule_totals_.find(r.label()); it != rule_totals_.end()) rules.emplace(it->first, it->second);
  rule_totals_.swap(rules);
}

void ControlPlane::fold(const runtime::Snapshot& old) {
  const auto& compiled = old.tables().compiled();
  for (size_t v = 0; v < compiled.vms.size(); ++v) vm_totals_[compiled.vms[v].name].add(vm_totals(old, v));
  for (size_t r = 0; r < compiled.rules.size(); ++r) rule_totals_[compiled.rules[r].label()] += rule_hits(old, r);
}

core::Expected<Json> ControlPlane::apply(policy::Policy policy, std::string persisted_text, const char* what,
                                         const Peer& peer) {
  auto t0 = Clock::now();
  if (auto st = config::check_vm_ports(policy, cfg_.port_names()); !st) return core::make_error(st.error().message);
  if (auto st = policy::check_limits(policy, cfg_.limits); !st) return core::make_error(st.error().message);
  const runtime::Snapshot* prev = publisher_->current();
  acl::BuildOptions opts;
  opts.max_size = cfg_.acl_max_size;
  const uint64_t generation = last_generation_ + 1;
  auto snap = runtime::Snapshot::build(std::move(policy), layout_of(cfg_), generation,
                                       static_cast<unsigned>(view_.workers->size()), opts, prev);
  if (!snap) return core::make_error(snap.error().message);
  std::vector<std::string> added;
  if (auto st = assign_vm_ids(**snap, &added); !st) return core::make_error(st.error().message);
  double build_ms = ms_since(t0);
  double compile_ms = (*snap)->compile_ms(), tables_ms = (*snap)->tables_ms(), other_ms = (*snap)->other_ms();
  size_t built = (*snap)->tables().contexts_built();
  size_t total = (*snap)->tables().context_count();
  std::vector<std::string> now_local = local_vm_names(**snap);
  // Enforce first, then persist; the reply waits for both. If the policy cannot be
  // written, the previous snapshot is published again and the change is rejected, so
  // what runs is always what a restart would load. Either way the generation is used
  // up: connections admitted under it are re-checked (generations are never reused).
  auto t1 = Clock::now();
  std::unique_ptr<runtime::Snapshot> old = publisher_->publish(std::move(*snap));
  last_generation_ = generation;
  double publish_ms = ms_since(t1);
  double enforced_ms = ms_since(request_start_);
  auto tp = Clock::now();
  if (persisted_text.empty()) persisted_text = policy::write_policy_yaml(publisher_->current()->policy(), "written by sgfwd (vm set-groups)");
  if (auto st = config::write_file_atomically(cfg_.policy, persisted_text); !st) {
    std::unique_ptr<runtime::Snapshot> rejected = publisher_->publish(std::move(old));
    fold(*rejected);
    // VMs only the rejected generation had: no worker holds their ids any more.
    std::vector<bool> ids = vm_ids_.bitmap(added);
    if (view_.flows && !added.empty()) view_.flows->flush(&ids);
    vm_ids_.release(added);
    return core::make_error("policy not persisted, change reverted: " + st.error().message);
  }
  double persist_ms = ms_since(tp);
  fold(*old);
  retired_ = std::move(old);
  // VMs the new generation no longer has: their connections go, their ids are free.
  std::vector<std::string> gone = vm_ids_.others(now_local);
  if (!gone.empty()) {
    std::vector<bool> ids = vm_ids_.bitmap(gone);
    if (view_.flows) view_.flows->flush(&ids);
    vm_ids_.release(gone);
  }
  prune_totals(*publisher_->current());
  policy_text_ = std::move(persisted_text);
  policy_sha256_.clear();  // computed when asked (status): hashing 10 MiB takes ~20 ms
  loaded_at_ = std::chrono::system_clock::now();
  Json r{{"generation", generation},
         {"contexts", total},
         {"contexts_rebuilt", built},
         {"build_ms", build_ms},
         {"compile_ms", compile_ms},
         {"tables_ms", tables_ms},
         {"snapshot_other_ms", other_ms},
         {"persist_ms", persist_ms},
         {"enforced_ms", enforced_ms},
         {"publish_ms", publish_ms},
         {"total_ms", ms_since(request_start_)}};
  std::cout << "sgfwd: " << what << " by uid " << peer.uid << ": generation " << generation << ", "
            << built << "/" << total << " contexts rebuilt, " << r["total_ms"].get<double>() << " ms"
            << std::endl;
  return r;
}

core::Expected<Json> ControlPlane::reload(const std::string* text, const std::string& display_name,
                                          const Peer& peer) {
  std::string content;
  std::string name = cfg_.policy;
  if (text) {
    content = *text;
    name = display_name.empty() ? "policy" : display_name;  // for messages only: never opened
  } else {
    auto p = config::load_policy_file(cfg_.policy);
    if (!p) {
      std::cout << "sgfwd: reload by uid " << peer.uid << " rejected: " << core::escape_for_log(p.error().message, 4096) << std::endl;
      return core::make_error(p.error().message);
    }
    std::ifstream in(cfg_.policy, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    content = ss.str();
  }
  auto p = config::load_policy_text(content, name);
  if (!p) {
    std::cout << "sgfwd: reload by uid " << peer.uid << " rejected: " << core::escape_for_log(p.error().message, 4096) << std::endl;
    return core::make_error(p.error().message);
  }
  // The text is at hand here: name the VM's `port` token and the ports (apply checks
  // again, without a location, for every change).
  if (auto st = config::check_vm_ports_located(*p, content, name, cfg_); !st) {
    std::cout << "sgfwd: reload by uid " << peer.uid << " rejected: " << st.error().message << std::endl;
    return core::make_error(st.error().message);
  }
  auto r = apply(std::move(*p), content, "reload", peer);
  if (!r) std::cout << "sgfwd: reload by uid " << peer.uid << " rejected: " << core::escape_for_log(r.error().message, 4096) << std::endl;
  return r;
}

core::Expected<Json> ControlPlane::set_groups(const std::string& vm, std::vector<std::string> groups,
                                              const Peer& peer) {
  auto r = [&]() -> core::Expected<Json> {
    policy::Policy p = publisher_->current()->policy();
    policy::Vm* v = p.find_vm(vm);
    if (!v) return core::make_error("unknown VM '" + vm + "'");
    for (auto& g : groups) {  // names never have spaces: trim what a shell list left
      size_t b = g.find_first_not_of(" \t"), e = g.find_last_not_of(" \t");
      g = b == std::string::npos ? std::string() : g.substr(b, e - b + 1);
      if (g.empty())
        return core::make_error("empty security group name in the list: give names, or an empty list for none "
                                "(sgfwctl: '-')");
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      if (!p.find_group(groups[i])) return core::make_error("unknown security group '" + groups[i] + "'");
      for (size_t j = 0; j < i; ++j)
        if (groups[j] == groups[i]) return core::make_error("security group '" + groups[i] + "' listed twice");
    }
    v->groups = groups;
    return apply(std::move(p), std::string(), "vm set-groups", peer);
  }();
  if (!r) std::cout << "sgfwd: vm set-groups by uid " << peer.uid << " rejected: " << core::escape_for_log(r.error().message, 4096) << std::endl;
  return r;
}

std::string ControlPlane::handle(const std::string& line, const Peer& peer) {
  retired_.reset();  // the previous request's reply is out
  request_start_ = Clock::now();
  try {
    // Bounded before parsing; the tree is then only read in place, never copied
    // (a recursive copy of a deep tree overflowed the stack).
    if (json_depth(line) > kMaxRequestDepth)
      return reply_error("request nested deeper than " + std::to_string(kMaxRequestDepth) + " levels");
    const Json req = Json::parse(line);
    if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string())
      return reply_error("request must be an object with a string \"cmd\"");
    const std::string cmd = req["cmd"].get<std::string>();
    static const Json kNoArgs = Json::object();
    const auto args_it = req.find("args");
    const Json& args = args_it == req.end() ? kNoArgs : *args_it;
    if (!args.is_object()) return reply_error("\"args\" must be an object");
    if (cmd == "status") return reply_ok(status());
    if (cmd == "stats") {
      auto r = stats(args.value("vm", std::string()));
      return r ? reply_ok(*r) : reply_error(r.error().message);
    }
    if (cmd == "explain") {
      if (!args.contains("packets") || !args["packets"].is_array()) return reply_error("explain needs \"packets\": [lines]");
      for (const auto& p : args["packets"])
        if (!p.is_string()) return reply_error("explain packets must be strings");
      return reply_ok(explain(args));
    }
    if (cmd == "reload") {
      std::string text;
      const std::string* tp = nullptr;
      std::string display;
      if (args.contains("name") && args["name"].is_string()) display = args["name"];
      if (args.contains("policy")) {
        if (!args["policy"].is_string()) return reply_error("\"policy\" must be the policy file's content");
        text = args["policy"];
        tp = &text;
      }
      auto r = reload(tp, display, peer);
      return r ? reply_ok(*r) : reply_error(core::escape_for_log(r.error().message, 4096));
    }
    if (cmd == "set-groups") {
      if (!args.contains("vm") || !args["vm"].is_string() || !args.contains("groups") || !args["groups"].is_array())
        return reply_error("set-groups needs \"vm\" and \"groups\"");
      // Bounded here: set_groups compares the list pairwise (256 names: 32,640 pairs).
      if (args["groups"].size() > policy::kMaxGroupsPerVm)
        return reply_error("a VM lists at most " + std::to_string(policy::kMaxGroupsPerVm) + " security groups");
      std::vector<std::string> groups;
      for (const auto& g : args["groups"]) {
        if (!g.is_string()) return reply_error("groups must be strings");
        groups.push_back(g.get<std::string>());
      }
      auto r = set_groups(args["vm"], groups, peer);
      return r ? reply_ok(*r) : reply_error(core::escape_for_log(r.error().message, 4096));
    }
    if (cmd == "flows") {
      long limit = -1;
      if (args.contains("limit")) {
        if (!args["limit"].is_number_integer() || args["limit"].get<long>() < 0)
          return reply_error("\"limit\" must be a non-negative integer");
        limit = args["limit"].get<long>();
      }
      std::string vm = args.value("vm", std::string());
      if (!vm.empty() && !publisher_->current()->policy().find_vm(vm))
        return reply_error("unknown VM '" + core::escape_for_log(vm) +
                           "' (not in the running policy; sgfwctl flows lists every connection)");
      return reply_ok(flows(vm, limit));
    }
    if (cmd == "flows-flush") {
      auto r = flush(args.value("vm", std::string()), peer);
      return r ? reply_ok(*r) : reply_error(core::escape_for_log(r.error().message, 4096));
    }
    return reply_error("unknown command '" + core::escape_for_log(cmd, 64) + "'");
  } catch (const nlohmann::json::exception& e) {
    return reply_error("malformed request: " + core::escape_for_log(e.what()));
  } catch (const std::exception& e) {
    return reply_error(std::string("internal error: ") + e.what());
  } catch (...) {
    return reply_error("internal error");
  }
}

}  // namespace sgfw::control
