#include "ctl/offline_commands.hpp"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "acl/policy_tables.hpp"
#include "compiler/compiler.hpp"
#include "config/daemon_config.hpp"
#include "config/file_access.hpp"
#include "config/policy_loader.hpp"
#include "eal/eal_session.hpp"
#include "explain/batch.hpp"
#include "explain/tuple_text.hpp"
#include "explain/verdict_format.hpp"
#include "report/plural.hpp"

namespace sgfw::ctl {

namespace {

core::Expected<policy::Policy> load_policy(const std::string& file) {
  if (auto st = config::check_readable(file); !st) return core::make_error(st.error().message);
  return config::load_policy_file(file);
}

// The policy checked against the daemon configuration's ports.
core::Status check_against_config(const policy::Policy& p, const std::string& file, const std::string& config_file) {
  if (auto st = config::check_readable(config_file); !st) return st;
  auto cfg = config::load_daemon_config_file(config_file);
  if (!cfg) return core::make_error(cfg.error().message);
  if (auto st = policy::check_vm_ports(p, cfg->policy_ports()); !st) return st;
  if (auto st = policy::check_limits(p, cfg->limits); !st)
    return core::make_error(file + ": " + st.error().message + " (limits of " + config_file + ")");
  return {};
}

}  // namespace

int run_check(const std::string& file, const std::string& config_file, bool json, std::ostream& out,
              std::ostream& err) {
  auto p = load_policy(file);
  core::Status st;
  if (!p) st = core::make_error(p.error().message);
  else if (!config_file.empty()) st = check_against_config(*p, file, config_file);
  if (!st) {
    if (json) out << nlohmann::json{{"ok", false}, {"error", st.error().message}}.dump() << '\n';
    else err << st.error().message << '\n';
    return 1;
  }
  size_t rules = 0, local = 0;
  for (const auto& g : p->groups) rules += g.rules.size();
  for (const auto& vm : p->vms) local += vm.is_local();
  if (json) {
    nlohmann::ordered_json j{{"ok", true}, {"file", file}, {"subnets", p->subnets.size()},
                             {"groups", p->groups.size()}, {"rules", rules},
                             {"vms", p->vms.size()}, {"local_vms", local}};
    if (!config_file.empty()) j["config"] = config_file;
    out << j.dump() << '\n';
  } else {
    using report::count_of;
    out << file << ": ok (" << count_of(p->subnets.size(), "subnet") << ", "
        << count_of(p->groups.size(), "security group") << " incl. 3 built-in, " << count_of(rules, "rule") << ", "
        << count_of(p->vms.size(), "VM") << " of which " << local << " local"
        << (config_file.empty() ? "" : "; ports match " + config_file) << ")\n";
  }
  return 0;
}

int run_explain_offline(const ExplainRequest& req, std::istream& in, std::ostream& out,
                        std::ostream& err) {
  auto p = load_policy(req.policy_file);
  if (!p) {
    err << p.error().message << '\n';
    return 1;
  }
  explain::NameResolver names = explain::vm_name_resolver(*p);
  std::optional<policy::PacketTuple> single;
  if (!req.batch) {
    auto t = explain::parse_tuple(req.proto, req.src, req.dst, req.icmp_type, req.icmp_code, names);
    if (!t) {
      err << "sgfwctl explain: " << t.error().message << '\n';
      return 2;
    }
    single = *t;
  }
  auto eal = eal::EalSession::init(eal::offline_args("sgfwctl"));
  if (!eal) {
    err << "sgfwctl: " << eal.error().message << '\n';
    return 1;
  }
  auto tables = acl::PolicyTables::build(compiler::compile(*p), {});
  if (!tables) {
    err << "sgfwctl: " << tables.error().message << '\n';
    return 1;
  }
  if (single) {
    auto v = tables->judge(*single);
    if (!v) {
      err << "sgfwctl explain: " << v.error().message << '\n';
      return 1;
    }
    out << (req.json ? explain::to_json(*v) + "\n" : explain::to_text(*v));
    return v->allow ? 0 : 1;
  }
  int rc = 0;
  for (const auto& line : explain::read_batch(in)) {
    auto t = explain::parse_batch_line(line.text, names);
    if (!t) {
      out << explain::batch_error_json(line, t.error().message) << '\n';
      rc = 1;
      continue;
    }
    auto v = tables->judge(*t);
    if (!v) {
      out << explain::batch_error_json(line, v.error().message) << '\n';
      rc = 1;
      continue;
    }
    out << explain::to_json(*v) << '\n';
  }
  out.flush();
  return rc;
}

}  // namespace sgfw::ctl
