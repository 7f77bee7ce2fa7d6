#include "control/policy_change.hpp"

#include <chrono>

#include "config/policy_loader.hpp"
#include "policy/limits.hpp"
#include "policy/validate.hpp"

namespace sgfw::control {

namespace {

runtime::PortLayout layout_of(const config::DaemonConfig& cfg) {
  runtime::PortLayout l;
  l.names = cfg.port_names();
  l.uplink = static_cast<uint16_t>(cfg.uplink_index());
  return l;
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
    auto file = config::read_policy_file(cfg.policy);  // read once: what is parsed is persisted
    if (!file) return core::make_error(file.error().message);
    content = std::move(*file);
  }
  auto p = config::load_policy_text(content, name);
  if (!p) return core::make_error(p.error().message);
  return Parsed{std::move(*p), std::move(content)};
}

core::Expected<Parsed> parse_set_groups(const ChangeRequest& r, const ChangeBase& base) {
  // A shallow copy: the lists are shared with the running policy until changed
  // (docs/design/update-protocol.md, "What a membership change copies").
  policy::Policy p = base.running->policy();
  p.source.clear();  // no longer the file it was loaded from: it is persisted anew
  if (auto st = policy::set_vm_groups(p, r.vm, r.groups); !st) return core::make_error(st.error().message);
  return Parsed{std::move(p), std::string()};
}

// An etcd batch: the whole decoded policy, or memberships applied to the running one.
core::Expected<Parsed> parse_etcd(const ChangeRequest& r, const ChangeBase& base) {
  if (r.make_policy) {
    auto p = r.make_policy();
    if (!p) return core::make_error(p.error().message);
    return Parsed{std::move(*p), std::string()};
  }
  policy::Policy p = base.running->policy();
  for (const auto& m : r.memberships)
    if (auto st = policy::set_vm_groups(p, m.vm, m.groups); !st) return core::make_error(m.key + ": " + st.error().message);
  return Parsed{std::move(p), std::string()};
}

}  // namespace

core::Expected<PreparedChange> prepare_change(const ChangeRequest& request, const ChangeBase& base) {
  auto t0 = std::chrono::steady_clock::now();
  const config::DaemonConfig& cfg = *base.cfg;
  auto parsed = request.kind == ChangeRequest::Kind::kReload  ? parse_reload(request, cfg)
                : request.kind == ChangeRequest::Kind::kEtcd ? parse_etcd(request, base)
                                                             : parse_set_groups(request, base);
  if (!parsed) return core::make_error(parsed.error().message);
  // Validation of what the policy cannot know by itself (policy/validate.hpp, limits.hpp).
  if (auto st = policy::check_vm_ports(parsed->policy, cfg.policy_ports()); !st) return core::make_error(st.error().message);
  if (auto st = policy::check_limits(parsed->policy, cfg.limits); !st) return core::make_error(st.error().message);
  acl::BuildOptions opts;
  opts.max_size = cfg.acl_max_size;
  // A set-groups changes one VM's membership: the compiler reuses what that cannot
  // have changed (compiler::compile_membership_change, same output as a full compile).
  std::vector<std::string> changed{request.vm};
  bool membership = request.kind == ChangeRequest::Kind::kSetGroups;
  if (request.kind == ChangeRequest::Kind::kEtcd && !request.make_policy) {
    changed.clear();
    for (const auto& m : request.memberships) changed.push_back(m.vm);
    membership = true;
  }
  auto snap = runtime::Snapshot::build(std::move(parsed->policy), layout_of(cfg), base.generation, base.workers, opts,
                                       base.running, membership ? &changed : nullptr);
  if (!snap) return core::make_error(snap.error().message);
  PreparedChange c;
  c.snapshot = std::move(*snap);
  c.persisted_text = std::move(parsed->text);
  c.started = t0;
  c.finished = std::chrono::steady_clock::now();
  c.prepare_ms = std::chrono::duration<double, std::milli>(c.finished - t0).count();
  return c;
}

}  // namespace sgfw::control
