#include "daemon/stats_report.hpp"

#include <sstream>

namespace sgfw::daemon {

using nlohmann::ordered_json;

namespace {

ordered_json drops_json(const uint64_t* drops, uint64_t& total) {
  ordered_json j = ordered_json::object();
  for (size_t r = 0; r < core::kDropReasonCount; ++r) {
    j[std::string(core::kDropReasonNames[r])] = drops[r];
    total += drops[r];
  }
  return j;
}

}  // namespace

ordered_json stats_json(const StatsInputs& in) {
  ordered_json j;
  j["generation"] = in.snapshot->generation();
  j["ports"] = ordered_json::array();
  for (size_t p = 0; p < in.ports->size(); ++p) {
    uint64_t rx = 0, tx = 0, drops[core::kDropReasonCount] = {};
    for (const auto& w : *in.port_counters) {
      rx += runtime::read(w[p].rx);
      tx += runtime::read(w[p].tx);
      for (size_t r = 0; r < core::kDropReasonCount; ++r) drops[r] += runtime::read(w[p].drops[r]);
    }
    ordered_json pj;
    pj["name"] = (*in.ports)[p].name;
    pj["rx"] = rx;
    pj["tx"] = tx;
    uint64_t total = 0;
    ordered_json dj = drops_json(drops, total);
    pj["dropped"] = total;
    pj["drops"] = std::move(dj);
    j["ports"].push_back(std::move(pj));
  }
  const auto& compiled = in.snapshot->tables().compiled();
  const auto& blocks = in.snapshot->all_counters();
  j["vms"] = ordered_json::array();
  for (size_t v = 0; v < compiled.vms.size(); ++v) {
    uint64_t allowed = 0, drops[core::kDropReasonCount] = {};
    for (const auto& b : blocks) {
      allowed += runtime::read(b->vm_allowed[v]);
      for (size_t r = 0; r < core::kDropReasonCount; ++r)
        drops[r] += runtime::read(b->vm_drops[v * core::kDropReasonCount + r]);
    }
    ordered_json vj;
    vj["name"] = compiled.vms[v].name;
    vj["allowed"] = allowed;
    uint64_t total = 0;
    ordered_json dj = drops_json(drops, total);
    vj["dropped"] = total;
    vj["drops"] = std::move(dj);
    j["vms"].push_back(std::move(vj));
  }
  j["rules"] = ordered_json::array();
  for (size_t r = 0; r < compiled.rules.size(); ++r) {
    uint64_t hits = 0;
    for (const auto& b : blocks) hits += runtime::read(b->rule_hits[r]);
    j["rules"].push_back(ordered_json{{"rule", compiled.rules[r].label()}, {"hits", hits}});
  }
  j["workers"] = ordered_json::array();
  for (size_t w = 0; w < in.workers->size(); ++w) {
    const auto& ws = (*in.workers)[w];
    j["workers"].push_back(ordered_json{{"worker", w},
                                        {"packets", runtime::read(ws.packets)},
                                        {"busy_cycles", runtime::read(ws.busy_cycles)},
                                        {"loops", runtime::read(ws.loops)}});
  }
  return j;
}

std::string stats_text(const ordered_json& s) {
  std::ostringstream o;
  auto reasons = [&](const ordered_json& drops) {
    std::string t;
    for (auto it = drops.begin(); it != drops.end(); ++it)
      if (it.value().get<uint64_t>() != 0) t += " " + it.key() + "=" + std::to_string(it.value().get<uint64_t>());
    return t;
  };
  o << "generation " << s["generation"].get<uint64_t>() << "\n";
  o << "ports:\n";
  for (const auto& p : s["ports"])
    o << "  " << p["name"].get<std::string>() << ": rx " << p["rx"] << " tx " << p["tx"] << " dropped "
      << p["dropped"] << reasons(p["drops"]) << "\n";
  o << "vms:\n";
  for (const auto& v : s["vms"])
    o << "  " << v["name"].get<std::string>() << ": allowed " << v["allowed"] << " dropped "
      << v["dropped"] << reasons(v["drops"]) << "\n";
  o << "rules (hits):\n";
  for (const auto& r : s["rules"])
    if (r["hits"].get<uint64_t>() != 0) o << "  " << r["rule"].get<std::string>() << ": " << r["hits"] << "\n";
  return o.str();
}

}  // namespace sgfw::daemon
