#include "bench/compile_bench.hpp"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>

#include "acl/policy_tables.hpp"
#include "compiler/compiler.hpp"
#include "config/policy_loader.hpp"
#include "eal/eal_session.hpp"

namespace sgfw::bench {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

size_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<size_t>(ru.ru_maxrss) * 1024;  // Linux: KiB
}

}  // namespace

core::Expected<CompileReport> run_compile_bench(const CompileBenchOptions& options) {
  CompileReport r;
  r.policy_file = options.policy_file;
  r.machine = machine_info();
  r.eal_memory_mb = options.memory_mb;

  double cpu0 = thread_cpu_s();
  compiler::CompiledPolicy compiled;
  {  // the model is freed before the build, as in the daemon
    auto t = Clock::now();
    auto policy = config::load_policy_file(options.policy_file);
    r.parse_s = seconds_since(t);
    if (!policy) return core::make_error(policy.error().message);

    t = Clock::now();
    compiled = compiler::compile(*policy);
    r.compile_s = seconds_since(t);

    r.vms = policy->vms.size();
    for (const auto& vm : policy->vms) {
      r.local_vms += vm.is_local();
      r.vms_ipv4 += std::any_of(vm.ips.begin(), vm.ips.end(), [](const core::IpAddress& a) { return a.is_v4(); });
      r.vms_ipv6 += std::any_of(vm.ips.begin(), vm.ips.end(), [](const core::IpAddress& a) { return a.is_v6(); });
    }
    r.groups = policy->groups.size();
    for (const auto& g : policy->groups) {
      r.policy_rules += g.rules.size();
      for (const auto& rule : g.rules)
        r.group_ref_rules += rule.remote.kind == policy::Remote::Kind::kGroup;
    }
  }
  double cpu1 = thread_cpu_s();
  r.peak_rss_before_eal_bytes = peak_rss_bytes();
  r.classes = compiled.class_groups.empty() ? 0 : compiled.class_groups.size() - 1;
  r.contexts = compiled.images.size();
  r.acl_rules = compiled.acl_rule_count();  // the IPv4 images
  r.contexts6 = compiled.images6.size();
  for (const auto& img : compiled.images6) r.acl_rules6 += img.rules.size();

  auto t = Clock::now();
  auto eal = eal::EalSession::init(eal::offline_args("sgfw-bench", options.memory_mb));
  r.eal_init_s = seconds_since(t);
  if (!eal) return core::make_error(eal.error().message);

  double cpu2 = thread_cpu_s();
  t = Clock::now();
  {
    auto tables = acl::PolicyTables::build(std::move(compiled), {});
    r.acl_build_s = seconds_since(t);
    r.cpu_s = (cpu1 - cpu0) + (thread_cpu_s() - cpu2);
    if (!tables) return core::make_error(tables.error().message);
    r.dpdk_heap_bytes = tables->dpdk_bytes();
  }  // tables freed before the EAL is cleaned up
  r.peak_rss_bytes = peak_rss_bytes();
  return r;
}

}  // namespace sgfw::bench
