// Text forms of a first-packet tuple, as `sgfwctl explain` takes them:
//   PROTO SRC[:PORT] DST[:PORT]  with PROTO tcp|udp|icmp|<0-255>
// and, in --batch, an optional 4th token TYPE/CODE for ICMP. Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "core/expected.hpp"
#include "policy/packet_tuple.hpp"

namespace sgfw::explain {

// icmp_type/icmp_code: given only for ICMP (defaults 8/0, an echo request).
// Errors: unknown protocol, bad address or port, a port on a protocol without ports,
// TCP/UDP without a destination port, ICMP fields on a non-ICMP protocol.
[[nodiscard]] core::Expected<policy::PacketTuple> parse_tuple(std::string_view proto,
                                                             std::string_view src,
                                                             std::string_view dst,
                                                             std::optional<int> icmp_type,
                                                             std::optional<int> icmp_code);

// One --batch line: "PROTO SRC[:PORT] DST[:PORT] [TYPE/CODE]".
[[nodiscard]] core::Expected<policy::PacketTuple> parse_batch_line(std::string_view line);

}  // namespace sgfw::explain
