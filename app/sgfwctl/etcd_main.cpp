// sgfwctl-etcd: runs `sgfwctl policy push/pull` (docs/fleet.md, "policy push and pull").
// sgfwctl execs it with its own arguments, so the gRPC libraries are loaded only by the
// commands that talk to etcd. Thin: CLI11, then lib/ctl. Exit codes as sgfwctl's.
#include <CLI/CLI.hpp>

#include <iostream>

#include "ctl/policy_commands.hpp"
#include "policy_cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sgfwctl-etcd: sgfwctl policy push/pull (run by sgfwctl)"};
  app.require_subcommand(1);
  sgfw::ctl::PolicyCommandOptions o;
  o.socket = "/run/sgfw/sgfwd.sock";
  app.add_option("--socket", o.socket, "control socket of the daemon");
  app.add_flag("--json", o.json, "machine-readable output");
  app.fallthrough();
  sgfw::app::PolicyCli cli;
  sgfw::app::add_policy_commands(app, cli);
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
    o.flags = cli.flags;
    if (*cli.push) return sgfw::ctl::run_policy_push(o, cli.push_file, cli.force, std::cout, std::cerr);
    if (*cli.pull) return sgfw::ctl::run_policy_pull(o, cli.pull_file, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "sgfwctl: " << e.what() << '\n';
    return 1;
  }
  return 2;
}
