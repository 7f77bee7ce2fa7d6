// sgfwctl commands that run without a daemon: `check FILE [--config DAEMON.yaml]` and
// `explain --policy FILE ...` (SRC and DST may be VM names of the policy). Each returns the process exit code of docs/public-interface.md
// (0 ok/allow, 1 deny/rejected/line in error, 2 usage) and writes to the given
// streams. Control path; not thread-safe (initialises the EAL once per process).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

namespace sgfw::ctl {

struct ExplainRequest {
  std::string policy_file;
  std::string proto, src, dst;   // single-packet form
  std::optional<int> icmp_type, icmp_code;
  bool batch = false;            // read lines from `in` instead
  bool json = false;
};

// config_file: also check the policy against that daemon configuration (every local
// VM's port is one of its VM ports; its limits); empty: the policy alone.
int run_check(const std::string& file, const std::string& config_file, bool json, std::ostream& out,
              std::ostream& err);
int run_explain_offline(const ExplainRequest& req, std::istream& in, std::ostream& out,
                        std::ostream& err);

}  // namespace sgfw::ctl
