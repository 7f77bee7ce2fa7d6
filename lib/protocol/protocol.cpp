#include "protocol/protocol.hpp"

#include <cmath>

#include "core/escape.hpp"
#include "protocol/request_depth.hpp"

namespace sgfw::protocol {

namespace {

using Args = Json;

// An optional string argument; error if present with another type.
core::Expected<std::string> string_arg(const Args& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end()) return std::string();
  if (!it->is_string()) return core::make_error(std::string("\"") + name + "\" must be a string");
  return it->get<std::string>();
}

core::Expected<Request> parse_explain(const Args& args) {
  auto it = args.find("packets");
  if (it == args.end() || !it->is_array()) return core::make_error("explain needs \"packets\": [lines]");
  if (it->size() > kMaxExplainPackets)
    return core::make_error("explain takes at most " + std::to_string(kMaxExplainPackets) +
                            " packets per request (sgfwctl explain --batch splits longer batches)");
  ExplainRequest r;
  for (const auto& p : *it) {
    if (!p.is_string()) return core::make_error("explain packets must be strings");
    r.packets.push_back(p.get<std::string>());
  }
  return Request{std::move(r)};
}

core::Expected<Request> parse_reload(const Args& args) {
  ReloadRequest r;
  if (auto it = args.find("name"); it != args.end() && it->is_string()) r.name = it->get<std::string>();
  if (auto it = args.find("policy"); it != args.end()) {
    if (!it->is_string()) return core::make_error("\"policy\" must be the policy file's content");
    r.policy = it->get<std::string>();
  }
  return Request{std::move(r)};
}

core::Expected<Request> parse_set_groups(const Args& args) {
  auto vm = args.find("vm");
  auto groups = args.find("groups");
  if (vm == args.end() || !vm->is_string() || groups == args.end() || !groups->is_array())
    return core::make_error("set-groups needs \"vm\" and \"groups\"");
  SetGroupsRequest r;
  r.vm = vm->get<std::string>();
  r.groups.reserve(groups->size());
  for (const auto& g : *groups) {
    if (!g.is_string()) return core::make_error("groups must be strings");
    r.groups.push_back(g.get<std::string>());
  }
  return Request{std::move(r)};
}

core::Expected<Request> parse_flows(const Args& args) {
  FlowsRequest r;
  if (auto it = args.find("limit"); it != args.end()) {
    if (!it->is_number_integer() || it->get<long>() < 0) return core::make_error("\"limit\" must be a non-negative integer");
    r.limit = it->get<long>();
  }
  auto vm = string_arg(args, "vm");
  if (!vm) return core::make_error(vm.error().message);
  r.vm = std::move(*vm);
  return Request{std::move(r)};
}

core::Expected<Request> parse_command(const std::string& cmd, const Args& args) {
  if (cmd == kStatus) return Request{StatusRequest{}};
  if (cmd == kExplain) return parse_explain(args);
  if (cmd == kReload) return parse_reload(args);
  if (cmd == kSetGroups) return parse_set_groups(args);
  if (cmd == kFlows) return parse_flows(args);
  if (cmd == kStats || cmd == kFlowsFlush) {
    auto vm = string_arg(args, "vm");
    if (!vm) return core::make_error(vm.error().message);
    if (cmd == kStats) return Request{StatsRequest{std::move(*vm)}};
    return Request{FlushRequest{std::move(*vm)}};
  }
  return core::make_error("unknown command '" + core::escape_for_log(cmd, 64) + "'");
}

// Invalid UTF-8 (an error may quote the client's bytes) is replaced, not thrown.
std::string dump_line(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void round_times(Json& j) {
  if (j.is_array()) {
    for (auto& e : j) round_times(e);
    return;
  }
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    bool time = (k.size() > 3 && k.ends_with("_ms")) || (k.size() > 2 && k.ends_with("_s"));
    if (time && it.value().is_number_float()) it.value() = std::round(it.value().get<double>() * 1000.0) / 1000.0;
    else round_times(it.value());
  }
}

struct ArgsOf {
  Json operator()(const StatusRequest&) const { return Json::object(); }
  Json operator()(const StatsRequest& r) const { return r.vm.empty() ? Json::object() : Json{{"vm", r.vm}}; }
  Json operator()(const ExplainRequest& r) const { return Json{{"packets", r.packets}}; }
  Json operator()(const ReloadRequest& r) const {
    Json a = Json::object();
    if (r.policy) a["policy"] = *r.policy;
    if (!r.name.empty()) a["name"] = r.name;
    return a;
  }
  Json operator()(const SetGroupsRequest& r) const { return Json{{"vm", r.vm}, {"groups", r.groups}}; }
  Json operator()(const FlowsRequest& r) const {
    Json a = Json::object();
    if (!r.vm.empty()) a["vm"] = r.vm;
    if (r.limit >= 0) a["limit"] = r.limit;
    return a;
  }
  Json operator()(const FlushRequest& r) const { return r.vm.empty() ? Json::object() : Json{{"vm", r.vm}}; }
};

struct NameOf {
  std::string_view operator()(const StatusRequest&) const { return kStatus; }
  std::string_view operator()(const StatsRequest&) const { return kStats; }
  std::string_view operator()(const ExplainRequest&) const { return kExplain; }
  std::string_view operator()(const ReloadRequest&) const { return kReload; }
  std::string_view operator()(const SetGroupsRequest&) const { return kSetGroups; }
  std::string_view operator()(const FlowsRequest&) const { return kFlows; }
  std::string_view operator()(const FlushRequest&) const { return kFlowsFlush; }
};

}  // namespace

std::string_view command_of(const Request& request) { return std::visit(NameOf{}, request); }

core::Expected<Request> parse_request(std::string_view line) {
  try {
    // Bounded before parsing; the tree is then only read in place, never copied (a
    // recursive copy of a deep tree overflowed the stack).
    if (json_depth(line) > kMaxRequestDepth)
      return core::make_error("request nested deeper than " + std::to_string(kMaxRequestDepth) + " levels");
    const Json req = Json::parse(line);
    auto cmd = req.is_object() ? req.find("cmd") : req.end();
    if (!req.is_object() || cmd == req.end() || !cmd->is_string())
      return core::make_error("request must be an object with a string \"cmd\"");
    static const Json kNoArgs = Json::object();
    const auto args_it = req.find("args");
    const Json& args = args_it == req.end() ? kNoArgs : *args_it;
    if (!args.is_object()) return core::make_error("\"args\" must be an object");
    return parse_command(cmd->get<std::string>(), args);
  } catch (const nlohmann::json::exception& e) {
    return core::make_error("malformed request: " + core::escape_for_log(e.what()));
  } catch (const std::exception& e) {
    return core::make_error(std::string("malformed request: ") + e.what());
  }
}

std::string encode_ok(Json result) {
  round_times(result);
  return dump_line(Json{{"ok", true}, {"result", std::move(result)}});
}

std::string encode_error(std::string_view message) {
  return dump_line(Json{{"ok", false}, {"error", std::string(message)}});
}

std::string encode_request(const Request& request) {
  return dump_line(Json{{"cmd", std::string(command_of(request))}, {"args", std::visit(ArgsOf{}, request)}});
}

core::Expected<Reply> decode_reply(std::string_view line) {
  try {
    const Json j = Json::parse(line);
    auto ok = j.is_object() ? j.find("ok") : j.end();
    if (!j.is_object() || ok == j.end() || !ok->is_boolean()) return core::make_error("not a reply: no boolean \"ok\"");
    Reply r;
    r.ok = ok->get<bool>();
    if (r.ok) {
      auto res = j.find("result");
      r.result = res == j.end() ? Json::object() : *res;
    } else {
      auto err = j.find("error");
      r.error = err != j.end() && err->is_string() ? err->get<std::string>() : std::string("rejected");
    }
    return r;
  } catch (const std::exception& e) {
    return core::make_error(std::string("malformed reply: ") + e.what());
  }
}

}  // namespace sgfw::protocol
