// sgfwctl commands that talk to a running sgfwd over the control socket. Each returns
// the exit code of docs/public-interface.md: 0 success (explain: allow; batch: every line
// answered), 1 deny/rejected/line in error, 3 daemon not reachable.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "ctl/offline_commands.hpp"

namespace sgfw::ctl {

struct LiveOptions {
  std::string socket;
  bool json = false;
};

int run_status(const LiveOptions& o, std::ostream& out, std::ostream& err);
int run_reload(const LiveOptions& o, const std::string& policy_file, std::ostream& out, std::ostream& err);
int run_set_groups(const LiveOptions& o, const std::string& vm, const std::string& groups, std::ostream& out,
                   std::ostream& err);
int run_stats(const LiveOptions& o, const std::string& vm, std::ostream& out, std::ostream& err);
int run_flows(const LiveOptions& o, const std::string& vm, long limit, std::ostream& out, std::ostream& err);
int run_flows_flush(const LiveOptions& o, const std::string& vm, std::ostream& out, std::ostream& err);
int run_explain_live(const LiveOptions& o, const ExplainRequest& req, std::istream& in, std::ostream& out,
                     std::ostream& err);

}  // namespace sgfw::ctl
