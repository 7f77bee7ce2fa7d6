// The control protocol (docs/control.md), shared by sgfwd (lib/control) and sgfwctl
// (lib/ctl): one JSON object per line each way. A request is {"cmd": NAME, "args":
// {...}}; a reply is {"ok": true, "result": {...}} or {"ok": false, "error": "..."}.
// This module owns the command names, the typed requests, the envelope both ways and
// the bounds checked before a request is parsed. Pure; thread-safe; never throws.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/expected.hpp"

namespace sgfw::protocol {

using Json = nlohmann::ordered_json;

inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kStats = "stats";
inline constexpr std::string_view kExplain = "explain";
inline constexpr std::string_view kReload = "reload";
inline constexpr std::string_view kSetGroups = "set-groups";
inline constexpr std::string_view kFlows = "flows";
inline constexpr std::string_view kFlowsFlush = "flows-flush";

// What one request may ask for, so that no reply costs more than a fraction of a
// second or more than a few MiB (docs/control.md): explain judges at most this many
// packets per request (sgfwctl splits a longer batch), flows lists at most this many
// connections per reply (`total` still counts them all).
inline constexpr size_t kMaxExplainPackets = 10000;
inline constexpr long kMaxFlowsListed = 10000;

struct StatusRequest {};
struct StatsRequest {
  std::string vm;  // empty: every VM
};
struct ExplainRequest {
  std::vector<std::string> packets;  // explain batch lines (docs/explain.md)
};
struct ReloadRequest {
  std::optional<std::string> policy;  // the policy's content; none: the daemon re-reads its file
  std::string name;                   // labels messages only; never opened
};
struct SetGroupsRequest {
  std::string vm;
  std::vector<std::string> groups;  // as sent (the daemon trims and validates)
};
struct FlowsRequest {
  std::string vm;   // empty: every connection
  long limit = -1;  // -1: no limit of the client's (the daemon lists at most kMaxFlowsListed)
};
struct FlushRequest {
  std::string vm;  // empty: every connection
};

using Request = std::variant<StatusRequest, StatsRequest, ExplainRequest, ReloadRequest, SetGroupsRequest,
                             FlowsRequest, FlushRequest>;

// The command name of a request.
[[nodiscard]] std::string_view command_of(const Request& request);

// Server side: one request line (without the newline). Errors (the message is the
// error reply's text, client text escaped): nesting deeper than kMaxRequestDepth
// (checked before parsing), malformed JSON, a missing or unknown command, arguments of
// the wrong type. Unknown arguments are ignored.
[[nodiscard]] core::Expected<Request> parse_request(std::string_view line);

// Server side: reply lines (without the newline). Times named `*_ms`/`*_s` are rounded
// to the microsecond/millisecond; invalid UTF-8 is replaced, never thrown.
[[nodiscard]] std::string encode_ok(Json result);
[[nodiscard]] std::string encode_error(std::string_view message);

// Client side: the request line (without the newline).
[[nodiscard]] std::string encode_request(const Request& request);

struct Reply {
  bool ok = false;
  Json result;        // ok
  std::string error;  // !ok
};
// Client side: a reply line. Error: not a reply envelope.
[[nodiscard]] core::Expected<Reply> decode_reply(std::string_view line);

}  // namespace sgfw::protocol
