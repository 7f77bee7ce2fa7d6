// IPv6 frame builders for the pipeline scenario tests (the IPv6 twin of frames.hpp):
// Ethernet II frames with IPv6 (optional extension headers, a fragment header),
// TCP/UDP/ICMPv6, ICMPv6 errors quoting another frame, neighbour discovery, MLD and
// DHCPv6. Byte-exact, no scapy, no DPDK. Test code only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frames.hpp"

namespace sgfw::scenario {

using Addr6 = std::array<uint8_t, 16>;
[[nodiscard]] Addr6 ip6(const std::string& text);  // "2001:db8::a"
// The modified EUI-64 link-local address of a MAC (fe80::ff:fe in the middle).
[[nodiscard]] Addr6 link_local(Mac m);
// The 33:33:xx:xx:xx:xx multicast MAC of an IPv6 multicast group.
[[nodiscard]] Mac multicast_mac(const Addr6& group);

struct Ip6 {
  Addr6 src{}, dst{};
  uint8_t next_header = 0;  // the upper-layer protocol (a fragment header is put before it)
  uint8_t hop_limit = 64;
  // A fragment header when set: offset in 8-byte units, M flag, identification.
  bool fragment = false;
  uint16_t frag_offset = 0;
  bool more_fragments = false;
  uint32_t frag_id = 0;
};

// An Ethernet frame around an IPv6 packet whose upper-layer data is `l4`.
[[nodiscard]] Bytes ipv6_frame(Mac src, Mac dst, const Ip6& ip, const Bytes& l4);

[[nodiscard]] Bytes tcp6(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst,
                         uint16_t dport, uint8_t flags);
[[nodiscard]] Bytes udp6(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst,
                         uint16_t dport, size_t payload = 8);
[[nodiscard]] Bytes icmp6_echo(Mac smac, Mac dmac, const std::string& src, const std::string& dst, bool request,
                               uint16_t id, uint16_t seq = 1);
// An ICMPv6 error (type/code) quoting the IPv6 packet of `quoted` (a frame built here):
// its header and at most `quote_l4` bytes after it (a router quoting a truncated packet).
[[nodiscard]] Bytes icmp6_error(Mac smac, Mac dmac, const std::string& src, const std::string& dst, uint8_t type,
                                uint8_t code, const Bytes& quoted, size_t quote_l4 = SIZE_MAX);
// Fragments of one UDP datagram (payload bytes of data), fragment id `id`, each with at
// most `chunk` bytes of the fragmentable part (a multiple of 8).
[[nodiscard]] std::vector<Bytes> udp6_fragments(Mac smac, Mac dmac, const std::string& src, uint16_t sport,
                                                const std::string& dst, uint16_t dport, size_t payload, uint32_t id,
                                                size_t chunk = 1232);

// Neighbour discovery (hop limit 255). `lla`: the source (NS, RS) or target (NA)
// link-layer address option, if any.
[[nodiscard]] Bytes nd_solicit(Mac smac, Mac dmac, const Addr6& src, const Addr6& dst, const Addr6& target,
                               std::optional<Mac> lla);
[[nodiscard]] Bytes nd_advert(Mac smac, Mac dmac, const Addr6& src, const Addr6& dst, const Addr6& target,
                              uint8_t flags, std::optional<Mac> lla);
[[nodiscard]] Bytes router_solicit(Mac smac, const Addr6& src, std::optional<Mac> lla);
[[nodiscard]] Bytes router_advert(Mac smac, Mac dmac, const Addr6& src, const Addr6& dst);
// An MLDv2 report (type 143) to ff02::16, hop-by-hop router alert as RFC 3810 asks.
[[nodiscard]] Bytes mld2_report(Mac smac, const Addr6& src);
// A UDP message between DHCPv6 ports (a 4-byte message: type, transaction id).
[[nodiscard]] Bytes dhcp6(Mac smac, Mac dmac, const Addr6& src, uint16_t sport, const Addr6& dst, uint16_t dport,
                          uint8_t msg_type);

inline constexpr uint8_t kNaRouter = 0x80, kNaSolicited = 0x40, kNaOverride = 0x20;

}  // namespace sgfw::scenario
