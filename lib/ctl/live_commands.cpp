#include "ctl/live_commands.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include "ctl/client.hpp"
#include "explain/tuple_text.hpp"
#include "report/tables.hpp"

namespace sgfw::ctl {

namespace {

// Runs one call; prints the result with `text` (or as JSON) and maps the status.
template <typename TextFn>
int simple(const LiveOptions& o, const std::string& cmd, const Json& args, std::ostream& out, std::ostream& err,
           TextFn text) {
  CallResult r = call(o.socket, cmd, args);
  if (r.status == CallResult::Status::kUnreachable) {
    err << "sgfwctl: daemon not reachable: " << r.error << "\n";
    return 3;
  }
  if (r.status == CallResult::Status::kRejected) {
    if (o.json) out << Json{{"ok", false}, {"error", r.error}}.dump() << "\n";
    else err << r.error << "\n";
    return 1;
  }
  try {
    out << (o.json ? r.result.dump() + "\n" : text(r.result));
  } catch (const std::exception& e) {
    err << "sgfwctl: unexpected reply: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

std::string verdict_text(const Json& v) {
  std::string s = "verdict: ";
  s += v.at("verdict").get<std::string>() == "allow" ? "allow" : "deny (" + v.at("reason").get<std::string>() + ")";
  s += "\n";
  for (const auto& c : v.at("checks")) {
    std::string dir = c.at("direction");
    s += "  " + dir + std::string(8 - dir.size(), ' ') + "check of " + c.at("vm").get<std::string>() + ": ";
    s += c.at("rule").is_null() ? "deny, rule: null" : "allow, rule: " + c.at("rule").get<std::string>();
    s += "\n";
  }
  if (v.at("checks").empty()) s += "  neither end is a local VM\n";
  return s;
}

}  // namespace

int run_status(const LiveOptions& o, std::ostream& out, std::ostream& err) {
  return simple(o, "status", Json::object(), out, err, report::status_text);
}

int run_reload(const LiveOptions& o, const std::string& policy_file, std::ostream& out, std::ostream& err) {
  Json args = Json::object();
  if (!policy_file.empty()) {
    std::ifstream in(policy_file, std::ios::binary);  // read with the client's own permissions
    if (!in) {
      err << "sgfwctl: cannot read " << policy_file << "\n";
      return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    args["policy"] = ss.str();
    args["name"] = policy_file;
  }
  return simple(o, "reload", args, out, err, report::change_text);
}

int run_set_groups(const LiveOptions& o, const std::string& vm, const std::string& groups, std::ostream& out,
                   std::ostream& err) {
  Json list = Json::array();
  if (groups != "-") {
    std::stringstream ss(groups);
    std::string g;
    while (std::getline(ss, g, ','))
      if (!g.empty()) list.push_back(g);
  }
  return simple(o, "set-groups", Json{{"vm", vm}, {"groups", list}}, out, err, report::change_text);
}

int run_stats(const LiveOptions& o, const std::string& vm, std::ostream& out, std::ostream& err) {
  Json args = Json::object();
  if (!vm.empty()) args["vm"] = vm;
  return simple(o, "stats", args, out, err, report::stats_text);
}

int run_flows(const LiveOptions& o, const std::string& vm, long limit, std::ostream& out, std::ostream& err) {
  Json args = Json::object();
  if (!vm.empty()) args["vm"] = vm;
  if (limit >= 0) args["limit"] = limit;
  return simple(o, "flows", args, out, err, report::flows_text);
}

int run_flows_flush(const LiveOptions& o, const std::string& vm, std::ostream& out, std::ostream& err) {
  Json args = Json::object();
  if (!vm.empty()) args["vm"] = vm;
  return simple(o, "flows-flush", args, out, err,
                [](const Json& r) { return std::to_string(r.at("removed").get<uint64_t>()) + " connections removed\n"; });
}

int run_explain_live(const LiveOptions& o, const ExplainRequest& req, std::istream& in, std::ostream& out,
                     std::ostream& err) {
  Json packets = Json::array();
  if (req.batch) {
    std::string line;
    while (std::getline(in, line)) packets.push_back(line);
  } else {
    auto t = explain::parse_tuple(req.proto, req.src, req.dst, req.icmp_type, req.icmp_code);
    if (!t) {
      err << "sgfwctl explain: " << t.error().message << "\n";
      return 2;
    }
    std::string line = req.proto + " " + req.src + " " + req.dst;
    if (req.icmp_type || req.icmp_code)
      line += " " + std::to_string(req.icmp_type.value_or(8)) + "/" + std::to_string(req.icmp_code.value_or(0));
    packets.push_back(line);
  }
  CallResult r = call(o.socket, "explain", Json{{"packets", packets}});
  if (r.status == CallResult::Status::kUnreachable) {
    err << "sgfwctl: daemon not reachable: " << r.error << "\n";
    return 3;
  }
  if (r.status == CallResult::Status::kRejected) {
    err << r.error << "\n";
    return 1;
  }
  const Json& results = r.result.at("results");
  if (!req.batch) {
    const Json& v = results.at(0);
    if (v.contains("error")) {
      err << "sgfwctl explain: " << v["error"].get<std::string>() << "\n";
      return 2;
    }
    out << (req.json ? v.dump() + "\n" : verdict_text(v));
    return v.at("verdict") == "allow" ? 0 : 1;
  }
  int rc = 0;
  for (const auto& v : results) {
    out << v.dump() << "\n";
    if (v.contains("error")) rc = 1;
  }
  return rc;
}

}  // namespace sgfw::ctl
