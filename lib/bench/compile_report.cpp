#include "bench/compile_report.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace sgfw::bench {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string mib(size_t bytes) { return fmt("%.1f MiB", static_cast<double>(bytes) / (1 << 20)); }

std::string row(std::string_view label, const std::string& value) {
  std::string s(label);
  s.resize(std::max<size_t>(s.size() + 1, 22), ' ');
  return s + value + "\n";
}

}  // namespace

std::string to_table(const CompileReport& r) {
  double share = r.policy_rules ? 100.0 * static_cast<double>(r.group_ref_rules) /
                                      static_cast<double>(r.policy_rules)
                                : 0.0;
  std::string t;
  t += row("policy", r.policy_file);
  t += row("machine", r.machine.cpu + ", " + std::to_string(r.machine.cpus) + " CPUs (" +
                          std::to_string(r.machine.cpus_allowed) + " allowed), EAL --no-huge -m " +
                          std::to_string(r.eal_memory_mb));
  t += row("VMs", std::to_string(r.vms) + " (" + std::to_string(r.local_vms) + " local)");
  t += row("security groups", std::to_string(r.groups) + " (incl. 3 built-in)");
  t += row("policy rules", std::to_string(r.policy_rules) + " (" + fmt("%.1f", share) +
                               "% group references)");
  t += row("classes", std::to_string(r.classes) + " (distinct group sets)");
  t += row("VM families", std::to_string(r.vms_ipv4) + " with IPv4, " + std::to_string(r.vms_ipv6) + " with IPv6");
  t += row("contexts", std::to_string(r.contexts) + " IPv4 + " + std::to_string(r.contexts6) +
                           " IPv6 (distinct rule images)");
  t += row("ACL rules", std::to_string(r.acl_rules) + " IPv4 + " + std::to_string(r.acl_rules6) +
                            " IPv6 (over all contexts)");
  t += row("parse", fmt("%.3f s", r.parse_s));
  t += row("compile", fmt("%.3f s", r.compile_s));
  t += row("rte_acl build", fmt("%.3f s", r.acl_build_s));
  t += row("total", fmt("%.3f s", r.total_s()) + fmt(" (CPU %.3f s, one thread)", r.cpu_s));
  t += row("EAL init", fmt("%.3f s (not in total)", r.eal_init_s));
  t += row("peak RSS", mib(r.peak_rss_bytes) + " (before EAL init: " +
                           mib(r.peak_rss_before_eal_bytes) + ")");
  t += row("DPDK heap", mib(r.dpdk_heap_bytes));
  return t;
}

std::string to_json(const CompileReport& r) {
  nlohmann::ordered_json j;
  j["machine"] = {{"cpu", r.machine.cpu}, {"cpus", r.machine.cpus},
                  {"cpus_allowed", r.machine.cpus_allowed}, {"hugepages", false},
                  {"eal_memory_mb", r.eal_memory_mb}};
  j["policy"] = r.policy_file;
  j["vms"] = r.vms;
  j["local_vms"] = r.local_vms;
  j["groups"] = r.groups;
  j["policy_rules"] = r.policy_rules;
  j["group_ref_rules"] = r.group_ref_rules;
  j["classes"] = r.classes;
  j["contexts"] = r.contexts;
  j["acl_rules"] = r.acl_rules;
  j["contexts6"] = r.contexts6;
  j["acl_rules6"] = r.acl_rules6;
  j["vms_ipv4"] = r.vms_ipv4;
  j["vms_ipv6"] = r.vms_ipv6;
  j["parse_s"] = r.parse_s;
  j["compile_s"] = r.compile_s;
  j["acl_build_s"] = r.acl_build_s;
  j["total_s"] = r.total_s();
  j["cpu_s"] = r.cpu_s;
  j["eal_init_s"] = r.eal_init_s;
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  j["peak_rss_before_eal_bytes"] = r.peak_rss_before_eal_bytes;
  j["dpdk_heap_bytes"] = r.dpdk_heap_bytes;
  return j.dump();
}

}  // namespace sgfw::bench
