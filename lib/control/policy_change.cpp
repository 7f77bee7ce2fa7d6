#include "control/policy_change.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "config/policy_loader.hpp"
#include "config/vm_port_check.hpp"
#include "policy/limits.hpp"

namespace sgfw::control {

namespace {

runtime::PortLayout layout_of(const config::DaemonConfig& cfg) {
  runtime::PortLayout l;
  l.names = cfg.port_names();
  l.uplink = static_cast<uint16_t>(cfg.uplink_index());
  return l;
}

// The configured policy file, read once: what is parsed is what is persisted.
core::Expected<std::string> read_policy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::make_error(path + ":1:1: cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return core::make_error(path + ":1:1: cannot read file");
  return ss.str();
}

struct Parsed {
  policy::Policy policy;
  std::string text;  // empty: persist the policy as written by policy_writer
};

core::Expected<Parsed> parse_reload(const ChangeRequest& r, const config::DaemonConfig& cfg) {
  std::string name = cfg.policy;
  std::string content;
  if (r.text) {
    content = *r.text;
    name = r.name.empty() ? "policy" : r.name;  // for messages only: never opened
  } else {
    auto file = read_policy_file(cfg.policy);
    if (!file) return core::make_error(file.error().message);
    content = std::move(*file);
  }
  auto p = config::load_policy_text(content, name);
  if (!p) return core::make_error(p.error().message);
  if (auto st = config::check_vm_ports_located(*p, content, name, cfg); !st) return core::make_error(st.error().message);
  return Parsed{std::move(*p), std::move(content)};
}

core::Expected<Parsed> parse_set_groups(const ChangeRequest& r, const runtime::Snapshot& running) {
  policy::Policy p = running.policy();
  policy::Vm* v = p.find_vm(r.vm);
  if (!v) return core::make_error("unknown VM '" + r.vm + "'");
  std::vector<std::string> groups = r.groups;
  std::unordered_set<std::string> seen;
  for (auto& g : groups) {  // names never have spaces: trim what a shell list left
    size_t b = g.find_first_not_of(" \t"), e = g.find_last_not_of(" \t");
    g = b == std::string::npos ? std::string() : g.substr(b, e - b + 1);
    if (g.empty())
      return core::make_error("empty security group name in the list: give names, or an empty list for none "
                              "(sgfwctl: '-')");
    if (!p.find_group(g)) return core::make_error("unknown security group '" + g + "'");
    if (!seen.insert(g).second) return core::make_error("security group '" + g + "' listed twice");
  }
  v->groups = std::move(groups);
  return Parsed{std::move(p), std::string()};
}

}  // namespace

core::Expected<PreparedChange> prepare_change(const ChangeRequest& request, const ChangeBase& base) {
  auto t0 = std::chrono::steady_clock::now();
  const config::DaemonConfig& cfg = *base.cfg;
  auto parsed = request.kind == ChangeRequest::Kind::kReload ? parse_reload(request, cfg)
                                                              : parse_set_groups(request, *base.running);
  if (!parsed) return core::make_error(parsed.error().message);
  if (auto st = config::check_vm_ports(parsed->policy, cfg.port_names()); !st) return core::make_error(st.error().message);
  if (auto st = policy::check_limits(parsed->policy, cfg.limits); !st) return core::make_error(st.error().message);
  acl::BuildOptions opts;
  opts.max_size = cfg.acl_max_size;
  auto snap = runtime::Snapshot::build(std::move(parsed->policy), layout_of(cfg), base.generation, base.workers, opts,
                                       base.running);
  if (!snap) return core::make_error(snap.error().message);
  PreparedChange c;
  c.snapshot = std::move(*snap);
  c.persisted_text = std::move(parsed->text);
  c.prepare_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

}  // namespace sgfw::control
