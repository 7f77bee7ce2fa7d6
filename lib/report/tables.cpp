#include "report/tables.hpp"

#include <sstream>

namespace sgfw::report {

namespace {

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
  const auto& c = s.at("compiled");
  o << "compiled: " << c.at("vms") << " local VMs, " << c.at("contexts") << " contexts, " << c.at("acl_rules")
    << " ACL rules\n";
  o << "ports:\n";
  for (const auto& port : s.at("ports"))
    o << "  " << port.at("name").get<std::string>() << (port.at("uplink").get<bool>() ? " (uplink)" : "") << ": "
      << port.at("state").get<std::string>() << ", rx " << port.at("rx") << " tx " << port.at("tx") << " dropped "
      << port.at("dropped") << "\n";
  o << "workers:\n";
  for (const auto& w : s.at("workers"))
    o << "  " << w.at("worker") << ": packets " << w.at("packets") << ", busy cycles " << w.at("busy_cycles") << "\n";
  const auto& f = s.at("flows");
  o << "connections: " << f.at("used") << " / " << f.at("capacity") << "\n";
  return o.str();
}

std::string change_text(const Json& r) {
  std::ostringstream o;
  o << "generation " << r.at("generation") << ": " << r.at("contexts_rebuilt") << " of " << r.at("contexts")
    << " contexts rebuilt, " << r.at("total_ms").get<double>() << " ms\n";
  return o.str();
}

std::string flows_text(const Json& f) {
  std::ostringstream o;
  o << f.at("total") << " connections\n";
  for (const auto& c : f.at("flows")) o << "  " << c.dump() << "\n";
  return o.str();
}

}  // namespace sgfw::report
