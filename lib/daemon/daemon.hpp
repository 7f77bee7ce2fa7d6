// sgfwd's top level: load config and policy, compile, bring up EAL and ports, launch
// the workers, serve signals, stop cleanly. Control path (main lcore).
#pragma once

#include <string>

namespace sgfw::daemon {

struct Options {
  std::string config_file;
  bool check_only = false;  // --check: load and compile, print a summary, touch no device
};

// Returns the process exit code: 0 clean stop / check passed, 1 bad config or policy
// or a start-up failure (the message is printed to stderr).
int run(const Options& options);

}  // namespace sgfw::daemon
