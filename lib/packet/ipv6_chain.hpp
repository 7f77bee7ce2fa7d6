// Internal to lib/packet: the walk over an IPv6 extension header chain, shared by the
// frame parser and the ICMPv6 error quote reader (docs/design/packet-parser.md, "IPv6").
// Data path. Thread-safety: pure.
#pragma once

#include <cstdint>

namespace sgfw::packet::detail {

enum class ChainError : uint8_t {
  kNone,
  kPastEnd,           // a header (or its length) runs past `end`
  kMalformed,         // hop-by-hop not first; a second fragment header; a bad option list
  kTooMany,           // more than wire::kIpv6MaxExtHeaders extension headers
  kRoutingType0,      // a type 0 routing header (RFC 5095)
};

struct Ipv6Chain {
  // Where the walk stopped: the upper-layer header, or (after a fragment header with a
  // non-zero offset) the fragment's data. Offset from the IPv6 header's first byte.
  uint32_t l4_start = 0;
  uint8_t proto = 0;        // the next header value found there
  bool has_frag = false;    // a fragment header was seen (before the walk stopped)
  uint16_t frag_field = 0;  // its offset/flags word, host order
  uint32_t frag_id_be = 0;  // its identification, wire order
  uint32_t frag_data = 0;   // offset of the fragmentable part (just after it)
};

// Walks the chain of the IPv6 header at `ip`, reading ip[40, end) only (`end` >= 40:
// the payload length's end, or the end of a quote). Stops at the first next header
// value that is not hop-by-hop, routing, fragment, destination options or AH, or right
// after a fragment header whose offset is not 0. On an error, `out` holds what was
// seen before it (has_frag tells whether a fragment header came first).
[[nodiscard]] ChainError walk_ipv6_chain(const uint8_t* ip, uint32_t end, Ipv6Chain& out) noexcept;

}  // namespace sgfw::packet::detail
