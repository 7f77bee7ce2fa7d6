// The control plane's read-only views (docs/control.md): status, stats, flows and the
// live explain. Control thread only.
#include <algorithm>
#include <cmath>
#include <ctime>

#include "control/control_plane.hpp"
#include "control/counter_totals.hpp"
#include "control/metrics_text.hpp"
#include "explain/batch.hpp"
#include "explain/tuple_text.hpp"
#include "explain/verdict_format.hpp"

namespace sgfw::control {

namespace {

using Clock = std::chrono::steady_clock;

std::string iso_time(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

core::Expected<Json> ControlPlane::flows(const std::string& vm, long limit) const {
  if (!vm.empty() && !publisher_->current()->policy().find_vm(vm))
    return core::make_error("unknown VM '" + vm + "' (not in the running policy; sgfwctl flows lists every connection)");
  Json list = Json::array();
  size_t total = 0;
  uint64_t oldest = publisher_->current()->generation();
  auto rule = [&](uint32_t v, uint64_t gen) -> Json {
    if (v == 0) return nullptr;
    auto it = labels_.find(gen);
    if (it != labels_.end() && v - 1 < it->second->size()) return (*it->second)[v - 1];
    return "generation " + std::to_string(gen) + " rule #" + std::to_string(v - 1);
  };
  // A full table holds a million connections: a reply lists at most kMaxFlowsListed.
  limit = limit < 0 ? protocol::kMaxFlowsListed : std::min(limit, protocol::kMaxFlowsListed);
  const uint32_t* want = vm.empty() ? nullptr : vm_ids_.id_of(vm);
  if (!vm.empty() && !want) return Json{{"flows", list}, {"total", 0}};
  auto vm_name = [&](uint32_t id) -> Json {
    const std::string* n = vm_ids_.name_of(id);
    return n ? Json(*n) : Json(nullptr);
  };
  dataplane_->for_each_flow([&](const FlowRecord& e) {
    oldest = std::min(oldest, e.generation);  // over every connection, not only the listed ones
    if (want && e.vm_id[0] != *want && e.vm_id[1] != *want) return;  // X at either end
    ++total;
    if (static_cast<long>(list.size()) >= limit) return;
    Json src_vm = vm_name(e.vm_id[0]), dst_vm = vm_name(e.vm_id[1]);
    list.push_back(Json{{"proto", e.proto},
                        {"src", core::to_string(e.src)},
                        {"sport", e.sport},
                        {"dst", core::to_string(e.dst)},
                        {"dport", e.dport},
                        {"state", e.state},
                        {"vm", src_vm.is_null() ? dst_vm : src_vm},
                        {"src_vm", src_vm},
                        {"dst_vm", dst_vm},
                        {"age_s", e.age_s},
                        {"idle_s", e.idle_s},
                        {"generation", e.generation},
                        {"egress_rule", rule(e.egress_rule, e.generation)},
                        {"ingress_rule", rule(e.ingress_rule, e.generation)}});
  });
  // Labels of generations no live connection references any more are not needed.
  while (labels_.size() > 1 && labels_.begin()->first < oldest) labels_.erase(labels_.begin());
  return Json{{"flows", list}, {"total", total}};
}

Json ControlPlane::status() const {
  Json j;
  const runtime::Snapshot* s = publisher_->current();
  j["generation"] = s->generation();
  if (policy_sha256_.empty()) policy_sha256_ = sha256_hex(policy_text_);
  // The running policy is written back to the configured file on every accepted change.
  j["policy"] = Json{{"path", cfg_.policy}, {"sha256", policy_sha256_}, {"loaded_at", iso_time(loaded_at_)},
                     {"persisted_to", cfg_.policy}};
  j["policy_source"] = source_.status ? source_.status() : Json{{"kind", "file"}, {"path", cfg_.policy}};
  double uptime = std::chrono::duration<double>(Clock::now() - started_).count();
  j["uptime_s"] = std::round(uptime * 1000.0) / 1000.0;
  const auto& c = s->tables().compiled();
  j["compiled"] = Json{{"vms", c.vms.size()}, {"contexts", c.images.size()}, {"acl_rules", c.acl_rule_count()}};
  j["ports"] = Json::array();
  const std::vector<PortInfo> ports = dataplane_->ports();
  for (size_t p = 0; p < ports.size(); ++p) {
    Totals t = dataplane_->port_totals(p);
    const auto& pr = ports[p];
    j["ports"].push_back(Json{{"name", pr.name}, {"device", pr.device}, {"uplink", pr.uplink}, {"state", "up"},
                              {"rx_queues", pr.rx_queues}, {"rx", t.rx}, {"tx", t.tx}, {"dropped", t.dropped()}});
  }
  j["workers"] = Json::array();
  const std::vector<WorkerInfo> workers = dataplane_->workers();
  for (size_t w = 0; w < workers.size(); ++w) {
    const auto& ws = workers[w];
    uint64_t busy = ws.busy_cycles;
    double elapsed = uptime * dataplane_->tsc_hz();
    double share = elapsed > 0 ? std::min(100.0, 100.0 * static_cast<double>(busy) / elapsed) : 0.0;
    j["workers"].push_back(Json{{"worker", w}, {"packets", ws.packets},
                                {"busy_cycles", busy}, {"busy_percent", std::round(share * 10.0) / 10.0},
                                {"loops", ws.loops}, {"classify_cache_hits", ws.classify_cache_hits},
                                {"classify_cache_misses", ws.classify_cache_misses},
                                {"classify_cache_bypassed", ws.classify_cache_bypassed}});
  }
  const FlowTableInfo flows = dataplane_->flow_table();
  // capacity: of each family's table (docs/configuration.md, flows.capacity).
  j["flows"] = Json{{"capacity", cfg_.flows.capacity},
                    {"used", flows.used},
                    {"used_ipv4", flows.used_ipv4},
                    {"used_ipv6", flows.used_ipv6},
                    {"half_open_reclaimed", flows.half_open_reclaimed},
                    {"inbound_half_open_recycled", flows.inbound_half_open_recycled}};
  j["limits"] = Json{{"local_vms", cfg_.limits.local_vms},
                     {"vms", cfg_.limits.vms},
                     {"groups", cfg_.limits.groups},
                     {"local_vms_used", c.vms.size()},
                     {"vms_used", s->policy().vms.size()},
                     {"groups_used", s->policy().groups.size()}};
  return j;
}

core::Expected<Json> ControlPlane::stats(const std::string& vm_filter) const {
  const runtime::Snapshot* s = publisher_->current();
  if (!vm_filter.empty() && !s->policy().find_vm(vm_filter))
    return core::make_error("unknown VM '" + vm_filter + "' (not in the running policy; sgfwctl stats lists every VM)");
  Json j;
  j["generation"] = s->generation();
  auto drops_obj = [](const Totals& t) {
    Json o = Json::object();
    for (size_t r = 0; r < core::kDropReasonCount; ++r) o[std::string(core::kDropReasonNames[r])] = t.drops[r];
    return o;
  };
  j["ports"] = Json::array();
  const std::vector<PortInfo> ports = dataplane_->ports();
  for (size_t p = 0; p < ports.size(); ++p) {
    Totals t = dataplane_->port_totals(p);
    j["ports"].push_back(Json{{"name", ports[p].name}, {"rx", t.rx}, {"tx", t.tx}, {"dropped", t.dropped()},
                              {"drops", drops_obj(t)}});
  }
  const auto& compiled = s->tables().compiled();
  // Connection and drop logs (docs/logs.md): only when configured.
  for (const LogFileInfo& l : dataplane_->logs())
    j["logs"][l.file] = Json{{"path", l.path}, {"written", l.written}, {"suppressed", l.suppressed},
                             {"lost", l.lost}, {"errors", l.errors}};
  j["vms"] = Json::array();
  for (size_t v = 0; v < compiled.vms.size(); ++v) {
    const std::string& name = compiled.vms[v].name;
    if (!vm_filter.empty() && name != vm_filter) continue;
    Totals t = vm_totals(*s, v);
    if (auto it = vm_totals_.find(name); it != vm_totals_.end()) t.add(it->second);
    j["vms"].push_back(Json{{"name", name}, {"allowed", t.allowed}, {"dropped", t.dropped()}, {"drops", drops_obj(t)}});
  }
  j["rules"] = Json::array();
  for (size_t r = 0; r < compiled.rules.size(); ++r) {
    std::string label = compiled.rules[r].label();
    uint64_t hits = rule_hits(*s, r);
    if (auto it = rule_totals_.find(label); it != rule_totals_.end()) hits += it->second;
    j["rules"].push_back(Json{{"rule", label}, {"hits", hits}});
  }
  j["workers"] = status()["workers"];
  return j;
}

PolicyLoadInfo ControlPlane::policy_load() const {
  PolicyLoadInfo load;
  load.seconds = last_load_seconds_;
  load.unix_time = std::chrono::duration<double>(loaded_at_.time_since_epoch()).count();
  return load;
}

std::string ControlPlane::metrics_text() const {
  // no VM filter: never an error
  std::string text = render_metrics(*stats(""), status(), policy_load(), connections_expired_);
  if (source_.metrics) text += source_.metrics();
  return text;
}

Json ControlPlane::explain(const std::vector<std::string>& packets) const {
  const runtime::Snapshot* s = publisher_->current();
  Json out = Json::array();
  explain::NameResolver names = explain::vm_name_resolver(s->policy());
  for (const auto& line : packets) {
    auto t = explain::parse_batch_line(line, names);
    if (!t) {
      out.push_back(Json{{"error", t.error().message}});
      continue;
    }
    auto v = s->tables().judge(*t);
    if (!v) {
      out.push_back(Json{{"error", v.error().message}});
      continue;
    }
    out.push_back(explain::to_json_value(*v));
  }
  return Json{{"generation", s->generation()}, {"results", out}};
}

}  // namespace sgfw::control
