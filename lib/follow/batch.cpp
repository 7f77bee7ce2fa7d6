#include "follow/batch.hpp"

#include <nlohmann/json.hpp>

#include <map>

namespace sgfw::follow {

void apply_events(fleet::KeyValues& map, const std::vector<etcd::Event>& events) {
  for (const auto& e : events) {
    if (e.type == etcd::Event::Type::kPut) map[e.kv.key] = e.kv.value;
    else map.erase(e.kv.key);
  }
}

std::string push_marker_key(std::string_view prefix) { return std::string(prefix) + "meta/push"; }

namespace {

using nlohmann::json;

// Deeper values take the full decode, which refuses them: comparing two parsed values
// recurses once per level, and a value of 750,000 nested arrays (etcd allows 1.5 MiB)
// overflowed the stack of the control thread.
constexpr int kMaxDepth = 64;

std::optional<json> parse_object(const std::string& text) {
  bool too_deep = false;
  json::parser_callback_t cb = [&too_deep](int depth, json::parse_event_t, json&) {
    if (depth > kMaxDepth) too_deep = true;
    return !too_deep;
  };
  json j = json::parse(text, cb, false);  // no exceptions: discarded on error
  if (too_deep || j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

}  // namespace

std::optional<std::vector<GroupChange>> membership_only(std::string_view prefix, const fleet::KeyValues& before,
                                                        const std::vector<etcd::Event>& events) {
  if (events.empty()) return std::nullopt;
  std::map<std::string, const std::string*> last;  // key -> its last new value
  for (const auto& e : events) {
    if (e.type != etcd::Event::Type::kPut) return std::nullopt;
    last[e.kv.key] = &e.kv.value;
  }
  std::vector<GroupChange> out;
  for (const auto& [key, value] : last) {
    auto ref = fleet::parse_key(prefix, key);
    if (!ref || ref->kind != fleet::Kind::kVm) return std::nullopt;
    auto old_it = before.find(key);
    if (old_it == before.end()) return std::nullopt;
    auto now = parse_object(*value);
    auto old = parse_object(old_it->second);
    if (!now || !old) return std::nullopt;
    auto groups = now->find("securityGroups");
    if (groups == now->end() || !groups->is_array()) return std::nullopt;
    GroupChange c{key, ref->name, {}};
    for (const auto& g : *groups) {
      if (!g.is_string()) return std::nullopt;
      c.groups.push_back(g.get<std::string>());
    }
    now->erase("securityGroups");
    old->erase("securityGroups");
    if (*now != *old) return std::nullopt;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sgfw::follow
