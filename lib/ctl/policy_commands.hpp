// `sgfwctl policy push FILE [--force]` and `sgfwctl policy pull FILE` (docs/fleet.md,
// "policy push and pull"): sgfwctl talks to etcd itself with lib/etcd; the daemon is
// asked only where etcd is, when the flags do not say. Each returns the exit code of
// docs/public-interface.md: 0 done, 1 refused (bad file, etcd error, a push in
// progress, guards that kept failing), 2 usage, 3 daemon not reachable. Control path;
// not thread-safe (one command per process). Never throws.
#pragma once

#include <iosfwd>
#include <string>

#include "ctl/etcd_target.hpp"

namespace sgfw::ctl {

struct PolicyCommandOptions {
  std::string socket;  // asked for `status` when the flags are not given
  bool json = false;   // one JSON object instead of the text line
  EtcdFlags flags;
  int timeout_ms = 5000;  // per etcd call (lib/etcd ClientOptions::call_timeout)
};

// Loads and validates FILE (the policy loader; its ports are checked by each appliance,
// not here), encodes it (VMs with a port and no `appliance` get the target's appliance),
// pushes the difference. Prints "pushed to PREFIX at revision R: P puts, D deletes, U
// unchanged". `force`: a PREFIX meta/push left by a dead pusher is removed first.
int run_policy_push(const PolicyCommandOptions& o, const std::string& file, bool force, std::ostream& out,
                    std::ostream& err);

// Reads every key under the prefix at one revision and writes the fleet view (every VM
// with its `appliance` and `port`) to FILE, replacing it atomically. Refused while a
// push is in progress (PREFIX meta/push exists). Prints "pulled PREFIX at revision R
// into FILE: S subnets, G security groups, V VMs".
int run_policy_pull(const PolicyCommandOptions& o, const std::string& file, std::ostream& out, std::ostream& err);

}  // namespace sgfw::ctl
