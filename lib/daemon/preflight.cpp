#include "daemon/preflight.hpp"

#include <fstream>
#include <sstream>

#include "config/file_access.hpp"
#include "config/policy_loader.hpp"
#include "control/change_journal.hpp"
#include "control/control_plane.hpp"
#include "daemon/port_checks.hpp"
#include "daemon/startup_notes.hpp"
#include "policy/limits.hpp"
#include "policy/validate.hpp"

namespace sgfw::daemon {

core::Expected<Preflight> preflight(const std::string& config_file) {
  if (auto st = config::check_readable(config_file); !st) return core::make_error("sgfwd: " + st.error().message);
  auto cfg = config::load_daemon_config_file(config_file);
  if (!cfg) return core::make_error(cfg.error().message);
  Preflight pf;
  core::Expected<policy::Policy> pol = core::make_error("");
  if (cfg->policy_source.etcd) {  // docs/fleet.md, "Following the policy live"
    auto start = load_etcd_at_start(*cfg);
    if (!start) return core::make_error(start.error().message);
    pol = std::move(start->policy);
    pf.policy_text = std::move(start->copy_text);
    pf.etcd = std::move(*start);
  } else {
    if (auto st = config::check_readable(cfg->policy); !st)
      return core::make_error("sgfwd: policy (" + cfg->file + "): " + st.error().message);
    auto text = config::read_policy_file(cfg->policy);  // read once: what is parsed is what runs
    if (!text) return core::make_error(text.error().message);
    pf.policy_text = std::move(*text);
    pol = config::load_policy_text(pf.policy_text, cfg->policy);
    if (!pol) return core::make_error(pol.error().message);
    auto replay = control::replay_journal(control::ChangeJournal::path_for(cfg->policy),
                                          control::sha256_hex(pf.policy_text), *pol);
    if (!replay) return core::make_error("sgfwd: " + replay.error().message);
    pf.journal_applied = replay->applied;
    for (auto& n : replay->notes) pf.notes.push_back(std::move(n));
  }
  if (auto st = policy::check_vm_ports(*pol, cfg->policy_ports()); !st) return core::make_error(st.error().message);
  if (auto st = policy::check_limits(*pol, cfg->limits); !st)
    return core::make_error((pf.etcd ? cfg->policy_source.source.prefix : cfg->policy) + ": " + st.error().message);
  if (auto st = check_ports(*cfg); !st) return core::make_error(st.error().message);
  auto sock = probe_control_socket(cfg->control_socket);
  if (!sock) return core::make_error("sgfwd: " + sock.error().message);
  pf.socket = *sock;
  pf.warnings = checksum_warnings(*cfg);
  for (auto& n : control_group_notes(*cfg)) pf.notes.push_back(std::move(n));
  pf.policy = std::move(*pol);
  pf.cfg = std::move(*cfg);
  return pf;
}

}  // namespace sgfw::daemon
