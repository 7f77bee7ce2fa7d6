// sgfwctl: the operator's client. Thin: parses the command line (CLI11) and hands off
// to lib/ctl. Exit codes (docs/public-interface.md): 0 ok/allow, 1 deny or rejected, 2 usage,
// 3 daemon not reachable.
#include <CLI/CLI.hpp>

#include <iostream>

#include "ctl/live_commands.hpp"
#include "ctl/offline_commands.hpp"
#include "ctl/helper_exec.hpp"
#include "ctl/tap_commands.hpp"
#include "explain/tuple_text.hpp"
#include "policy_cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sgfwctl: control and inspect the sgfw security-group firewall"};
  app.require_subcommand(1);
  sgfw::ctl::LiveOptions live{"/run/sgfw/sgfwd.sock", false};
  app.add_option("--socket", live.socket, "control socket of the daemon");
  app.add_flag("--json", live.json, "machine-readable output");
  app.fallthrough();

  auto* status = app.add_subcommand("status", "generation, policy, ports, workers, connection table");

  std::string reload_file;
  auto* reload = app.add_subcommand("reload", "re-read the policy file (or send --policy FILE) and swap it in");
  reload->add_option("--policy", reload_file, "send this file's content (read with your permissions)");

  std::string vm_name, vm_groups;
  auto* vm = app.add_subcommand("vm", "change one VM");
  vm->require_subcommand(1);
  auto* set_groups = vm->add_subcommand("set-groups", "set a VM's security groups (comma-separated, '-' for none)");
  set_groups->add_option("VM", vm_name, "VM name")->required();
  set_groups->add_option("GROUPS", vm_groups, "GROUP[,GROUP...] or -")->required();

  std::string stats_vm;
  auto* stats = app.add_subcommand("stats", "counters per port, VM and rule");
  stats->add_option("--vm", stats_vm, "only this VM");

  std::string flows_vm;
  long flows_limit = -1;
  auto* flows = app.add_subcommand("flows", "live connections");
  flows->add_option("--vm", flows_vm, "only this VM's connections");
  flows->add_option("--limit", flows_limit, "at most N connections (N >= 0)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
              return "must be a whole number of connections, 0 or more (got '" + v + "')";
            return "";
          },
          "N>=0"));
  std::string flush_vm;
  auto* flush = flows->add_subcommand("flush", "remove live connections now");
  flush->add_option("--vm", flush_vm, "only this VM's connections");

  std::string check_file, check_config;
  auto* check = app.add_subcommand("check", "validate a policy file offline");
  check->add_option("FILE", check_file, "policy file")->required();
  check->add_option("--config", check_config, "also check the VMs' ports and the limits against this sgfwd configuration");

  sgfw::ctl::ExplainRequest ex;
  std::string batch;
  auto* explain = app.add_subcommand("explain", "the verdict a first packet would get, check by check");
  explain->add_option("--policy", ex.policy_file, "judge against this policy file (offline, no daemon)");
  explain->add_option("--batch", batch, "read one packet per line from standard input ('-')");
  explain->add_option("--icmp-type", ex.icmp_type, "ICMP type (default 8)");
  explain->add_option("--icmp-code", ex.icmp_code, "ICMP code (default 0)");
  explain->add_option("PROTO", ex.proto, "tcp | udp | icmp | IP protocol number");
  explain->add_option("SRC", ex.src, "source address or VM name[:port]");
  explain->add_option("DST", ex.dst, "destination address or VM name[:port]");
  std::string type_code;
  explain->add_option("TYPE/CODE", type_code, "ICMP type/code, e.g. 3/4 (as in --batch)");

  // docs/fleet.md, "policy push and pull": parsed here (usage, --help), run by the
  // helper sgfwctl-etcd (ctl/helper_exec.hpp).
  sgfw::app::PolicyCli policy_cli;
  sgfw::app::add_policy_commands(app, policy_cli);

  sgfw::ctl::CaptureOptions cap;
  auto* capture = app.add_subcommand("capture", "write matching packets (or only dropped ones) to a pcapng file");
  capture->add_option("--vm", cap.vm, "packets from or to this local VM");
  capture->add_option("--port", cap.port, "packets received on this port");
  capture->add_flag("--drops", cap.drops, "only dropped packets, the reason as the packet comment");
  capture->add_option("--count", cap.count, "stop after N packets (1-10000, default 100)");
  capture->add_option("--timeout", cap.timeout, "stop after S seconds (1-3600, default 60)");
  capture->add_option("-w", cap.file, "pcapng file to write (created with your permissions)")->required();

  sgfw::ctl::TraceOptions tr;
  auto* trace = app.add_subcommand("trace", "follow the next N packets of a tuple through every stage");
  trace->add_option("PROTO", tr.proto, "tcp | udp | icmp | IP protocol number")->required();
  trace->add_option("SRC", tr.src, "address[:port] (no port: any)")->required();
  trace->add_option("DST", tr.dst, "address[:port]")->required();
  trace->add_option("--icmp-type", tr.icmp_type, "ICMP type (default 8)");
  trace->add_option("--icmp-code", tr.icmp_code, "ICMP code (default 0)");
  trace->add_option("--count", tr.count, "follow N packets (1-1000, default 10)");
  trace->add_option("--timeout", tr.timeout, "stop after S seconds (1-3600, default 60)");

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
    using namespace sgfw::ctl;
    if (*check) return run_check(check_file, check_config, live.json, std::cout, std::cerr);
    if (*status) return run_status(live, std::cout, std::cerr);
    if (*reload) return run_reload(live, reload_file, std::cout, std::cerr);
    if (*set_groups) return run_set_groups(live, vm_name, vm_groups, std::cout, std::cerr);
    if (*stats) return run_stats(live, stats_vm, std::cout, std::cerr);
    if (*flush) return run_flows_flush(live, flush_vm, std::cout, std::cerr);
    if (*flows) return run_flows(live, flows_vm, flows_limit, std::cout, std::cerr);
    if (*capture) return run_capture(live, cap, std::cout, std::cerr);
    if (*policy_cli.push || *policy_cli.pull) return exec_etcd_helper(SGFW_LIBEXEC_DIR, argc, argv, std::cerr);
    if (*trace) return run_trace(live, tr, std::cout, std::cerr);
    if (*explain) {
      ex.json = live.json;
      ex.batch = !batch.empty();
      if (ex.batch && batch != "-") {
        std::cerr << "sgfwctl explain: --batch takes '-' (standard input)\n";
        return 2;
      }
      if (!ex.batch && (ex.proto.empty() || ex.src.empty() || ex.dst.empty())) {
        std::cerr << "sgfwctl explain: need PROTO SRC[:PORT] DST[:PORT] [TYPE/CODE] or --batch -\n";
        return 2;
      }
      if (!type_code.empty()) {
        auto tc = sgfw::explain::parse_type_code(type_code);
        if (!tc) {
          std::cerr << "sgfwctl explain: " << tc.error().message << " (expected TYPE/CODE, e.g. 3/4)\n";
          return 2;
        }
        if (ex.icmp_type || ex.icmp_code) {
          std::cerr << "sgfwctl explain: give TYPE/CODE or --icmp-type/--icmp-code, not both\n";
          return 2;
        }
        ex.icmp_type = tc->first;
        ex.icmp_code = tc->second;
      }
      if (ex.policy_file.empty()) return run_explain_live(live, ex, std::cin, std::cout, std::cerr);
      return run_explain_offline(ex, std::cin, std::cout, std::cerr);
    }
  } catch (const std::exception& e) {
    std::cerr << "sgfwctl: " << e.what() << '\n';
    return 1;
  }
  return 2;
}
