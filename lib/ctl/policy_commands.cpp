#include "ctl/policy_commands.hpp"

#include <map>
#include <ostream>
#include <tuple>

#include "config/file_writer.hpp"
#include "config/policy_loader.hpp"
#include "core/escape.hpp"
#include "etcd/client.hpp"
#include "fleet/decode.hpp"
#include "fleet/encode.hpp"
#include "fleet/push_runner.hpp"
#include "policy/policy_writer.hpp"

namespace sgfw::ctl {

namespace {

int fail(std::ostream& err, const std::string& command, const std::string& message, int code = 1) {
  err << "sgfwctl policy " << command << ": " << message << "\n";
  return code;
}

core::Expected<std::shared_ptr<etcd::Client>> make_client(const EtcdTarget& t, int timeout_ms) {
  etcd::ClientOptions opts;
  opts.endpoints = t.endpoints;
  opts.call_timeout = std::chrono::milliseconds(timeout_ms);
  return etcd::Client::create(std::move(opts));
}

// A fleet file gives `appliance` and `port` together where it gives `appliance`: a VM
// with an appliance and no port (e.g. from an appliance's persisted copy, where the VMs
// of the others have lost their ports) would be pushed as hosted nowhere.
core::Status check_fleet_file(const policy::Policy& p, const std::string& file) {
  for (const auto& vm : p.vms) {
    if (vm.appliance && !vm.port)
      return core::make_error(core::escape_for_log(file, 300) + ": VM '" + vm.name + "' has appliance '" +
                              *vm.appliance +
                              "' but no 'port': a pushed file gives every hosted VM both (an appliance's "
                              "persisted copy lacks the other appliances' ports; push a file from policy pull)");
  }
  return {};
}

// MACs unique per (appliance, port) once every VM's appliance is resolved (a VM with a
// port and no appliance is on `appliance`): what each appliance will check when it
// decodes, here in one pass instead of a second load of the whole policy.
core::Status check_macs_resolved(const policy::Policy& p, const std::string& appliance, const std::string& file) {
  std::map<std::tuple<std::string, std::string, core::Mac>, const policy::Vm*> owner;
  for (const auto& vm : p.vms) {
    if (!vm.port || !vm.mac) continue;
    const std::string& app = vm.appliance ? *vm.appliance : appliance;
    auto [it, fresh] = owner.emplace(std::make_tuple(app, *vm.port, *vm.mac), &vm);
    if (!fresh)
      return core::make_error(core::escape_for_log(file, 300) + ": VM '" + vm.name + "': duplicate MAC '" +
                              core::to_string(*vm.mac) + "' on port '" + *vm.port + "' of appliance '" + app +
                              "' (also VM '" + it->second->name + "')");
  }
  return {};
}

}  // namespace

int run_policy_push(const PolicyCommandOptions& o, const std::string& file, bool force, std::ostream& out,
                    std::ostream& err) {
  if (auto usage = flags_usage_error(o.flags, true); !usage.empty()) return fail(err, "push", usage, 2);
  // The file first: a bad file is refused before etcd or the daemon is asked anything.
  auto policy = config::load_policy_file(file);
  if (!policy) return fail(err, "push", policy.error().message);
  if (auto st = check_fleet_file(*policy, file); !st) return fail(err, "push", st.error().message);
  auto target = resolve_target(o.flags, o.socket, true);
  if (target.code != 0) return fail(err, "push", target.error, target.code);
  const EtcdTarget& t = target.target;
  auto wanted = fleet::encode_policy(*policy, t.prefix, t.appliance);
  if (!wanted) return fail(err, "push", core::escape_for_log(file, 300) + ": " + wanted.error().message);
  if (auto st = check_macs_resolved(*policy, t.appliance, file); !st) return fail(err, "push", st.error().message);
  auto client = make_client(t, o.timeout_ms);
  if (!client) return fail(err, "push", client.error().message);
  fleet::PushOptions po;
  po.force = force;
  auto r = fleet::push_keys(**client, *wanted, t.prefix, po);
  if (!r) return fail(err, "push", r.error().message);
  if (r->stale_marker_revision != 0 && !o.json)
    out << "removed the stale " << fleet::push_marker_key(t.prefix) << " (revision " << r->stale_marker_revision
        << ")\n";
  if (o.json) {
    Json j;
    j["prefix"] = t.prefix;
    j["revision"] = r->revision;
    j["puts"] = r->puts;
    j["deletes"] = r->deletes;
    j["unchanged"] = r->unchanged;
    j["staged"] = r->staged;
    j["transactions"] = r->transactions;
    j["attempts"] = r->attempts;
    j["stale_marker_removed"] = r->stale_marker_revision != 0;
    out << j.dump() << "\n";
  } else {
    out << "pushed to " << t.prefix << " at revision " << r->revision << ": " << r->puts << " puts, " << r->deletes
        << " deletes, " << r->unchanged << " unchanged\n";
  }
  return 0;
}

int run_policy_pull(const PolicyCommandOptions& o, const std::string& file, std::ostream& out, std::ostream& err) {
  if (file.empty()) return fail(err, "pull", "FILE must not be empty", 2);
  auto target = resolve_target(o.flags, o.socket, false);
  if (target.code != 0) return fail(err, "pull", target.error, target.code);
  const EtcdTarget& t = target.target;
  auto client = make_client(t, o.timeout_ms);
  if (!client) return fail(err, "pull", client.error().message);
  auto snap = fleet::read_stored(**client, t.prefix);
  if (!snap) return fail(err, "pull", snap.error().message);
  const std::string marker = fleet::push_marker_key(t.prefix);
  if (auto m = snap->keys.find(marker); m != snap->keys.end())
    return fail(err, "pull",
                "a push is in progress: " + core::escape_for_log(marker, 300) + " exists (revision " +
                    std::to_string(m->second.mod_revision) +
                    "); pull when it is done (or, if its pusher died, after policy push --force)");
  fleet::KeyValues kvs;
  for (auto& [k, v] : snap->keys) kvs.emplace(k, std::move(v.value));
  auto policy = fleet::decode_fleet_policy(kvs, t.prefix);
  if (!policy)
    return fail(err, "pull", "the policy under " + t.prefix + " at revision " + std::to_string(snap->revision) +
                                 " is not valid: " + policy.error().message);
  std::string header = "pulled from etcd " + t.prefix + " at revision " + std::to_string(snap->revision) +
                       " by sgfwctl policy pull (docs/fleet.md)";
  if (auto st = config::write_file_atomically(file, policy::write_policy_yaml(*policy, header)); !st)
    return fail(err, "pull", st.error().message);
  size_t user_groups = 0;
  for (const auto& g : policy->groups) user_groups += !g.builtin;
  if (o.json) {
    Json j;
    j["prefix"] = t.prefix;
    j["revision"] = snap->revision;
    j["file"] = file;
    j["subnets"] = policy->subnets.size();
    j["security_groups"] = user_groups;
    j["vms"] = policy->vms.size();
    out << j.dump() << "\n";
  } else {
    out << "pulled " << t.prefix << " at revision " << snap->revision << " into " << file << ": "
        << policy->subnets.size() << " subnets, " << user_groups << " security groups, " << policy->vms.size()
        << " VMs\n";
  }
  return 0;
}

}  // namespace sgfw::ctl
