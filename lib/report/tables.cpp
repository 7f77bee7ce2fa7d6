#include "report/tables.hpp"

#include <algorithm>
#include <cmath>
#include <vector>
#include <cstdio>
#include <sstream>

#include "report/plural.hpp"

namespace sgfw::report {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// A worker's rule checks answered by its classification cache, of all its checks:
// ", rule checks from the cache 40 of 50" (nothing when the status has no such fields).
std::string cache_share(const Json& w) {
  if (!w.contains("classify_cache_hits")) return "";
  const uint64_t hits = w.at("classify_cache_hits").get<uint64_t>();
  const uint64_t all = hits + w.value("classify_cache_misses", uint64_t{0}) + w.value("classify_cache_bypassed", uint64_t{0});
  return ", rule checks from the cache " + std::to_string(hits) + " of " + std::to_string(all);
}

// Milliseconds with one decimal: "12.3 ms".
std::string ms(const Json& v) { return fixed(v.get<double>(), 1) + " ms"; }

// A duration for people: "850ms", "12.4s", "3m05s", "2h07m", "5d03h".
std::string duration(double s) {
  if (s < 1.0) return std::to_string(static_cast<long>(std::lround(s * 1000.0))) + "ms";
  if (s < 60.0) return fixed(s, 1) + "s";
  long t = std::lround(s);
  char buf[32];
  if (t < 3600) std::snprintf(buf, sizeof(buf), "%ldm%02lds", t / 60, t % 60);
  else if (t < 86400) std::snprintf(buf, sizeof(buf), "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else std::snprintf(buf, sizeof(buf), "%ldd%02ldh", t / 86400, (t % 86400) / 3600);
  return buf;
}

std::string proto_name(int p) {
  switch (p) {
    case 1: return "icmp";
    case 58: return "icmpv6";
    case 6: return "tcp";
    case 17: return "udp";
    default: return std::to_string(p);
  }
}

// "10.0.0.1:80", "[2001:db8::1]:443" (an IPv6 address in brackets before a port, as
// explain takes it), "10.0.0.1" / "2001:db8::1" for a protocol without ports.
std::string endpoint(const Json& c, const char* addr, const char* port) {
  int p = c.at("proto").get<int>();
  std::string s = c.at(addr).get<std::string>();
  if (p != 6 && p != 17) return s;
  if (s.find(':') != std::string::npos) s = "[" + s + "]";
  return s + ":" + std::to_string(c.at(port).get<int>());
}

std::string name_or_dash(const Json& v) { return v.is_null() ? "-" : v.get<std::string>(); }

// Columns padded to their widest cell; the last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string reasons(const Json& drops) {
  std::string t;
  for (auto it = drops.begin(); it != drops.end(); ++it)
    if (it.value().get<uint64_t>() != 0) t += " " + it.key() + "=" + std::to_string(it.value().get<uint64_t>());
  return t;
}

}  // namespace

std::string stats_text(const Json& s) {
  std::ostringstream o;
  o << "generation " << s.at("generation").get<uint64_t>() << "\n";
  o << "ports:\n";
  for (const auto& p : s.at("ports"))
    o << "  " << p.at("name").get<std::string>() << ": rx " << p.at("rx") << " tx " << p.at("tx") << " dropped "
      << p.at("dropped") << reasons(p.at("drops")) << "\n";
  o << "vms:\n";
  for (const auto& v : s.at("vms"))
    o << "  " << v.at("name").get<std::string>() << ": allowed " << v.at("allowed") << " dropped "
      << v.at("dropped") << reasons(v.at("drops")) << "\n";
  o << "rules (hits):\n";
  for (const auto& r : s.at("rules"))
    if (r.at("hits").get<uint64_t>() != 0) o << "  " << r.at("rule").get<std::string>() << ": " << r.at("hits") << "\n";
  return o.str();
}

std::string status_text(const Json& s) {
  std::ostringstream o;
  o << "generation " << s.at("generation") << "\n";
  const auto& p = s.at("policy");
  o << "policy " << p.at("path").get<std::string>() << " sha256 " << p.at("sha256").get<std::string>()
    << " loaded " << p.at("loaded_at").get<std::string>() << "\n";
  const Json* src = s.contains("policy_source") ? &s.at("policy_source") : nullptr;
  const bool etcd = src && src->value("kind", "") == "etcd";
  if (p.contains("persisted_to") && !etcd)
    o << "  persisted to " << p.at("persisted_to").get<std::string>()
      << " (rewritten on every reload --policy and vm set-groups)\n";
  if (etcd) {  // docs/fleet.md, "Following the policy live"
    o << "policy source: etcd " << src->at("prefix").get<std::string>() << " at revision " << src->at("revision")
      << ", " << (src->at("connected").get<bool>() ? "connected" : "disconnected") << "\n";
    o << "  appliance " << src->at("appliance").get<std::string>() << ", " << src->at("refused")
      << " refused batch(es), persisted copy " << src->at("persisted").get<std::string>() << "\n";
    if (!src->at("last_error").is_null()) o << "  last error: " << src->at("last_error").get<std::string>() << "\n";
  } else if (src && src->contains("path")) {
    o << "policy source: file " << src->at("path").get<std::string>() << "\n";
  }
  const auto& c = s.at("compiled");
  o << "compiled: " << count_of(c.at("vms").get<uint64_t>(), "local VM") << ", "
    << count_of(c.at("contexts").get<uint64_t>(), "context") << ", "
    << count_of(c.at("acl_rules").get<uint64_t>(), "ACL rule") << "\n";
  o << "ports:\n";
  for (const auto& port : s.at("ports"))
    o << "  " << port.at("name").get<std::string>() << (port.at("uplink").get<bool>() ? " (uplink)" : "") << ": "
      << port.at("state").get<std::string>() << ", rx " << port.at("rx") << " tx " << port.at("tx") << " dropped "
      << port.at("dropped") << "\n";
  o << "workers:\n";
  for (const auto& w : s.at("workers"))
    o << "  " << w.at("worker") << ": packets " << w.at("packets") << ", busy cycles " << w.at("busy_cycles")
      << (w.contains("busy_percent") ? " (" + fixed(w.at("busy_percent").get<double>(), 1) + "% of the time)" : "")
      << cache_share(w) << "\n";
  const auto& f = s.at("flows");
  o << "connections: " << f.at("used");
  if (f.contains("used_ipv6"))  // capacity is per family (docs/configuration.md)
    o << " (IPv4 " << f.at("used_ipv4") << " / " << f.at("capacity") << ", IPv6 " << f.at("used_ipv6") << " / "
      << f.at("capacity") << ")";
  else
    o << " / " << f.at("capacity");
  o << "\n";
  if (s.contains("limits")) {
    const auto& l = s.at("limits");
    o << "limits: local VMs " << l.at("local_vms_used") << " / " << l.at("local_vms") << ", VMs " << l.at("vms_used")
      << " / " << l.at("vms") << ", groups " << l.at("groups_used") << " / " << l.at("groups") << "\n";
  }
  return o.str();
}

std::string change_text(const Json& r) {
  std::ostringstream o;
  o << "generation " << r.at("generation") << ": " << r.at("contexts_rebuilt") << " of "
    << count_of(r.at("contexts").get<uint64_t>(), "context") << " rebuilt, " << ms(r.at("total_ms"));
  if (r.contains("enforced_ms")) o << " (enforced after " << ms(r.at("enforced_ms")) << ")";
  o << "\n";
  return o.str();
}

std::string flows_text(const Json& f) {
  std::ostringstream o;
  uint64_t total = f.at("total").get<uint64_t>();
  o << count_of(total, "connection");
  if (f.at("flows").size() < total) o << " (" << f.at("flows").size() << " shown)";
  o << "\n";
  if (f.at("flows").empty()) return o.str();
  std::vector<std::vector<std::string>> rows{
      {"PROTO", "SOURCE", "DESTINATION", "STATE", "SRC VM", "DST VM", "AGE", "IDLE", "EGRESS RULE", "INGRESS RULE"}};
  for (const auto& c : f.at("flows"))
    rows.push_back({proto_name(c.at("proto").get<int>()), endpoint(c, "src", "sport"), endpoint(c, "dst", "dport"),
                    c.at("state").get<std::string>(), name_or_dash(c.value("src_vm", Json(nullptr))),
                    name_or_dash(c.value("dst_vm", Json(nullptr))), duration(c.at("age_s").get<double>()),
                    duration(c.at("idle_s").get<double>()), name_or_dash(c.at("egress_rule")),
                    name_or_dash(c.at("ingress_rule"))});
  o << table(rows);
  return o.str();
}

}  // namespace sgfw::report
