// The `capture` and `trace` control requests (docs/control.md, docs/capture.md): their
// arguments checked and typed. The protocol module does not know them: dispatch asks
// parse_tap_request() first. Pure (no DPDK); thread-safe; never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/expected.hpp"
#include "policy/packet_tuple.hpp"

namespace sgfw::control {

inline constexpr char kCaptureCmd[] = "capture";
inline constexpr char kTraceCmd[] = "trace";
inline constexpr uint64_t kCaptureDefaultCount = 100;
inline constexpr uint64_t kCaptureMaxCount = 10000;
inline constexpr uint32_t kTraceDefaultCount = 10;
inline constexpr uint32_t kTraceMaxCount = 1000;
inline constexpr int kTapDefaultTimeout = 60;  // seconds
inline constexpr int kTapMaxTimeout = 3600;
inline constexpr size_t kMaxTapRequest = 4096;  // bytes: longer lines are no tap request

struct CaptureRequest {
  std::string vm;    // empty: any
  std::string port;  // empty: any
  bool drops = false;
  uint64_t count = kCaptureDefaultCount;
  int timeout_s = kTapDefaultTimeout;
};

struct TraceRequest {
  policy::PacketTuple tuple;  // sport 0: any source port
  bool any_sport = true;
  uint32_t count = kTraceDefaultCount;
  int timeout_s = kTapDefaultTimeout;
};

using TapRequest = std::variant<CaptureRequest, TraceRequest>;

// nullopt: the line is not a capture or trace request (the protocol module answers it);
// else the request or what is wrong with it. Arguments: capture {"vm", "port": names,
// "drops": bool, "count": 1..10000, "timeout": 1..3600 s}; trace {"proto", "src", "dst":
// as explain takes them (docs/capture.md, "Tuple"), "icmp_type", "icmp_code", "count":
// 1..1000, "timeout"}. Unknown arguments are errors.
[[nodiscard]] std::optional<core::Expected<TapRequest>> parse_tap_request(std::string_view line);

}  // namespace sgfw::control
