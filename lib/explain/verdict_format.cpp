#include "explain/verdict_format.hpp"

#include <nlohmann/json.hpp>

namespace sgfw::explain {

std::string to_json(const policy::Verdict& v) {
  nlohmann::ordered_json j;
  j["verdict"] = v.allow ? "allow" : "deny";
  if (!v.allow) j["reason"] = v.reason;
  j["checks"] = nlohmann::ordered_json::array();
  for (const auto& c : v.checks) {
    nlohmann::ordered_json cj;
    cj["vm"] = c.vm;
    cj["direction"] = std::string(policy::to_string(c.direction));
    cj["verdict"] = c.allow ? "allow" : "deny";
    cj["rule"] = c.allow ? nlohmann::ordered_json(c.rule) : nlohmann::ordered_json(nullptr);
    j["checks"].push_back(std::move(cj));
  }
  return j.dump();
}

std::string to_text(const policy::Verdict& v) {
  std::string s = "verdict: ";
  s += v.allow ? "allow" : "deny (" + v.reason + ")";
  s += '\n';
  for (const auto& c : v.checks) {
    std::string dir(policy::to_string(c.direction));
    s += "  " + dir + std::string(8 - dir.size(), ' ') + "check of " + c.vm + ": ";
    s += c.allow ? "allow, rule: " + c.rule : "deny, rule: null";
    s += '\n';
  }
  if (v.checks.empty()) s += "  neither end is a local VM\n";
  return s;
}

std::string error_json(const std::string& message) {
  nlohmann::ordered_json j;
  j["error"] = message;
  return j.dump();
}

}  // namespace sgfw::explain
