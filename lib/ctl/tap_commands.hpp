// sgfwctl capture and trace (docs/capture.md): the client's side. Exit codes as
// live_commands.hpp: 0 done, 1 rejected (or the file cannot be written), 2 usage,
// 3 daemon not reachable. Control path; not thread-safe.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "ctl/client.hpp"
#include "ctl/live_commands.hpp"

namespace sgfw::ctl {

struct CaptureOptions {
  std::string vm, port;
  bool drops = false;
  std::optional<long> count, timeout;
  std::string file;  // -w: created (or truncated) by sgfwctl with the caller's permissions
};

struct TraceOptions {
  std::string proto, src, dst;
  std::optional<int> icmp_type, icmp_code;
  std::optional<long> count, timeout;
};

int run_capture(const LiveOptions& o, const CaptureOptions& c, std::ostream& out, std::ostream& err);
int run_trace(const LiveOptions& o, const TraceOptions& t, std::ostream& out, std::ostream& err);

// The text of a trace reply: one block per packet, one line per stage event.
[[nodiscard]] std::string trace_text(const Json& result);

}  // namespace sgfw::ctl
