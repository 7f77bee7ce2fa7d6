// Text forms of a first-packet tuple, as `sgfwctl explain` takes them:
//   PROTO SRC[:PORT] DST[:PORT] [TYPE/CODE]  with PROTO tcp|udp|icmp|icmpv6|<0-255>
// where SRC and DST are IPv4 addresses (10.0.0.1:80), IPv6 addresses (2001:db8::1, in
// brackets with a port: [2001:db8::1]:80) or, with a NameResolver, VM names
// (docs/control.md). Both ends are of one family. `icmp` means ICMP for IPv4 and
// ICMPv6 (58) for IPv6. Pure; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "policy/packet_tuple.hpp"

namespace sgfw::explain {

// Maps a VM name to its own addresses (`ips`, in policy order), or nullopt for a name
// that is no VM. A name stands for the VM's first address of the tuple's family: the
// family of the other end when that is an address, else IPv4 if the (first) VM has one.
using NameResolver = std::function<std::optional<std::vector<core::IpAddress>>(std::string_view name)>;

// icmp_type/icmp_code: given only for ICMP/ICMPv6 (defaults: an echo request, 8/0 for
// IPv4, 128/0 for IPv6).
// Errors: unknown protocol, bad address or port, a port on a protocol without ports,
// TCP/UDP without a destination port, ICMP fields on a non-ICMP protocol, ends of two
// families ("source 10.0.0.1 is IPv4 and destination 2001:db8::1 is IPv6: give two
// addresses of one family"), a VM without an address of the tuple's family,
// `icmpv6` with IPv4 addresses.
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
