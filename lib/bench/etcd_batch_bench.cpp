#include "bench/etcd_batch_bench.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "bench/machine_info.hpp"
#include "config/file_access.hpp"
#include "config/policy_loader.hpp"
#include "eal/eal_session.hpp"
#include "fleet/decode.hpp"
#include "fleet/encode.hpp"
#include "follow/batch.hpp"
#include "policy/validate.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::bench {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;
constexpr std::string_view kPrefix = "/sgfw/";
constexpr std::string_view kAppliance = "bench";

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

Json summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]; };
  return Json{{"batches", v.size()}, {"median_ms", at(0.5)}, {"p99_ms", at(0.99)}, {"min_ms", v.front()},
              {"max_ms", v.back()}};
}

runtime::PortLayout layout_of(const policy::Policy& p) {
  std::set<std::string> ports;
  for (const auto& vm : p.vms)
    if (vm.is_local()) ports.insert(*vm.port);
  runtime::PortLayout l;
  l.names.assign(ports.begin(), ports.end());
  l.names.push_back("uplink");
  l.uplink = static_cast<uint16_t>(l.names.size() - 1);
  return l;
}

// VM `vm`'s value with `groups` as its securityGroups, as a put event.
etcd::Event put_groups(const policy::Vm& vm, const std::vector<std::string>& groups, int64_t revision) {
  policy::Vm changed = vm;
  changed.groups = groups;
  etcd::Event e;
  e.kv.key = fleet::key_for(kPrefix, fleet::Kind::kVm, vm.name);
  e.kv.value = fleet::encode_vm(changed, kAppliance);
  e.kv.mod_revision = revision;
  return e;
}

}  // namespace

core::Expected<Json> run_etcd_batch_bench(const EtcdBatchBenchOptions& options) {
  auto eal = eal::EalSession::init(eal::offline_args("sgfw-bench-etcd", options.memory_mb));
  if (!eal) return core::make_error(eal.error().message);
  auto text = config::read_policy_file(options.policy_file);
  if (!text) return core::make_error(text.error().message);
  auto t = Clock::now();
  auto file_policy = config::load_policy_text(*text, options.policy_file);
  const double parse_ms = ms_since(t);
  if (!file_policy) return core::make_error(file_policy.error().message);
  auto encoded = fleet::encode_policy(*file_policy, kPrefix, kAppliance);
  if (!encoded) return core::make_error(encoded.error().message);
  fleet::KeyValues map = std::move(*encoded);
  t = Clock::now();
  auto decoded = fleet::decode_policy(map, kPrefix, kAppliance);
  const double decode_ms = ms_since(t);
  if (!decoded) return core::make_error(decoded.error().message);
  const runtime::PortLayout layout = layout_of(*decoded);
  acl::BuildOptions acl_opts;
  uint64_t generation = 1;
  t = Clock::now();
  auto first = runtime::Snapshot::build(std::move(*decoded), layout, generation, 1, acl_opts);
  const double first_build_ms = ms_since(t);
  if (!first) return core::make_error(first.error().message);
  std::unique_ptr<runtime::Snapshot> running = std::move(*first);

  // The VM that changes: the first local one; its groups alternate with another VM's set.
  const policy::Policy& p0 = running->policy();
  auto local = std::find_if(p0.vms.begin(), p0.vms.end(), [](const policy::Vm& v) { return v.is_local(); });
  if (local == p0.vms.end()) return core::make_error(options.policy_file + ": no local VM");
  const policy::Vm vm = *local;
  auto other = std::find_if(p0.vms.begin(), p0.vms.end(), [&](const policy::Vm& v) { return v.groups != vm.groups; });
  if (other == p0.vms.end()) return core::make_error(options.policy_file + ": every VM has the same groups");
  const std::vector<std::string> sets[2] = {other->groups, vm.groups};

  std::vector<double> fast_ms, full_ms;
  int64_t revision = 100;
  for (unsigned i = 0; i < 2 * options.changes; ++i) {
    const bool fast = i % 2 == 0;  // alternate, so both paths see the same machine state
    std::vector<etcd::Event> events{put_groups(vm, sets[(i / 2) % 2 == 0 ? (fast ? 0 : 1) : (fast ? 1 : 0)], ++revision)};
    auto t0 = Clock::now();
    core::Expected<std::unique_ptr<runtime::Snapshot>> next = core::make_error("");
    if (fast) {
      auto changes = follow::membership_only(kPrefix, map, events);
      if (!changes) return core::make_error("the membership fast path did not take a groups-only put");
      follow::apply_events(map, events);
      policy::Policy p = running->policy();
      std::vector<std::string> changed;
      for (const auto& c : *changes) {
        if (auto st = policy::set_vm_groups(p, c.vm, c.groups); !st) return core::make_error(st.error().message);
        changed.push_back(c.vm);
      }
      next = runtime::Snapshot::build(std::move(p), layout, ++generation, 1, acl_opts, running.get(), &changed);
    } else {
      follow::apply_events(map, events);
      auto copy = std::make_shared<const fleet::KeyValues>(map);  // as the follower hands it to the builder
      auto p = fleet::decode_policy(*copy, kPrefix, kAppliance);
      if (!p) return core::make_error(p.error().message);
      next = runtime::Snapshot::build(std::move(*p), layout, ++generation, 1, acl_opts, running.get());
    }
    if (!next) return core::make_error(next.error().message);
    (fast ? fast_ms : full_ms).push_back(ms_since(t0));
    running = std::move(*next);
  }
  const MachineInfo m = machine_info();
  return Json{{"machine", Json{{"cpu", m.cpu}, {"cpus", m.cpus}, {"cpus_allowed", m.cpus_allowed}, {"hugepages", false}}},
              {"policy_file", options.policy_file},
              {"vms", running->policy().vms.size()},
              {"keys", map.size()},
              {"load", Json{{"file_parse_ms", parse_ms}, {"etcd_decode_ms", decode_ms}, {"first_build_ms", first_build_ms}}},
              {"membership_fast_path", summary(fast_ms)},
              {"full_decode", summary(full_ms)}};
}

}  // namespace sgfw::bench
