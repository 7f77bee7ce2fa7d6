#include "ctl/live_commands.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "config/file_access.hpp"
#include "ctl/client.hpp"
#include "ctl/group_list.hpp"
#include "explain/batch.hpp"
#include "explain/tuple_text.hpp"
#include "explain/verdict_format.hpp"
#include "report/plural.hpp"
#include "report/tables.hpp"

namespace sgfw::ctl {

namespace {

// Runs one call; prints the result with `text` (or as JSON) and maps the status.
template <typename TextFn>
int simple(const LiveOptions& o, const protocol::Request& request, std::ostream& out, std::ostream& err,
           TextFn text) {
  CallResult r = call(o.socket, request);
  if (r.status == CallResult::Status::kUnreachable) {
    err << "sgfwctl: daemon not reachable: " << r.error << "\n";
    return 3;
  }
  if (r.status == CallResult::Status::kRejected) {
    if (o.json) out << protocol::encode_error(r.error) << "\n";
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

}  // namespace

int run_status(const LiveOptions& o, std::ostream& out, std::ostream& err) {
  return simple(o, protocol::StatusRequest{}, out, err, report::status_text);
}

int run_reload(const LiveOptions& o, const std::string& policy_file, std::ostream& out, std::ostream& err) {
  protocol::ReloadRequest req;
  if (!policy_file.empty()) {
    if (auto st = config::check_readable(policy_file); !st) {  // with the client's own permissions
      err << "sgfwctl: " << st.error().message << "\n";
      return 1;
    }
    std::ifstream in(policy_file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    req.policy = ss.str();
    req.name = policy_file;
  }
  return simple(o, std::move(req), out, err, report::change_text);
}

int run_set_groups(const LiveOptions& o, const std::string& vm, const std::string& groups, std::ostream& out,
                   std::ostream& err) {
  auto parsed = parse_group_list(groups);
  if (!parsed) {
    err << "sgfwctl vm set-groups: " << parsed.error().message << "\n";
    return 2;
  }
  return simple(o, protocol::SetGroupsRequest{vm, std::move(*parsed)}, out, err, report::change_text);
}

int run_stats(const LiveOptions& o, const std::string& vm, std::ostream& out, std::ostream& err) {
  return simple(o, protocol::StatsRequest{vm}, out, err, report::stats_text);
}

int run_flows(const LiveOptions& o, const std::string& vm, long limit, std::ostream& out, std::ostream& err) {
  return simple(o, protocol::FlowsRequest{vm, limit < 0 ? -1 : limit}, out, err, report::flows_text);
}

int run_flows_flush(const LiveOptions& o, const std::string& vm, std::ostream& out, std::ostream& err) {
  return simple(o, protocol::FlushRequest{vm}, out, err,
                [](const Json& r) { return report::count_of(r.at("removed").get<uint64_t>(), "connection") + " removed\n"; });
}

int run_explain_live(const LiveOptions& o, const ExplainRequest& req, std::istream& in, std::ostream& out,
                     std::ostream& err) {
  protocol::ExplainRequest packets;
  std::vector<explain::BatchLine> lines;
  if (req.batch) {
    lines = explain::read_batch(in);
    for (const auto& l : lines) packets.packets.push_back(l.text);
  } else {
    // Syntax only: VM names are resolved by the daemon against its running policy.
    explain::NameResolver any_name = [](std::string_view) {
      return std::optional<std::vector<core::IpAddress>>({core::Ipv4{}, core::Ipv6{}});
    };
    auto t = explain::parse_tuple(req.proto, req.src, req.dst, req.icmp_type, req.icmp_code, any_name);
    if (!t) {
      err << "sgfwctl explain: " << t.error().message << "\n";
      return 2;
    }
    std::string line = req.proto + " " + req.src + " " + req.dst;
    if (req.icmp_type || req.icmp_code)
      line += " " + std::to_string(req.icmp_type.value_or(8)) + "/" + std::to_string(req.icmp_code.value_or(0));
    packets.packets.push_back(line);
  }
  // The daemon judges at most kMaxExplainPackets per request: a longer batch goes in parts.
  Json results = Json::array();
  for (size_t first = 0; first < packets.packets.size(); first += protocol::kMaxExplainPackets) {
    size_t last = std::min(packets.packets.size(), first + protocol::kMaxExplainPackets);
    protocol::ExplainRequest part;
    part.packets.assign(packets.packets.begin() + static_cast<long>(first), packets.packets.begin() + static_cast<long>(last));
    CallResult r = call(o.socket, std::move(part));
    if (r.status == CallResult::Status::kUnreachable) {
      err << "sgfwctl: daemon not reachable: " << r.error << "\n";
      return 3;
    }
    if (r.status == CallResult::Status::kRejected) {
      err << r.error << "\n";
      return 1;
    }
    for (auto& v : r.result.at("results")) results.push_back(std::move(v));
  }
  if (results.empty()) return 0;  // an empty batch
  if (!req.batch) {
    const Json& v = results.at(0);
    if (v.contains("error")) {
      err << "sgfwctl explain: " << v["error"].get<std::string>() << "\n";
      return 2;
    }
    out << (req.json ? v.dump() + "\n" : explain::text_of_json(v.dump()));
    return v.at("verdict") == "allow" ? 0 : 1;
  }
  int rc = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const Json& v = results[i];
    if (v.contains("error")) {
      rc = 1;
      if (i < lines.size()) {
        out << explain::batch_error_json(lines[i], v["error"].get<std::string>()) << "\n";
        continue;
      }
    }
    out << v.dump() << "\n";
  }
  return rc;
}

}  // namespace sgfw::ctl
