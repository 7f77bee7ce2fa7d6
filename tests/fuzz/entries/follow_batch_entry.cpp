// The follow_batch fuzz target (docs/fuzzing.md): the membership fast path of a
// following daemon (follow::membership_only, lib/follow/batch.hpp) on one batch of etcd
// events against a small valid key map under /sgfw/ (VMs a, b, c, d, group web, subnet
// net). Input: up to 16 lines, one event each (empty lines skipped): byte 0 '-' is a
// delete, anything else a put; byte 1 minus '0', modulo 10, picks the key (0-3 the VMs,
// 4 the group, 5 the subnet, 6 a new VM, 7 the push marker, 8 an invalid name, 9 a key
// outside the prefix); the rest of the line is the put's value. Properties: never
// crashes; a batch with a delete, a key outside vms/ or a key not in the map gives
// nullopt; a returned vector has one change per key of the batch, in key order, each
// naming its VM, and the map's old value with "securityGroups" set to the change's
// groups equals the key's last value (as JSON); a pure securityGroups change (every
// value an object at most 32 levels deep, equal to the old one but for an array of
// strings in "securityGroups") is not refused.
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "entries.hpp"
#include "fleet/key_layout.hpp"
#include "follow/batch.hpp"

namespace sgfw::fuzz {

namespace {

using nlohmann::json;

[[noreturn]] void wrong(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::abort();
}

const std::string kPrefix = "/sgfw/";
const char* const kKeys[] = {"/sgfw/vms/a", "/sgfw/vms/b", "/sgfw/vms/c", "/sgfw/vms/d", "/sgfw/groups/web",
                             "/sgfw/subnets/net", "/sgfw/vms/new", "/sgfw/meta/push", "/sgfw/vms/B", "/other/vms/a"};
constexpr size_t kMaxEvents = 16;
// The library refuses values deeper than 64 levels; this entry parses up to kParseDepth
// (deeper: not parsed, no recursion on them) and asserts that a pure securityGroups
// change qualifies only up to kCheckedDepth, well inside the library's limit.
constexpr int kParseDepth = 100;
constexpr int kCheckedDepth = 32;

const fleet::KeyValues& before_map() {
  static const fleet::KeyValues kv = {
      {"/sgfw/vms/a", R"({"name":"a","appliance":"edge-1","port":"p1","mac":"02:00:00:00:00:01",)"
                      R"("ips":["10.0.0.1"],"securityGroups":["web"]})"},
      {"/sgfw/vms/b", R"({"ips":["10.0.0.2"],"securityGroups":[]})"},
      {"/sgfw/vms/c", R"({"name":"c","appliance":"edge-2","port":"p2","ips":["10.0.0.3","2001:db8::3"],)"
                      R"("allowedAddressPairs":[{"ip":"10.0.3.0/28"},{"ip":"10.0.0.100","mac":"02:00:00:00:00:64"}],)"
                      R"("securityGroups":["web","default-allow-ssh"]})"},
      {"/sgfw/vms/d", R"({"name":"d","ips":["10.0.0.4"]})"},
      {"/sgfw/groups/web", R"({"name":"web","rules":[{"direction":"Ingress","protocol":"TCP","port":443,)"
                           R"("remote":{"subnetRef":{"name":"net"}}}]})"},
      {"/sgfw/subnets/net", R"({"name":"net","cidr":"10.0.0.0/24"})"},
  };
  return kv;
}

struct Parsed {
  json value;
  int depth = 0;  // the deepest nesting level seen
  bool ok = false;
};

// JSON as the library reads it (nlohmann, later duplicate keys win), at most kParseDepth deep.
Parsed parse(const std::string& text) {
  Parsed p;
  bool too_deep = false;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t, json&) {
    if (depth > kParseDepth) too_deep = true;
    if (!too_deep && depth > p.depth) p.depth = depth;
    return !too_deep;
  };
  p.value = json::parse(text, cb, false);
  p.ok = !too_deep && !p.value.is_discarded();
  return p;
}

bool is_vm_key(const std::string& key) {
  auto ref = fleet::parse_key(kPrefix, key);
  return ref && ref->kind == fleet::Kind::kVm;
}

// Whether the header promises the fast path for this batch; false also when a value is
// too deep for this entry to say.
bool must_qualify(const std::vector<etcd::Event>& events, const std::map<std::string, std::string>& last) {
  if (events.empty()) return false;
  for (const auto& e : events)
    if (e.type != etcd::Event::Type::kPut) return false;
  for (const auto& [key, value] : last) {
    auto old_it = before_map().find(key);
    if (!is_vm_key(key) || old_it == before_map().end()) return false;
    Parsed now = parse(value);
    if (!now.ok || now.depth > kCheckedDepth || !now.value.is_object()) return false;
    Parsed old = parse(old_it->second);
    auto groups = now.value.find("securityGroups");
    if (groups == now.value.end() || !groups->is_array()) return false;
    for (const auto& g : *groups)
      if (!g.is_string()) return false;
    now.value.erase("securityGroups");
    old.value.erase("securityGroups");
    if (now.value != old.value) return false;
  }
  return true;
}

}  // namespace

int follow_batch(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<etcd::Event> events;
  while (!in.empty() && events.size() < kMaxEvents) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    if (line.empty()) continue;
    etcd::Event e;
    e.type = line[0] == '-' ? etcd::Event::Type::kDelete : etcd::Event::Type::kPut;
    uint8_t pick = line.size() > 1 ? static_cast<uint8_t>(line[1] - '0') : 0;
    e.kv.key = kKeys[pick % std::size(kKeys)];
    if (e.type == etcd::Event::Type::kPut && line.size() > 2) e.kv.value = std::string(line.substr(2));
    e.kv.mod_revision = 100 + static_cast<int64_t>(events.size());
    events.push_back(std::move(e));
  }
  std::map<std::string, std::string> last;  // key -> its last put value
  bool any_delete = false;
  for (const auto& e : events) {
    if (e.type == etcd::Event::Type::kDelete) any_delete = true;
    else last[e.kv.key] = e.kv.value;
  }

  const fleet::KeyValues& before = before_map();
  auto changes = follow::membership_only(kPrefix, before, events);
  if (!changes) {
    if (must_qualify(events, last)) wrong("a pure securityGroups change took the full decode");
    return 0;
  }
  if (events.empty()) wrong("an empty batch took the fast path");
  if (any_delete) wrong("a batch with a delete took the fast path");
  for (const auto& e : events) {
    if (!is_vm_key(e.kv.key)) wrong("a batch with a key outside vms/ took the fast path: " + e.kv.key);
    if (!before.count(e.kv.key)) wrong("a batch with a new key took the fast path: " + e.kv.key);
  }
  if (changes->size() != last.size()) wrong("not one change per key of the batch");
  for (size_t i = 0; i < changes->size(); ++i) {
    const follow::GroupChange& c = (*changes)[i];
    if (i > 0 && !((*changes)[i - 1].key < c.key)) wrong("changes not in key order: " + c.key);
    auto ref = fleet::parse_key(kPrefix, c.key);
    if (!ref || ref->kind != fleet::Kind::kVm || !before.count(c.key) || !last.count(c.key))
      wrong("a change of a key that is not a VM of the map in the batch: " + c.key);
    if (c.vm != ref->name) wrong("a change names VM '" + c.vm + "' for key " + c.key);
    Parsed expected = parse(before.at(c.key));
    Parsed now = parse(last.at(c.key));
    if (!expected.ok || !now.ok) wrong("an accepted value does not parse: " + c.key);
    expected.value["securityGroups"] = c.groups;
    if (expected.value != now.value)
      wrong("the old value with the change's groups is not the new value: " + c.key + ": " +
            expected.value.dump() + " vs " + now.value.dump());
  }
  return 0;
}

}  // namespace sgfw::fuzz
