#include "control/control_plane.hpp"

#include <openssl/evp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <iostream>

#include "config/policy_loader.hpp"
#include "config/file_writer.hpp"
#include "control/request_depth.hpp"
#include "core/escape.hpp"
#include "policy/limits.hpp"
#include "policy/policy_writer.hpp"
#include "explain/tuple_text.hpp"
#include "explain/verdict_format.hpp"

namespace sgfw::control {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
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
// Another worker may have stamped a connection after `now` was read.
double idle_seconds(uint64_t now, uint64_t last, uint64_t hz) {
  return last >= now ? 0.0 : static_cast<double>(now - last) / static_cast<double>(hz);
}

std::string reply_ok(Json result) { return dump_line(Json{{"ok", true}, {"result", std::move(result)}}); }
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
      generation_(publisher->current()->generation()) {}

void ControlPlane::assign_vm_ids(runtime::Snapshot& snap) {
  const auto& vms = snap.tables().compiled().vms;
  std::vector<uint32_t> ids;
  for (const auto& vm : vms) {
    auto [it, fresh] = vm_ids_.emplace(vm.name, static_cast<uint32_t>(vm_names_.size()));
    if (fresh) vm_names_.push_back(vm.name);
    ids.push_back(it->second);
  }
  snap.set_vm_ids(std::move(ids));
}

size_t ControlPlane::reclaim() {
  retired_.reset();
  return view_.flows ? view_.flows->reclaim(rte_rdtsc()) : 0;
}

Json ControlPlane::flows(const std::string& vm, long limit) const {
  Json list = Json::array();
  size_t total = 0;
  if (!view_.flows) return Json{{"flows", list}, {"total", 0}};
  const runtime::Snapshot* s = publisher_->current();
  const auto& rules = s->tables().compiled().rules;
  uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
  auto addr = [](uint32_t be) { return core::to_string(core::Ipv4{rte_be_to_cpu_32(be)}); };
  auto rule = [&](const std::atomic<uint32_t>& r, uint64_t gen) -> Json {
    uint32_t v = r.load(std::memory_order_relaxed);
    if (v == 0) return nullptr;
    if (gen == s->generation() && v - 1 < rules.size()) return rules[v - 1].label();
    return "generation " + std::to_string(gen) + " rule #" + std::to_string(v - 1);
  };
  view_.flows->for_each([&](int32_t, const flow::FlowEntry& e) {
    const std::string& owner = e.vm_id < vm_names_.size() ? vm_names_[e.vm_id] : std::string("?");
    if (!vm.empty() && owner != vm) return;
    ++total;
    if (limit >= 0 && static_cast<long>(list.size()) >= limit) return;
    bool lo_orig = e.key.addr_lo == e.orig_src_be && e.key.port_lo == e.orig_sport_be;
    uint32_t dst = lo_orig ? e.key.addr_hi : e.key.addr_lo;
    uint16_t dport = lo_orig ? e.key.port_hi : e.key.port_lo;
    uint64_t gen = e.generation.load(std::memory_order_relaxed);
    list.push_back(Json{{"proto", e.key.proto},
                        {"src", addr(e.orig_src_be)},
                        {"sport", rte_be_to_cpu_16(e.orig_sport_be)},
                        {"dst", addr(dst)},
                        {"dport", rte_be_to_cpu_16(dport)},
                        {"state", flow::to_string(e.state.load(std::memory_order_relaxed))},
                        {"vm", owner},
                        {"age_s", static_cast<double>(now - e.created) / static_cast<double>(hz)},
                        {"idle_s", idle_seconds(now, e.last_seen.load(std::memory_order_relaxed), hz)},
                        {"generation", gen},
                        {"egress_rule", rule(e.egress_rule, gen)},
                        {"ingress_rule", rule(e.ingress_rule, gen)}});
  });
  return Json{{"flows", list}, {"total", total}};
}

core::Expected<Json> ControlPlane::flush(const std::string& vm, const Peer& peer) {
  if (!view_.flows) return Json{{"removed", 0}};
  size_t removed = 0;
  if (vm.empty()) {
    removed = view_.flows->flush(nullptr);
  } else {
    auto it = vm_ids_.find(vm);
    if (it == vm_ids_.end()) return core::make_error("unknown VM '" + vm + "'");
    removed = view_.flows->flush(&it->second);
  }
  std::cout << "sgfwd: flows flush" << (vm.empty() ? "" : " --vm " + core::escape_for_log(vm)) << " by uid " << peer.uid << ": "
            << removed << " removed" << std::endl;
  return Json{{"removed", removed}};
}

void ControlPlane::fold(const runtime::Snapshot& old) {
  const auto& compiled = old.tables().compiled();
  for (const auto& block : old.all_counters()) {
    for (size_t v = 0; v < compiled.vms.size(); ++v) {
      Totals& t = vm_totals_[compiled.vms[v].name];
      t.allowed += runtime::read(block->vm_allowed[v]);
      for (size_t r = 0; r < core::kDropReasonCount; ++r)
        t.drops[r] += runtime::read(block->vm_drops[v * core::kDropReasonCount + r]);
    }
    for (size_t r = 0; r < compiled.rules.size(); ++r) rule_totals_[compiled.rules[r].label()] += runtime::read(block->rule_hits[r]);
  }
}

core::Expected<Json> ControlPlane::apply(policy::Policy policy, std::string persisted_text, const char* what,
                                         const Peer& peer) {
  auto t0 = Clock::now();
  if (auto st = config::check_vm_ports(policy, cfg_.port_names()); !st) return core::make_error(st.error().message);
  if (auto st = policy::check_limits(policy, cfg_.limits); !st) return core::make_error(st.error().message);
  const runtime::Snapshot* prev = publisher_->current();
  acl::BuildOptions opts;
  opts.max_size = cfg_.acl_max_size;
  auto snap = runtime::Snapshot::build(std::move(policy), layout_of(cfg_), generation_ + 1,
                                       static_cast<unsigned>(view_.workers->size()), opts, prev);
  if (!snap) return core::make_error(snap.error().message);
  assign_vm_ids(**snap);
  double build_ms = ms_since(t0);
  double compile_ms = (*snap)->compile_ms(), tables_ms = (*snap)->tables_ms(), other_ms = (*snap)->other_ms();
  size_t built = (*snap)->tables().contexts_built();
  size_t total = (*snap)->tables().context_count();
  // Enforce first, then persist; the reply waits for both. If the policy cannot be
  // written, the previous snapshot is published again and the change is rejected, so
  // what runs is always what a restart would load.
  auto t1 = Clock::now();
  std::unique_ptr<runtime::Snapshot> old = publisher_->publish(std::move(*snap));
  double publish_ms = ms_since(t1);
  double enforced_ms = ms_since(request_start_);
  auto tp = Clock::now();
  if (persisted_text.empty()) persisted_text = policy::write_policy_yaml(publisher_->current()->policy(), "written by sgfwd (vm set-groups)");
  if (auto st = config::write_file_atomically(cfg_.policy, persisted_text); !st) {
    std::unique_ptr<runtime::Snapshot> rejected = publisher_->publish(std::move(old));
    fold(*rejected);
    return core::make_error("policy not persisted, change reverted: " + st.error().message);
  }
  double persist_ms = ms_since(tp);
  fold(*old);
  retired_ = std::move(old);
  ++generation_;
  policy_text_ = std::move(persisted_text);
  policy_sha256_.clear();  // computed when asked (status): hashing 10 MiB takes ~20 ms
  loaded_at_ = std::chrono::system_clock::now();
  Json r{{"generation", generation_},
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
  std::cout << "sgfwd: " << what << " by uid " << peer.uid << ": generation " << generation_ << ", "
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
  auto r = apply(std::move(*p), content, "reload", peer);
  if (!r) std::cout << "sgfwd: reload by uid " << peer.uid << " rejected: " << core::escape_for_log(r.error().message, 4096) << std::endl;
  return r;
}

core::Expected<Json> ControlPlane::set_groups(const std::string& vm, const std::vector<std::string>& groups,
                                              const Peer& peer) {
  auto r = [&]() -> core::Expected<Json> {
    policy::Policy p = publisher_->current()->policy();
    policy::Vm* v = p.find_vm(vm);
    if (!v) return core::make_error("unknown VM '" + vm + "'");
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

Json ControlPlane::status() const {
  Json j;
  const runtime::Snapshot* s = publisher_->current();
  j["generation"] = s->generation();
  if (policy_sha256_.empty()) policy_sha256_ = sha256_hex(policy_text_);
  j["policy"] = Json{{"path", cfg_.policy}, {"sha256", policy_sha256_}, {"loaded_at", iso_time(loaded_at_)}};
  const auto& c = s->tables().compiled();
  j["compiled"] = Json{{"vms", c.vms.size()}, {"contexts", c.images.size()}, {"acl_rules", c.acl_rule_count()}};
  j["ports"] = Json::array();
  for (size_t p = 0; p < view_.ports->size(); ++p) {
    uint64_t rx = 0, tx = 0, dropped = 0;
    for (const auto& w : *view_.port_counters) {
      rx += runtime::read(w[p].rx);
      tx += runtime::read(w[p].tx);
      for (size_t r = 0; r < core::kDropReasonCount; ++r) dropped += runtime::read(w[p].drops[r]);
    }
    const auto& pr = (*view_.ports)[p];
    j["ports"].push_back(Json{{"name", pr.name}, {"device", pr.device}, {"uplink", pr.uplink}, {"state", "up"},
                              {"rx_queues", pr.rx_queues}, {"rx", rx}, {"tx", tx}, {"dropped", dropped}});
  }
  j["workers"] = Json::array();
  for (size_t w = 0; w < view_.workers->size(); ++w) {
    const auto& ws = (*view_.workers)[w];
    j["workers"].push_back(Json{{"worker", w}, {"packets", runtime::read(ws.packets)},
                                {"busy_cycles", runtime::read(ws.busy_cycles)}, {"loops", runtime::read(ws.loops)}});
  }
  j["flows"] = Json{{"capacity", cfg_.flows.capacity}, {"used", view_.flows ? view_.flows->size() : 0}};
  return j;
}

Json ControlPlane::stats(const std::string& vm_filter) const {
  const runtime::Snapshot* s = publisher_->current();
  Json j;
  j["generation"] = s->generation();
  auto drops_obj = [](const uint64_t* d, uint64_t& total) {
    Json o = Json::object();
    for (size_t r = 0; r < core::kDropReasonCount; ++r) {
      o[std::string(core::kDropReasonNames[r])] = d[r];
      total += d[r];
    }
    return o;
  };
  j["ports"] = Json::array();
  for (size_t p = 0; p < view_.ports->size(); ++p) {
    uint64_t rx = 0, tx = 0, d[core::kDropReasonCount] = {};
    for (const auto& w : *view_.port_counters) {
      rx += runtime::read(w[p].rx);
      tx += runtime::read(w[p].tx);
      for (size_t r = 0; r < core::kDropReasonCount; ++r) d[r] += runtime::read(w[p].drops[r]);
    }
    uint64_t total = 0;
    Json dj = drops_obj(d, total);
    j["ports"].push_back(Json{{"name", (*view_.ports)[p].name}, {"rx", rx}, {"tx", tx}, {"dropped", total}, {"drops", dj}});
  }
  const auto& compiled = s->tables().compiled();
  j["vms"] = Json::array();
  for (size_t v = 0; v < compiled.vms.size(); ++v) {
    const std::string& name = compiled.vms[v].name;
    if (!vm_filter.empty() && name != vm_filter) continue;
    Totals t;
    if (auto it = vm_totals_.find(name); it != vm_totals_.end()) t = it->second;
    for (const auto& b : s->all_counters()) {
      t.allowed += runtime::read(b->vm_allowed[v]);
      for (size_t r = 0; r < core::kDropReasonCount; ++r) t.drops[r] += runtime::read(b->vm_drops[v * core::kDropReasonCount + r]);
    }
    uint64_t total = 0;
    Json dj = drops_obj(t.drops, total);
    j["vms"].push_back(Json{{"name", name}, {"allowed", t.allowed}, {"dropped", total}, {"drops", dj}});
  }
  j["rules"] = Json::array();
  for (size_t r = 0; r < compiled.rules.size(); ++r) {
    std::string label = compiled.rules[r].label();
    uint64_t hits = 0;
    if (auto it = rule_totals_.find(label); it != rule_totals_.end()) hits = it->second;
    for (const auto& b : s->all_counters()) hits += runtime::read(b->rule_hits[r]);
    j["rules"].push_back(Json{{"rule", label}, {"hits", hits}});
  }
  j["workers"] = status()["workers"];
  return j;
}

Json ControlPlane::explain(const Json& args) const {
  const runtime::Snapshot* s = publisher_->current();
  Json out = Json::array();
  for (const auto& line : args.at("packets")) {
    auto t = explain::parse_batch_line(line.get<std::string>());
    if (!t) {
      out.push_back(Json{{"error", t.error().message}});
      continue;
    }
    out.push_back(Json::parse(explain::to_json(s->tables().judge(*t))));
  }
  return Json{{"generation", s->generation()}, {"results", out}};
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
    if (cmd == "stats") return reply_ok(stats(args.value("vm", std::string())));
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
      if (args.contains("limit") && args["limit"].is_number_integer()) limit = args["limit"].get<long>();
      return reply_ok(flows(args.value("vm", std::string()), limit));
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
