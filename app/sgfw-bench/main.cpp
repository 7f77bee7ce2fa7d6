// sgfw-bench: the performance harness. Thin: CLI11 wiring only; the work is in
// lib/bench. Each subcommand is one add_* function returning its runner, so adding one
// (e.g. `traffic`) touches nothing else. Exit codes: 0 ok, 1 failure, 2 usage.
#include <CLI/CLI.hpp>

#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <vector>

#include "bench/compile_bench.hpp"
#include "bench/etcd_batch_bench.hpp"
#include "bench/flow_table_bench.hpp"
#include "bench/policy_generator.hpp"
#include "bench/traffic_bench.hpp"

namespace {

struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command add_gen_policy(CLI::App& root) {
  auto* sub = root.add_subcommand("gen-policy", "write a synthetic policy YAML (deterministic per seed)");
  auto o = std::make_shared<sgfw::bench::GeneratorOptions>();
  auto out = std::make_shared<std::string>();
  sub->add_option("--vms", o->vms, "VMs in total")->capture_default_str();
  sub->add_option("--local-vms", o->local_vms, "VMs with a port on this appliance")->capture_default_str();
  sub->add_option("--groups", o->groups, "security groups (built-ins not counted)")->capture_default_str();
  sub->add_option("--rules-per-group", o->rules_per_group, "rules in each group")->capture_default_str();
  sub->add_option("--groups-per-vm", o->groups_per_vm, "groups each VM is in")->capture_default_str();
  sub->add_option("--roles", o->roles, "distinct group sets (tiers); each VM has one")->capture_default_str();
  sub->add_option("--group-ref-share", o->group_ref_share, "fraction of rules with a securityGroupRef remote")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "random seed")->capture_default_str();
  sub->add_option("--ports", o->ports, "appliance port names shared by local VMs")->capture_default_str();
  sub->add_option("--subnets", o->subnets, "subnets the VM addresses are spread over")->capture_default_str();
  auto family = std::make_shared<std::string>("4");
  sub->add_option("--family", *family, "VM address families: 4, 6 or dual")->capture_default_str();
  sub->add_option("--out", *out, "write to FILE instead of standard output");
  return {sub, [o, out, family]() {
            auto fam = sgfw::bench::parse_families(*family);
            if (!fam) {
              std::cerr << "sgfw-bench gen-policy: --family must be 4, 6 or dual\n";
              return 2;
            }
            o->family = *fam;
            auto yaml = sgfw::bench::generate_policy_yaml(*o);
            if (!yaml) {
              std::cerr << "sgfw-bench " << yaml.error().message << '\n';
              return 2;
            }
            if (out->empty()) {
              std::cout << *yaml;
              return std::cout.flush() ? 0 : 1;
            }
            std::ofstream f(*out, std::ios::binary | std::ios::trunc);
            if (!(f << *yaml) || !f.flush()) {
              std::cerr << "sgfw-bench gen-policy: cannot write " << *out << '\n';
              return 1;
            }
            return 0;
          }};
}

Command add_compile(CLI::App& root) {
  auto* sub = root.add_subcommand("compile", "time parse, compile and rte_acl build of a policy file");
  auto o = std::make_shared<sgfw::bench::CompileBenchOptions>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("FILE", o->policy_file, "policy file")->required();
  sub->add_option("--memory-mb", o->memory_mb, "EAL memory (no hugepages)")->capture_default_str();
  sub->add_flag("--json", *json, "one JSON object instead of the table");
  return {sub, [o, json]() {
            auto r = sgfw::bench::run_compile_bench(*o);
            if (!r) {
              std::cerr << "sgfw-bench compile: " << r.error().message << '\n';
              if (r.error().message.find("Cannot allocate memory") != std::string::npos)
                std::cerr << "sgfw-bench compile: the EAL heap is full; raise --memory-mb\n";
              return 1;
            }
            std::cout << (*json ? sgfw::bench::to_json(*r) + "\n" : sgfw::bench::to_table(*r));
            return 0;
          }};
}

Command add_etcd_batch(CLI::App& root) {
  auto* sub = root.add_subcommand("etcd-batch", "time applying an etcd batch: membership fast path vs full decode");
  auto o = std::make_shared<sgfw::bench::EtcdBatchBenchOptions>();
  sub->add_option("FILE", o->policy_file, "policy file (encoded as etcd keys)")->required();
  sub->add_option("--changes", o->changes, "batches per path")->capture_default_str();
  sub->add_option("--memory-mb", o->memory_mb, "EAL memory (no hugepages)")->capture_default_str();
  return {sub, [o]() {
            auto r = sgfw::bench::run_etcd_batch_bench(*o);
            if (!r) {
              std::cerr << "sgfw-bench etcd-batch: " << r.error().message << '\n';
              return 1;
            }
            std::cout << r->dump(2) << "\n";
            return 0;
          }};
}

Command add_flow_table(CLI::App& root) {
  auto* sub = root.add_subcommand("flow-table", "connection-table insert rate with one and two writer threads, and lookup rate");
  auto o = std::make_shared<sgfw::bench::FlowTableBenchOptions>();
  sub->add_option("--connections", o->connections, "connections inserted per run")->capture_default_str();
  sub->add_option("--repeats", o->repeats, "repeats (median, min, max)")->capture_default_str();
  sub->add_option("--family", o->family, "address family: 4 (FlowTable) or 6 (FlowTable6)")
      ->check(CLI::IsMember({4u, 6u}))
      ->capture_default_str();
  return {sub, [o]() {
            auto r = sgfw::bench::run_flow_table_bench(*o);
            if (!r) {
              std::cerr << "sgfw-bench flow-table: " << r.error().message << '\n';
              return 1;
            }
            std::cout << r->dump(2) << "\n";
            return 0;
          }};
}

Command add_traffic(CLI::App& root) {
  auto* sub = root.add_subcommand("traffic", "cycles per packet through the real worker pipeline");
  auto o = std::make_shared<sgfw::bench::TrafficOptions>();
  auto json = std::make_shared<bool>(false);
  auto scenarios = std::make_shared<std::vector<std::string>>();
  sub->add_option("--scenario", *scenarios, "null, established, new, deny, deny-scan, mixed (repeatable; default all but deny-scan)");
  sub->add_option("--vms", o->vms, "VMs (e.g. 1, 16, 256)")->capture_default_str();
  sub->add_option("--rules", o->rules_per_vm, "rules per VM (e.g. 10, 100, 1000, 10000)")->capture_default_str();
  sub->add_option("--connections", o->connections, "live connections (e.g. 1000, 100000, 1000000)")
      ->capture_default_str();
  sub->add_option("--packet-size", o->packet_size, "frame bytes without FCS")->capture_default_str();
  sub->add_option("--family", o->family, "address family of the VMs and frames: 4 or 6")
      ->check(CLI::IsMember({4u, 6u}))
      ->capture_default_str();
  sub->add_option("--classify", o->classify, "rte_acl method: default, scalar, sse, avx2, avx512x16, avx512x32")
      ->capture_default_str();
  sub->add_option("--repeats", o->repeats, "repeats (median, min, max reported)")->capture_default_str();
  sub->add_option("--passes", o->passes, "passes over the packet set per repeat")->capture_default_str();
  sub->add_option("--memory-mb", o->memory_mb, "EAL memory")->capture_default_str();
  sub->add_flag("--hugepages", o->hugepages, "use reserved 2 MiB hugepages instead of --no-huge");
  sub->add_flag("--logs", o->logs, "connection and drop logs on (a log ring, end hooks, a writer to /dev/null)");
  sub->add_flag("--no-classify-cache", o->no_classify_cache, "rule checks without the workers' classification cache");
  sub->add_flag("--json", *json, "one JSON object (docs/public-interface.md) instead of the table");
  return {sub, [sub, o, json, scenarios]() {
            bool defaults = sub->count("--vms") + sub->count("--rules") + sub->count("--connections") +
                                sub->count("--packet-size") + sub->count("--scenario") == 0;
            if (!scenarios->empty()) o->scenarios = *scenarios;
            o->extra_1m = defaults;  // the default run adds `established` at 1M connections
            if (defaults) o->memory_mb = std::max(o->memory_mb, 4096u);
            auto r = sgfw::bench::run_traffic_bench(*o);
            if (!r) {
              std::cerr << "sgfw-bench traffic: " << r.error().message << '\n';
              return 1;
            }
            std::cout << (*json ? r->dump() + "\n" : sgfw::bench::traffic_table(*r));
            return 0;
          }};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sgfw-bench: the sgfw performance harness"};
  app.require_subcommand(1);
  std::vector<Command> commands;
  commands.push_back(add_gen_policy(app));
  commands.push_back(add_compile(app));
  commands.push_back(add_traffic(app));
  commands.push_back(add_flow_table(app));
  commands.push_back(add_etcd_batch(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  try {
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const std::exception& e) {
    std::cerr << "sgfw-bench: " << e.what() << '\n';
    return 1;
  }
  return 2;
}
