// Lines sgfwd logs at start about settings an operator may not know were taken by
// default (docs/configuration.md): a missing control_group, a group that does not exist.
// Control path; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "config/daemon_config.hpp"

namespace sgfw::daemon {

[[nodiscard]] std::vector<std::string> control_group_notes(const config::DaemonConfig& cfg);

}  // namespace sgfw::daemon
