#include "fleet/decode.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <vector>

#include "config/policy_loader.hpp"
#include "core/escape.hpp"

namespace sgfw::fleet {

namespace {

using nlohmann::json;

// The display name of the assembled document; messages "etcd-policy:LINE:COL: ..." are
// turned into "KEY: ..." by the line (docs/fleet.md, "Validation").
constexpr std::string_view kDocument = "etcd-policy";

std::string shown(std::string_view key) { return core::escape_for_log(key, 300); }

core::Unexpected key_error(std::string_view key, const std::string& message) {
  return core::make_error(shown(key) + ": " + message);
}

// Whose view a decode is: one appliance's (only its VMs keep `port`) or the fleet's
// (every VM keeps `port`).
struct View {
  bool fleet = false;
  std::string_view appliance;  // !fleet
};

// One value, checked and made ready for the loader: the JSON object of a policy file's
// entry, `name` defaulting to the key's, a VM's `port` kept only where `view` hosts it.
core::Expected<std::string> prepare(std::string_view key, const KeyRef& ref, std::string_view value,
                                    const View& view) {
  json j;
  try {
    j = json::parse(value);
  } catch (const json::exception& e) {  // a syntax error, or a number out of range (1e999)
    return key_error(key, "the value is not JSON: " + std::string(e.what()));
  }
  if (!j.is_object()) return key_error(key, "the value must be a JSON object");
  auto name = j.find("name");
  if (name == j.end()) {
    j["name"] = ref.name;
  } else if (!name->is_string() || name->get<std::string>() != ref.name) {
    return key_error(key, "'name' must be '" + ref.name + "', the key's last part");
  }
  if (ref.kind == Kind::kVm) {
    auto app = j.find("appliance");
    bool has_port = j.contains("port");
    if (app == j.end()) {
      if (has_port) return key_error(key, "'port' without 'appliance': which appliance is the port on?");
    } else {
      if (!app->is_string() || !policy::is_valid_name(app->get<std::string>()))
        return key_error(key, "'appliance' must be a name: 1-63 of [a-z0-9-]");
      if (!has_port) return key_error(key, "'appliance' without 'port'");
      if (!view.fleet && app->get<std::string>() != view.appliance) j.erase("port");  // hosted elsewhere
    }
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// "etcd-policy:12:5: message" -> line 12 and "message"; false if not in that form.
bool split_located(const std::string& msg, size_t& line, std::string& rest) {
  std::string_view s(msg);
  if (s.substr(0, kDocument.size()) != kDocument || s.size() <= kDocument.size() || s[kDocument.size()] != ':')
    return false;
  s.remove_prefix(kDocument.size() + 1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), line);
  if (ec != std::errc()) return false;
  s.remove_prefix(static_cast<size_t>(p - s.data()));
  if (s.substr(0, 1) == ":") {  // the column: dropped (it counts in the re-written value)
    s.remove_prefix(1);
    size_t col = 0;
    auto [q, ec2] = std::from_chars(s.data(), s.data() + s.size(), col);
    if (ec2 == std::errc()) s.remove_prefix(static_cast<size_t>(q - s.data()));
  }
  if (s.substr(0, 2) == ": ") s.remove_prefix(2);
  rest = std::string(s);
  return true;
}

core::Expected<policy::Policy> decode_view(const KeyValues& kvs, std::string_view prefix, const View& view) {
  if (auto st = check_prefix(prefix); !st) return core::make_error(st.error().message);
  // The assembled document: one line per value, so a line names its key.
  std::array<std::vector<std::pair<std::string_view, std::string>>, 3> by_kind;
  const std::string meta = std::string(prefix) + "meta/";  // the push protocol's keys, not policy
  for (const auto& [key, value] : kvs) {
    if (key.compare(0, meta.size(), meta) == 0) continue;
    auto ref = parse_key(prefix, key);
    if (!ref) return core::make_error(ref.error().message);
    auto prepared = prepare(key, *ref, value, view);
    if (!prepared) return core::make_error(prepared.error().message);
    by_kind[static_cast<size_t>(ref->kind)].emplace_back(key, std::move(*prepared));
  }
  static constexpr std::array<std::string_view, 3> kLists = {"subnets", "securityGroups", "vms"};
  std::string doc;
  std::vector<std::string_view> key_of_line(1);  // 1-based: line n names key_of_line[n]
  auto add_line = [&](std::string_view line, std::string_view key) {
    doc += line;
    doc += '\n';
    key_of_line.push_back(key);
  };
  add_line("{", {});
  for (size_t k = 0; k < 3; ++k) {
    add_line("\"" + std::string(kLists[k]) + "\": [", {});
    auto& items = by_kind[k];
    for (size_t i = 0; i < items.size(); ++i)
      add_line(i + 1 < items.size() ? items[i].second + "," : items[i].second, items[i].first);
    add_line(k < 2 ? "]," : "]", {});
  }
  add_line("}", {});
  auto loaded = config::load_policy_text(doc, kDocument);
  if (!loaded) {
    const std::string& msg = loaded.error().message;
    size_t line = 0;
    std::string rest;
    if (split_located(msg, line, rest)) {
      if (line < key_of_line.size() && !key_of_line[line].empty()) return key_error(key_of_line[line], rest);
      return key_error(prefix, rest);
    }
    return key_error(prefix, msg);
  }
  policy::Policy p = std::move(*loaded);
  p.source = "etcd:" + std::string(prefix);
  for (auto& vm : p.vms) {
    vm.port_at = {};
    for (auto& pair : vm.allowed_address_pairs) pair.at = {};
  }
  return p;
}

}  // namespace

core::Expected<policy::Policy> decode_policy(const KeyValues& kvs, std::string_view prefix,
                                             std::string_view appliance) {
  return decode_view(kvs, prefix, View{false, appliance});
}

core::Expected<policy::Policy> decode_fleet_policy(const KeyValues& kvs, std::string_view prefix) {
  return decode_view(kvs, prefix, View{true, {}});
}

}  // namespace sgfw::fleet
