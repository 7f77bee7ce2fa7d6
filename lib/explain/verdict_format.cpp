#include "explain/verdict_format.hpp"

#include <nlohmann/json.hpp>

namespace sgfw::explain {

nlohmann::ordered_json to_json_value(const policy::Verdict& v) {
  nlohmann::ordered_json j;
  j["verdict"] = v.allow ? "allow" : "deny";
  if (!v.allow) j["reason"] = v.reason;
  if (!v.ambiguous_vms.empty()) j["ambiguous_vms"] = v.ambiguous_vms;
  j["checks"] = nlohmann::ordered_json::array();
  for (const auto& c : v.checks) {
    nlohmann::ordered_json cj;
    cj["vm"] = c.vm;
    cj["direction"] = std::string(policy::to_string(c.direction));
    cj["verdict"] = c.allow ? "allow" : "deny";
    cj["rule"] = c.allow ? nlohmann::ordered_json(c.rule) : nlohmann::ordered_json(nullptr);
    j["checks"].push_back(std::move(cj));
  }
  return j;
}

std::string to_json(const policy::Verdict& v) { return to_json_value(v).dump(); }

std::string to_text(const policy::Verdict& v) { return text_of_json(to_json(v)); }

std::string text_of_json(const std::string& verdict_json) {
  auto v = nlohmann::ordered_json::parse(verdict_json);
  bool allow = v.at("verdict").get<std::string>() == "allow";
  std::string s = "verdict: ";
  s += allow ? "allow" : "deny (" + v.at("reason").get<std::string>() + ")";
  s += '\n';
  for (const auto& c : v.at("checks")) {
    std::string dir = c.at("direction").get<std::string>();
    s += "  " + dir + std::string(dir.size() < 8 ? 8 - dir.size() : 1, ' ') + "check of " +
         c.at("vm").get<std::string>() + ": ";
    s += c.at("rule").is_null() ? "deny, no rule of its security groups allows it"
                                : "allow, rule: " + c.at("rule").get<std::string>();
    s += '\n';
  }
  if (v.contains("ambiguous_vms")) {
    std::string vms;
    for (const auto& n : v.at("ambiguous_vms")) vms += (vms.empty() ? "" : ", ") + n.get<std::string>();
    s += "  an address of the packet belongs to several local VMs (" + vms +
         "): give the MAC that tells them apart\n";
  } else if (v.at("checks").empty() && v.at("verdict") == "deny" && v.at("reason") == "dhcp-server-from-vm") {
    s += "  a VM may not act as a DHCP server: UDP from port 67 is dropped before any rule\n";
  } else if (v.at("checks").empty()) {
    s += "  neither end is a local VM: nothing enforced here would forward it\n";
  }
  return s;
}

std::string error_json(const std::string& message) {
  nlohmann::ordered_json j;
  j["error"] = message;
  return j.dump();
}

}  // namespace sgfw::explain
