#include "daemon/startup_notes.hpp"

#include <grp.h>

namespace sgfw::daemon {

std::vector<std::string> control_group_notes(const config::DaemonConfig& cfg) {
  std::vector<std::string> out;
  if (!cfg.control_group_set)
    out.push_back("control_group is not set in " + cfg.file + ": using '" + cfg.control_group +
                  "' (root and its members may use the control socket)");
  if (::getgrnam(cfg.control_group.c_str()) == nullptr)
    out.push_back("group '" + cfg.control_group + "' does not exist: only root may use the control socket " +
                  cfg.control_socket + "; create it (groupadd " + cfg.control_group + ") and add operators to it "
                  "(usermod -aG " + cfg.control_group + " USER)");
  return out;
}

}  // namespace sgfw::daemon
