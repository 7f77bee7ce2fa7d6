// The control-socket client: one request line, one reply line (docs/public-interface.md).
// Control path; not thread-safe (one connection per call).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "protocol/protocol.hpp"

namespace sgfw::ctl {

using Json = nlohmann::ordered_json;

struct CallResult {
  enum class Status { kOk, kRejected, kUnreachable };
  Status status = Status::kUnreachable;
  Json result;        // kOk
  std::string error;  // kRejected: the daemon's message; kUnreachable: why
};

// Sends one request (lib/protocol) and waits for its reply (timeout_s for the whole
// exchange; reloads of large policies take a while).
[[nodiscard]] CallResult call(const std::string& socket_path, const protocol::Request& request, int timeout_s = 120);
// The same for a request line the protocol module does not type (capture, trace).
[[nodiscard]] CallResult call_line(const std::string& socket_path, const std::string& request_line,
                                   int timeout_s = 120);

}  // namespace sgfw::ctl
