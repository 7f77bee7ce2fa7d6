// The figures of one compile benchmark run (sgfw-bench compile) and their two forms:
// a human table and one JSON object. Field meanings: docs/performance.md. Thread-safety:
// plain values and pure functions.
#pragma once

#include <cstddef>
#include <string>

#include "bench/machine_info.hpp"

namespace sgfw::bench {

struct CompileReport {
  std::string policy_file;
  MachineInfo machine;
  unsigned eal_memory_mb = 0;

  // The policy and what it compiled to.
  size_t vms = 0;
  size_t local_vms = 0;
  size_t groups = 0;           // built-ins included
  size_t policy_rules = 0;     // rules in all groups
  size_t group_ref_rules = 0;  // of which with a securityGroupRef remote
  size_t classes = 0;          // distinct effective-group sets (class 0, "no VM", excluded)
  size_t contexts = 0;         // distinct IPv4 rule images = IPv4 rte_acl contexts
  size_t acl_rules = 0;        // rte_acl rules over the IPv4 contexts
  size_t contexts6 = 0;        // the same for IPv6 (0 for an IPv4-only policy)
  size_t acl_rules6 = 0;
  size_t vms_ipv4 = 0;         // VMs with at least one IPv4 address
  size_t vms_ipv6 = 0;         // VMs with at least one IPv6 address (both: dual stack)

  // Wall-clock seconds per phase, in the order run.
  double parse_s = 0;      // config::load_policy_file
  double compile_s = 0;    // compiler::compile
  double eal_init_s = 0;   // rte_eal_init (not part of the compile)
  double acl_build_s = 0;  // acl::PolicyTables::build
  double cpu_s = 0;        // main-thread CPU time of parse + compile + build

  size_t peak_rss_before_eal_bytes = 0;  // ru_maxrss after parse and compile
  size_t peak_rss_bytes = 0;             // ru_maxrss at the end
  size_t dpdk_heap_bytes = 0;            // PolicyTables::dpdk_bytes

  [[nodiscard]] double total_s() const { return parse_s + compile_s + acl_build_s; }
};

[[nodiscard]] std::string to_table(const CompileReport& r);
// One line, no trailing newline.
[[nodiscard]] std::string to_json(const CompileReport& r);

}  // namespace sgfw::bench
