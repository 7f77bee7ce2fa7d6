// etcd_probe basic, the push part: fleet::plan_push run with lib/etcd (docs/fleet.md,
// "Limits and the push of a large policy") on a 2,000-VM policy against etcd's default
// 128-operation limit: staged behind the marker, read back equal, a watcher sees the
// marker bracket every write; then a one-key change and a guard that must fail.
#include <mutex>
#include <thread>

#include "bench/policy_generator.hpp"
#include "etcd/watch.hpp"
#include "fleet/decode.hpp"
#include "fleet/encode.hpp"
#include "fleet/push_plan.hpp"
#include "policy/policy_writer.hpp"
#include "probe_common.hpp"

namespace sgfw::probe {

namespace {

using C = etcd::Compare;
using namespace std::chrono_literals;

fleet::StoredKeys read_keys(etcd::Client& c, const std::string& prefix) {
  auto r = must(c.range_prefix(prefix), "range");
  fleet::StoredKeys out;
  for (auto& kv : r.kvs) out[kv.key] = {std::move(kv.value), kv.mod_revision};
  return out;
}

void add_step(const std::vector<fleet::Write>& step, etcd::Txn& t) {
  for (const auto& w : step) {
    t.compares.push_back({w.key, C::Target::kModRevision, C::Result::kEqual, w.expected_mod_revision});
    if (w.type == fleet::Write::Type::kPut)
      t.success.push_back({etcd::TxnOp::Type::kPut, w.key, w.value, {}});
    else
      t.success.push_back({etcd::TxnOp::Type::kDelete, w.key, {}, {}});
  }
}

}  // namespace

// The few lines `policy push` will hold: one guarded transaction, or the staged steps.
core::Expected<int64_t> run_push(etcd::Client& c, const fleet::PushPlan& plan, const std::string& prefix) {
  const std::string marker = fleet::push_marker_key(prefix);
  if (plan.empty()) return int64_t{0};
  if (!plan.staged()) {
    etcd::Txn t;
    t.compares.push_back({marker, C::Target::kVersion, C::Result::kEqual, 0});
    add_step(plan.steps[0], t);
    auto r = c.txn(t);
    if (!r) return core::make_error(r.error().message);
    if (!r->succeeded) return core::make_error("push refused: a key changed since it was read, or a push is running");
    return r->revision;
  }
  etcd::Txn open;
  open.compares.push_back({marker, C::Target::kVersion, C::Result::kEqual, 0});
  open.success.push_back({etcd::TxnOp::Type::kPut, marker, "{\"steps\":" + std::to_string(plan.steps.size()) + "}", {}});
  auto opened = c.txn(open);
  if (!opened) return core::make_error(opened.error().message);
  if (!opened->succeeded) return core::make_error("push refused: another push is running");
  int64_t revision = opened->revision;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    etcd::Txn t;
    t.compares.push_back({marker, C::Target::kModRevision, C::Result::kEqual, opened->revision});
    add_step(plan.steps[i], t);
    if (i + 1 == plan.steps.size()) t.success.push_back({etcd::TxnOp::Type::kDelete, marker, {}, {}});
    auto r = c.txn(t);
    if (!r) return core::make_error(r.error().message);
    if (!r->succeeded)
      return core::make_error("push step " + std::to_string(i + 1) + " refused: a key changed; the marker stays");
    revision = r->revision;
  }
  return revision;
}

void check_push(const std::shared_ptr<etcd::Client>& c, const std::string& base) {
  const std::string prefix = base + "fleet/";
  bench::GeneratorOptions g;
  g.vms = 2000;
  g.local_vms = 100;
  g.groups = 50;
  g.rules_per_group = 5;
  g.roles = 20;
  g.ports = 8;
  auto policy = must(bench::generate_policy(g), "generate");
  auto wanted = must(fleet::encode_policy(policy, prefix, "edge-1"), "encode");
  auto plan = must(fleet::plan_push(read_keys(*c, prefix), wanted, prefix), "plan");
  PROBE_CHECK(plan.staged() && plan.puts == wanted.size() && plan.deletes == 0, "plan: %zu steps, %zu puts",
              plan.steps.size(), plan.puts);
  int64_t start = must(c->range(prefix, ""), "revision").result.revision + 1;
  std::mutex m;
  std::vector<etcd::WatchUpdate> seen;
  auto w = must(etcd::Watch::start(c, prefix, start, [&](const etcd::WatchUpdate& u) {
    std::lock_guard lock(m);
    if (u.kind == etcd::WatchUpdate::Kind::kEvents) seen.push_back(u);
  }), "watch");
  int64_t last = must(run_push(*c, plan, prefix), "push");
  for (int i = 0; i < 500 && w->last_revision() < last; ++i) std::this_thread::sleep_for(10ms);
  w->stop();
  // The marker is the first write and its delete is in the last revision.
  const std::string marker = fleet::push_marker_key(prefix);
  size_t events = 0;
  bool first_is_marker = false, last_deletes_marker = false;
  for (const auto& u : seen) {
    for (const auto& e : u.events) {
      if (events++ == 0) first_is_marker = e.kv.key == marker && e.type == etcd::Event::Type::kPut;
      if (e.kv.mod_revision == last && e.kv.key == marker) last_deletes_marker = e.type == etcd::Event::Type::kDelete;
    }
  }
  PROBE_CHECK(events == wanted.size() + 2, "%zu events for %zu keys + the marker twice", events, wanted.size());
  PROBE_CHECK(first_is_marker && last_deletes_marker, "the marker does not bracket the push");
  PROBE_CHECK(last == start + static_cast<int64_t>(plan.steps.size()), "revisions: %lld after %zu steps from %lld",
              (long long)last, plan.steps.size(), (long long)start);
  auto stored = read_keys(*c, prefix);
  fleet::KeyValues got;
  for (const auto& [k, v] : stored) got[k] = v.value;
  PROBE_CHECK(got == wanted, "read back %zu keys, pushed %zu", got.size(), wanted.size());
  auto back = must(fleet::decode_policy(got, prefix, "edge-1"), "decode");
  auto hosted = policy;  // decoded VMs keep the appliance they were pushed for
  for (auto& vm : hosted.vms)
    if (vm.port) vm.appliance = "edge-1";
  PROBE_CHECK(policy::write_policy_yaml(back, "") == policy::write_policy_yaml(hosted, ""), "decoded policy differs");
  // The same policy again: nothing to write.
  PROBE_CHECK(must(fleet::plan_push(stored, wanted, prefix), "plan").empty(), "an unchanged push writes");
  // One VM's groups: one guarded write, one transaction.
  auto& vm = policy.vms[7];
  vm.groups = {"default-allow-ssh"};
  auto changed = must(fleet::encode_policy(policy, prefix, "edge-1"), "encode");
  auto one = must(fleet::plan_push(stored, changed, prefix), "plan");
  PROBE_CHECK(one.steps.size() == 1 && one.puts == 1 && one.deletes == 0, "set-groups: %zu steps %zu puts",
              one.steps.size(), one.puts);
  // Someone else writes that key first: the guard refuses the stale plan.
  (void)must(c->put(fleet::key_for(prefix, fleet::Kind::kVm, vm.name), fleet::encode_vm(policy.vms[8], "x")), "put");
  auto stale = run_push(*c, one, prefix);
  PROBE_CHECK(!stale && stale.error().message.rfind("push refused", 0) == 0, "a stale push was applied");
  auto fresh = must(fleet::plan_push(read_keys(*c, prefix), changed, prefix), "plan");
  (void)must(run_push(*c, fresh, prefix), "push");
  PROBE_CHECK(must(fleet::plan_push(read_keys(*c, prefix), changed, prefix), "plan").empty(), "not pushed");
  std::string runner = check_push_runner(c, base);
  std::printf("ok push keys=%zu steps=%zu %s\n", wanted.size(), plan.steps.size(), runner.c_str());
}

}  // namespace sgfw::probe
