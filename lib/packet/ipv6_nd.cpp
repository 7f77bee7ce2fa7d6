// Neighbour discovery validation (RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1) and the
// fields the data path needs (target, link-layer address option, NA flags).
// docs/design/packet-parser.md, "Neighbour discovery". Reads m[0, n) only.
#include <cstring>

#include "core/ipv6_scope.hpp"
#include "packet/ipv6_parse.hpp"
#include "packet/l4_parse.hpp"
#include "packet/wire.hpp"

namespace sgfw::packet::detail {
namespace {

using core::is_link_local6;
using core::is_multicast6;
using core::is_unspecified6;
// ff02::1:ffXX:XXXX (RFC 4291 §2.7.1).
bool is_solicited_node(const uint8_t* a) noexcept {
  static constexpr uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  return std::memcmp(a, kPrefix, sizeof kPrefix) == 0;
}

uint32_t min_len(uint8_t type) noexcept {
  switch (type) {
    case wire::kIcmp6RouterSolicit: return wire::kNdRsLen;
    case wire::kIcmp6RouterAdvert: return wire::kNdRaLen;
    case wire::kIcmp6Redirect: return wire::kNdRedirectLen;
    default: return wire::kNdNsNaLen;  // NS, NA
  }
}

// The link-layer option kind the message type defines: source for RS, RA, NS; target
// for NA and redirect. The other kind is ignored by receivers (RFC 4861 §4).
uint8_t wanted_lla(uint8_t type) noexcept {
  return (type == wire::kIcmp6NeighborAdvert || type == wire::kIcmp6Redirect) ? wire::kNdOptTargetLla
                                                                              : wire::kNdOptSourceLla;
}

// The fixed part's address rules (the addresses are inside the minimum length).
bool fixed_part_ok(const ParsedPacket& pkt, const uint8_t* m) noexcept {
  const uint8_t* target = m + wire::kNdTargetOffset;
  switch (pkt.icmp_type) {
    case wire::kIcmp6NeighborSolicit:  // §7.1.1; DAD goes to a solicited-node group
      return !is_multicast6(target) && (!is_unspecified6(pkt.src6) || is_solicited_node(pkt.dst6));
    case wire::kIcmp6NeighborAdvert:  // §7.1.2
      return !is_multicast6(target) &&
             !(is_multicast6(pkt.dst6) && (m[wire::kNdNaFlagsOffset] & wire::kNdNaFlagSolicited));
    case wire::kIcmp6RouterAdvert:  // §6.1.2
      return is_link_local6(pkt.src6);
    case wire::kIcmp6Redirect:  // §8.1
      return is_link_local6(pkt.src6) && !is_multicast6(target) &&
             !is_multicast6(m + wire::kNdRedirectDstOffset);
    default:  // RS: §6.1.1 has no address rule on the fixed part
      return true;
  }
}

// Options from `off` to n: every length non-zero and inside the message; at most one
// link-layer option of each kind. Copies the wanted kind's MAC.
bool options_ok(ParsedPacket& pkt, const uint8_t* m, uint32_t off, uint32_t n,
                bool& has_source_lla) noexcept {
  const uint8_t wanted = wanted_lla(pkt.icmp_type);
  bool seen[3] = {false, false, false};
  while (off < n) {
    if (n - off < 2) return false;
    const uint32_t len = uint32_t{m[off + 1]} * 8;
    if (len == 0 || len > n - off) return false;
    const uint8_t type = m[off];
    if (type == wire::kNdOptSourceLla || type == wire::kNdOptTargetLla) {
      if (seen[type]) return false;
      seen[type] = true;
      if (type == wanted) {
        std::memcpy(pkt.nd_lladdr, m + off + 2, 6);  // len >= 8: the MAC is inside
        pkt.nd_lladdr_option = type;
      }
    }
    off += len;
  }
  has_source_lla = seen[wire::kNdOptSourceLla];
  return true;
}

}  // namespace

void parse_nd(ParsedPacket& pkt, const uint8_t* m, uint32_t n) noexcept {
  const uint8_t type = pkt.icmp_type;
  const uint32_t fixed = min_len(type);
  if (pkt.ttl != wire::kNdHopLimit || pkt.icmp_code != 0 || n < fixed || !fixed_part_ok(pkt, m))
    return drop(pkt, core::DropReason::kMalformedL4);
  bool has_source_lla = false;
  if (!options_ok(pkt, m, fixed, n, has_source_lla))
    return drop(pkt, core::DropReason::kMalformedL4);
  // §6.1.1, §7.1.1: from the unspecified address (DAD), no source link-layer option.
  if (has_source_lla && is_unspecified6(pkt.src6) &&
      (type == wire::kIcmp6NeighborSolicit || type == wire::kIcmp6RouterSolicit))
    return drop(pkt, core::DropReason::kMalformedL4);
  if (type != wire::kIcmp6RouterSolicit && type != wire::kIcmp6RouterAdvert)
    std::memcpy(pkt.nd_target, m + wire::kNdTargetOffset, 16);
  if (type == wire::kIcmp6NeighborAdvert)
    pkt.nd_na_flags = m[wire::kNdNaFlagsOffset] & wire::kNdNaFlagsMask;
}

}  // namespace sgfw::packet::detail
