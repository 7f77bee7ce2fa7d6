// The `policy push` / `policy pull` command lines (docs/fleet.md, "policy push and
// pull"), shared by sgfwctl (which parses them for usage errors and --help) and
// sgfwctl-etcd (which runs them: the only binary that links gRPC, so the other sgfwctl
// commands start as fast as before, docs/performance.md "sgfwctl start-up").
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "ctl/etcd_target.hpp"

namespace sgfw::app {

struct PolicyCli {
  sgfw::ctl::EtcdFlags flags;
  std::string push_file, pull_file;
  bool force = false;
  CLI::App* push = nullptr;
  CLI::App* pull = nullptr;
};

// Adds `policy {push,pull}` to `app`; `cli` must outlive the parse.
inline void add_policy_commands(CLI::App& app, PolicyCli& cli) {
  auto* policy = app.add_subcommand("policy", "the fleet policy in etcd (docs/fleet.md)");
  policy->require_subcommand(1);
  auto add_etcd_flags = [&cli](CLI::App* c) {
    c->add_option("--endpoints", cli.flags.endpoints, "etcd endpoints URL[,URL...] (default: sgfwd's)");
    c->add_option("--prefix", cli.flags.prefix, "the fleet's key prefix, e.g. /sgfw/ (default: sgfwd's)");
  };
  cli.push = policy->add_subcommand("push", "write a policy file into the etcd prefix (only what changed)");
  cli.push->add_option("FILE", cli.push_file, "policy file")->required();
  cli.push->add_flag("--force", cli.force, "remove a push marker left by a pusher that died, then push");
  add_etcd_flags(cli.push);
  cli.push->add_option("--appliance", cli.flags.appliance, "the pushing appliance's name (default: sgfwd's)");
  cli.pull = policy->add_subcommand("pull", "write the etcd prefix's policy (every VM, every appliance) to FILE");
  cli.pull->add_option("FILE", cli.pull_file, "policy file to write (replaced atomically)")->required();
  add_etcd_flags(cli.pull);
  cli.pull->add_option("--appliance", cli.flags.appliance, "accepted for symmetry with push; not needed");
}

}  // namespace sgfw::app
