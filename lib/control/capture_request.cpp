// The `capture` and `trace` control requests (docs/capture.md).
#include "control/capture_request.hpp"

#include <nlohmann/json.hpp>

#include "core/escape.hpp"
#include "explain/tuple_text.hpp"
#include "protocol/request_depth.hpp"

namespace sgfw::control {

namespace {

using Json = nlohmann::json;

core::Status only_known(const Json& args, std::initializer_list<std::string_view> known, const char* cmd) {
  for (auto it = args.begin(); it != args.end(); ++it) {
    bool ok = false;
    for (auto k : known) ok = ok || it.key() == k;
    if (!ok) return core::make_error(std::string(cmd) + ": unknown argument \"" + core::escape_for_log(it.key(), 64) + "\"");
  }
  return {};
}

core::Expected<std::string> text_arg(const Json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end()) return std::string();
  if (!it->is_string()) return core::make_error(std::string("\"") + name + "\" must be a string");
  return it->get<std::string>();
}

core::Expected<int64_t> int_arg(const Json& args, const char* name, int64_t dflt, int64_t max, const char* what) {
  auto it = args.find(name);
  if (it == args.end()) return dflt;
  if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > max)
    return core::make_error(std::string("\"") + name + "\" must be a whole number of " + what + " from 1 to " +
                            std::to_string(max));
  return it->get<int64_t>();
}

core::Expected<TapRequest> parse_capture(const Json& args) {
  if (auto st = only_known(args, {"vm", "port", "drops", "count", "timeout"}, kCaptureCmd); !st)
    return core::make_error(st.error().message);
  CaptureRequest r;
  auto vm = text_arg(args, "vm");
  if (!vm) return core::make_error(vm.error().message);
  auto port = text_arg(args, "port");
  if (!port) return core::make_error(port.error().message);
  r.vm = std::move(*vm);
  r.port = std::move(*port);
  if (auto it = args.find("drops"); it != args.end()) {
    if (!it->is_boolean()) return core::make_error("\"drops\" must be true or false");
    r.drops = it->get<bool>();
  }
  auto count = int_arg(args, "count", kCaptureDefaultCount, kCaptureMaxCount, "packets");
  if (!count) return core::make_error(count.error().message);
  auto timeout = int_arg(args, "timeout", kTapDefaultTimeout, kTapMaxTimeout, "seconds");
  if (!timeout) return core::make_error(timeout.error().message);
  r.count = static_cast<uint64_t>(*count);
  r.timeout_s = static_cast<int>(*timeout);
  return TapRequest{r};
}

core::Expected<TapRequest> parse_trace(const Json& args) {
  if (auto st = only_known(args, {"proto", "src", "dst", "icmp_type", "icmp_code", "count", "timeout"}, kTraceCmd); !st)
    return core::make_error(st.error().message);
  auto proto = text_arg(args, "proto");
  auto src = text_arg(args, "src");
  auto dst = text_arg(args, "dst");
  if (!proto || !src || !dst || proto->empty() || src->empty() || dst->empty())
    return core::make_error("trace needs \"proto\", \"src\" and \"dst\" strings (PROTO SRC[:PORT] DST[:PORT])");
  std::optional<int> type, code;
  for (auto [name, into] : {std::pair{"icmp_type", &type}, std::pair{"icmp_code", &code}}) {
    auto it = args.find(name);
    if (it == args.end()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 255)
      return core::make_error(std::string("\"") + name + "\" must be a whole number from 0 to 255");
    *into = static_cast<int>(it->get<int64_t>());
  }
  auto tuple = explain::parse_tuple(*proto, *src, *dst, type, code);
  if (!tuple) return core::make_error(tuple.error().message);
  TraceRequest r;
  r.tuple = *tuple;
  r.any_sport = tuple->sport == 0;
  auto count = int_arg(args, "count", kTraceDefaultCount, kTraceMaxCount, "packets");
  if (!count) return core::make_error(count.error().message);
  auto timeout = int_arg(args, "timeout", kTapDefaultTimeout, kTapMaxTimeout, "seconds");
  if (!timeout) return core::make_error(timeout.error().message);
  r.count = static_cast<uint32_t>(*count);
  r.timeout_s = static_cast<int>(*timeout);
  return TapRequest{r};
}

}  // namespace

std::optional<core::Expected<TapRequest>> parse_tap_request(std::string_view line) {
  if (line.size() > kMaxTapRequest || protocol::json_depth(line) > protocol::kMaxRequestDepth) return std::nullopt;
  Json req = Json::parse(line, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return std::nullopt;
  auto cmd = req.find("cmd");
  if (cmd == req.end() || !cmd->is_string()) return std::nullopt;
  const std::string name = cmd->get<std::string>();
  if (name != kCaptureCmd && name != kTraceCmd) return std::nullopt;
  static const Json kNoArgs = Json::object();
  auto args_it = req.find("args");
  const Json& args = args_it == req.end() ? kNoArgs : *args_it;
  if (!args.is_object()) return core::Expected<TapRequest>(core::make_error("\"args\" must be an object"));
  return name == kCaptureCmd ? parse_capture(args) : parse_trace(args);
}

}  // namespace sgfw::control
