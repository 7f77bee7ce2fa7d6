// Text forms of a first-packet tuple, as `sgfwctl explain` takes them:
//   PROTO SRC[:PORT] DST[:PORT] [TYPE/CODE]  with PROTO tcp|udp|icmp|<0-255>
// where SRC and DST are IPv4 addresses or, with a NameResolver, VM names
// (docs/control.md). Pure; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "core/expected.hpp"
#include "policy/packet_tuple.hpp"

namespace sgfw::explain {

// Maps a VM name to the address explain should use for it (its first address), or
// nullopt for a name that is no VM.
using NameResolver = std::function<std::optional<core::Ipv4>(std::string_view name)>;

// icmp_type/icmp_code: given only for ICMP (defaults 8/0, an echo request).
// Errors: unknown protocol, bad address or port, a port on a protocol without ports,
// TCP/UDP without a destination port, ICMP fields on a non-ICMP protocol.
[[nodiscard]] core::Expected<policy::PacketTuple> parse_tuple(std::string_view proto,
                                                             std::string_view src,
                                                             std::string_view dst,
                                                             std::optional<int> icmp_type,
                                                             std::optional<int> icmp_code,
                                                             const NameResolver& names = nullptr);

// One --batch line: "PROTO SRC[:PORT] DST[:PORT] [TYPE/CODE]".
[[nodiscard]] core::Expected<policy::PacketTuple> parse_batch_line(std::string_view line,
                                                                  const NameResolver& names = nullptr);

// "TYPE/CODE" or "TYPE" (code 0), each 0..255. Error: "invalid ICMP TYPE/CODE '...'".
[[nodiscard]] core::Expected<std::pair<int, int>> parse_type_code(std::string_view text);

// A batch line that holds no packet: blank, or a comment starting with '#'.
[[nodiscard]] bool is_blank_or_comment(std::string_view line);

}  // namespace sgfw::explain
