// sgfwctl: the operator's client. Thin: parses the command line (CLI11) and hands off
// to lib/ctl. Exit codes (interfaces.md): 0 ok/allow, 1 deny or rejected, 2 usage,
// 3 daemon not reachable.
#include <CLI/CLI.hpp>

#include <iostream>

#include "ctl/offline_commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sgfwctl: control and inspect the sgfw security-group firewall"};
  app.require_subcommand(1);
  std::string socket_path = "/run/sgfw/sgfwd.sock";
  bool json = false;
  app.add_option("--socket", socket_path, "control socket of the daemon");
  app.add_flag("--json", json, "machine-readable output");
  app.fallthrough();

  std::string check_file;
  auto* check = app.add_subcommand("check", "validate a policy file offline");
  check->add_option("FILE", check_file, "policy file")->required();

  sgfw::ctl::ExplainRequest ex;
  std::string batch;
  auto* explain = app.add_subcommand("explain", "the verdict a first packet would get, check by check");
  explain->add_option("--policy", ex.policy_file, "judge against this policy file (offline, no daemon)");
  explain->add_option("--batch", batch, "read one packet per line from this file ('-' = stdin)");
  explain->add_option("--icmp-type", ex.icmp_type, "ICMP type (default 8)");
  explain->add_option("--icmp-code", ex.icmp_code, "ICMP code (default 0)");
  explain->add_option("PROTO", ex.proto, "tcp | udp | icmp | IP protocol number");
  explain->add_option("SRC", ex.src, "source address[:port]");
  explain->add_option("DST", ex.dst, "destination address[:port]");

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
    if (*check) return sgfw::ctl::run_check(check_file, json, std::cout, std::cerr);
    if (*explain) {
      ex.json = json;
      ex.batch = !batch.empty();
      if (ex.batch && batch != "-") {
        std::cerr << "sgfwctl explain: --batch takes '-' (standard input)\n";
        return 2;
      }
      if (!ex.batch && (ex.proto.empty() || ex.src.empty() || ex.dst.empty())) {
        std::cerr << "sgfwctl explain: need PROTO SRC[:PORT] DST[:PORT] or --batch -\n";
        return 2;
      }
      if (ex.policy_file.empty()) {
        std::cerr << "sgfwctl: daemon not reachable at " << socket_path
                  << " (live explain needs a running sgfwd; use --policy FILE offline)\n";
        return 3;
      }
      return sgfw::ctl::run_explain_offline(ex, std::cin, std::cout, std::cerr);
    }
  } catch (const std::exception& e) {
    std::cerr << "sgfwctl: " << e.what() << '\n';
    return 1;
  }
  return 2;
}
