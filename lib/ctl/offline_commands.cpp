#include "ctl/offline_commands.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

#include "acl/policy_tables.hpp"
#include "compiler/compiler.hpp"
#include "config/policy_loader.hpp"
#include "eal/eal_session.hpp"
#include "explain/tuple_text.hpp"
#include "explain/verdict_format.hpp"

namespace sgfw::ctl {

int run_check(const std::string& file, bool json, std::ostream& out, std::ostream& err) {
  auto p = config::load_policy_file(file);
  if (!p) {
    if (json) out << nlohmann::json{{"ok", false}, {"error", p.error().message}}.dump() << '\n';
    else err << p.error().message << '\n';
    return 1;
  }
  size_t rules = 0, local = 0;
  for (const auto& g : p->groups) rules += g.rules.size();
  for (const auto& vm : p->vms) local += vm.is_local();
  if (json) {
    out << nlohmann::ordered_json{{"ok", true}, {"file", file}, {"subnets", p->subnets.size()},
                                  {"groups", p->groups.size()}, {"rules", rules},
                                  {"vms", p->vms.size()}, {"local_vms", local}}.dump()
        << '\n';
  } else {
    out << file << ": ok (" << p->subnets.size() << " subnets, " << p->groups.size()
        << " security groups incl. 3 built-in, " << rules << " rules, " << p->vms.size()
        << " VMs of which " << local << " local)\n";
  }
  return 0;
}

int run_explain_offline(const ExplainRequest& req, std::istream& in, std::ostream& out,
                        std::ostream& err) {
  std::optional<policy::PacketTuple> single;
  if (!req.batch) {
    auto t = explain::parse_tuple(req.proto, req.src, req.dst, req.icmp_type, req.icmp_code);
    if (!t) {
      err << "sgfwctl explain: " << t.error().message << '\n';
      return 2;
    }
    single = *t;
  }
  auto p = config::load_policy_file(req.policy_file);
  if (!p) {
    err << p.error().message << '\n';
    return 1;
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
    policy::Verdict v = tables->judge(*single);
    out << (req.json ? explain::to_json(v) + "\n" : explain::to_text(v));
    return v.allow ? 0 : 1;
  }
  int rc = 0;
  std::string line;
  while (std::getline(in, line)) {
    auto t = explain::parse_batch_line(line);
    if (!t) {
      out << explain::error_json(t.error().message) << '\n';
      rc = 1;
      continue;
    }
    out << explain::to_json(tables->judge(*t)) << '\n';
  }
  out.flush();
  return rc;
}

}  // namespace sgfw::ctl
