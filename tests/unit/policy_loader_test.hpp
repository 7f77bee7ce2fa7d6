// Helpers of the policy loader's unit tests (test_policy_loader*.cpp): YAML text in
// raw strings, a load's error message or policy, and generators of groups and VMs whose
// lines and columns the tests' expected locations count on. Test code only.
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "config/policy_loader.hpp"
#include "policy/model.hpp"

namespace sgfw::test::loader {

// Raw-string YAML: drops the newline that follows R"( so line 1 is the first line.
inline std::string yaml(std::string_view s) {
  if (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  return std::string(s);
}

inline std::string load_error(std::string_view text) {
  auto r = config::load_policy_text(text, "t.yaml");
  return r ? std::string("<loaded>") : r.error().message;
}

inline policy::Policy load_ok(std::string_view text) {
  auto r = config::load_policy_text(text, "t.yaml");
  BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
  return std::move(r).value();
}

// One group "g" whose rules are given line by line, in block style. The first rule
// starts on line 4, every key is at column 9, and the lines run on from rule to rule.
inline std::string group_rules(std::vector<std::vector<std::string>> rules) {
  std::string s = "securityGroups:\n  - name: g\n    rules:\n";
  for (const auto& lines : rules)
    for (size_t i = 0; i < lines.size(); ++i) s += (i ? "        " : "      - ") + lines[i] + "\n";
  return s;
}
inline std::string one_rule(std::vector<std::string> lines) { return group_rules({lines}); }

inline const std::string kAny = "remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}";

// One local VM "a" whose line k of `extra` is line 5 + k, keys at column 5.
inline std::string one_vm(std::vector<std::string> extra) {
  std::string s = "vms:\n  - name: a\n    port: p1\n    mac: 02:00:00:00:00:01\n";
  for (const auto& l : extra) s += "    " + l + "\n";
  return s;
}

inline std::vector<std::string> names_of(const std::vector<policy::Group>& groups) {
  std::vector<std::string> v;
  for (const auto& g : groups) v.push_back(g.name);
  return v;
}

}  // namespace sgfw::test::loader
