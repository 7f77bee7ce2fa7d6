#include "frames6.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace sgfw::scenario {

namespace {

void append16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void append32(Bytes& b, uint32_t v) {
  append16(b, static_cast<uint16_t>(v >> 16));
  append16(b, static_cast<uint16_t>(v));
}
void append(Bytes& b, const uint8_t* p, size_t n) { b.insert(b.end(), p, p + n); }

constexpr uint8_t kProtoIcmp6 = 58, kProtoUdp = 17, kProtoTcp = 6, kFragmentHeader = 44, kHopByHop = 0;

// ICMPv6 with its pseudo-header checksum (RFC 4443 §2.3).
Bytes icmp6(const Addr6& src, const Addr6& dst, uint8_t type, uint8_t code, const Bytes& body) {
  Bytes c{type, code, 0, 0};
  c.insert(c.end(), body.begin(), body.end());
  uint32_t s = 0;
  auto add = [&s](const uint8_t* p, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
    if (n & 1) s += static_cast<uint32_t>(p[n - 1] << 8);
  };
  add(src.data(), 16);
  add(dst.data(), 16);
  s += static_cast<uint32_t>(c.size()) + kProtoIcmp6;
  add(c.data(), c.size());
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  const auto sum = static_cast<uint16_t>(~s);
  c[2] = static_cast<uint8_t>(sum >> 8);
  c[3] = static_cast<uint8_t>(sum);
  return c;
}

Bytes lla_option(uint8_t kind, Mac m) {
  Bytes o{kind, 1};
  append(o, m.b, 6);
  return o;
}

}  // namespace

Addr6 ip6(const std::string& t) {
  Addr6 a{};
  if (inet_pton(AF_INET6, t.c_str(), a.data()) != 1) throw std::invalid_argument("bad IPv6 " + t);
  return a;
}

Addr6 link_local(Mac m) {
  Addr6 a{0xfe, 0x80};
  a[8] = static_cast<uint8_t>(m.b[0] ^ 0x02);
  a[9] = m.b[1];
  a[10] = m.b[2];
  a[11] = 0xff;
  a[12] = 0xfe;
  a[13] = m.b[3];
  a[14] = m.b[4];
  a[15] = m.b[5];
  return a;
}

Mac multicast_mac(const Addr6& g) { return Mac{{0x33, 0x33, g[12], g[13], g[14], g[15]}}; }

Bytes ipv6_frame(Mac src, Mac dst, const Ip6& ip, const Bytes& l4) {
  Bytes b;
  append(b, dst.b, 6);
  append(b, src.b, 6);
  append16(b, 0x86dd);
  Bytes ext;
  uint8_t first = ip.next_header;
  if (ip.fragment) {
    ext = {ip.next_header, 0};
    append16(ext, static_cast<uint16_t>((ip.frag_offset << 3) | (ip.more_fragments ? 1 : 0)));
    append32(ext, ip.frag_id);
    first = kFragmentHeader;
  }
  const Bytes h{0x60, 0, 0, 0};
  b.insert(b.end(), h.begin(), h.end());
  append16(b, static_cast<uint16_t>(ext.size() + l4.size()));
  b.push_back(first);
  b.push_back(ip.hop_limit);
  append(b, ip.src.data(), 16);
  append(b, ip.dst.data(), 16);
  b.insert(b.end(), ext.begin(), ext.end());
  b.insert(b.end(), l4.begin(), l4.end());
  while (b.size() < 60) b.push_back(0);
  return b;
}

Bytes tcp6(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst, uint16_t dport,
           uint8_t flags) {
  return ipv6_frame(smac, dmac, Ip6{ip6(src), ip6(dst), kProtoTcp}, tcp_header(sport, dport, flags));
}

Bytes udp6(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst, uint16_t dport,
           size_t payload) {
  return ipv6_frame(smac, dmac, Ip6{ip6(src), ip6(dst), kProtoUdp}, udp_datagram(sport, dport, payload));
}

Bytes icmp6_echo(Mac smac, Mac dmac, const std::string& src, const std::string& dst, bool request, uint16_t id,
                 uint16_t seq) {
  Bytes body;
  append16(body, id);
  append16(body, seq);
  body.insert(body.end(), 16, 1);
  return ipv6_frame(smac, dmac, Ip6{ip6(src), ip6(dst), kProtoIcmp6},
                    icmp6(ip6(src), ip6(dst), request ? 128 : 129, 0, body));
}

Bytes icmp6_error(Mac smac, Mac dmac, const std::string& src, const std::string& dst, uint8_t type, uint8_t code,
                  const Bytes& quoted, size_t quote_l4) {
  const auto payload = std::min(static_cast<size_t>(quoted[18] << 8 | quoted[19]), quote_l4);
  Bytes body;
  append32(body, type == 2 ? 1280 : 0);  // packet too big: the MTU
  body.insert(body.end(), quoted.begin() + 14, quoted.begin() + 14 + 40 + static_cast<long>(payload));
  return ipv6_frame(smac, dmac, Ip6{ip6(src), ip6(dst), kProtoIcmp6}, icmp6(ip6(src), ip6(dst), type, code, body));
}

std::vector<Bytes> udp6_fragments(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst,
                                  uint16_t dport, size_t payload, uint32_t id, size_t chunk) {
  Bytes whole = udp_datagram(sport, dport, payload);
  std::vector<Bytes> out;
  for (size_t off = 0; off < whole.size(); off += chunk) {
    size_t n = std::min(chunk, whole.size() - off);
    Ip6 h{ip6(src), ip6(dst), kProtoUdp};
    h.fragment = true;
    h.frag_offset = static_cast<uint16_t>(off / 8);
    h.more_fragments = off + n < whole.size();
    h.frag_id = id;
    out.push_back(ipv6_frame(smac, dmac, h, Bytes(whole.begin() + static_cast<long>(off),
                                                  whole.begin() + static_cast<long>(off + n))));
  }
  return out;
}

Bytes nd_solicit(Mac smac, Mac dmac, const Addr6& src, const Addr6& dst, const Addr6& target,
                 std::optional<Mac> lla) {
  Bytes body(4, 0);
  append(body, target.data(), 16);
  if (lla) {
    Bytes o = lla_option(1, *lla);
    body.insert(body.end(), o.begin(), o.end());
  }
  return ipv6_frame(smac, dmac, Ip6{src, dst, kProtoIcmp6, 255}, icmp6(src, dst, 135, 0, body));
}

Bytes nd_advert(Mac smac, Mac dmac, const Addr6& src, const Addr6& dst, const Addr6& target, uint8_t flags,
                std::optional<Mac> lla) {
  Bytes body{flags, 0, 0, 0};
  append(body, target.data(), 16);
  if (lla) {
    Bytes o = lla_option(2, *lla);
    body.insert(body.end(), o.begin(), o.end());
  }
  return ipv6_frame(smac, dmac, Ip6{src, dst, kProtoIcmp6, 255}, icmp6(src, dst, 136, 0, body));
}

Bytes router_solicit(Mac smac, const Addr6& src, std::optional<Mac> lla) {
  const Addr6 all_routers = ip6("ff02::2");
  Bytes body(4, 0);
  if (lla) {
    Bytes o = lla_option(1, *lla);
    body.insert(body.end(), o.begin(), o.end());
  }
  return ipv6_frame(smac, multicast_mac(all_routers), Ip6{src, all_routers, kProtoIcmp6, 255},
                    icmp6(src, all_routers, 133, 0, body));
}

Bytes router_advert(Mac smac, Mac dmac, const Addr6& src, const Addr6& dst) {
  Bytes body{64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0};  // hop limit, flags, lifetime 1800, timers
  return ipv6_frame(smac, dmac, Ip6{src, dst, kProtoIcmp6, 255}, icmp6(src, dst, 134, 0, body));
}

Bytes mld2_report(Mac smac, const Addr6& src) {
  const Addr6 mld_routers = ip6("ff02::16");
  Bytes body{0, 0, 0, 1};  // reserved, one record
  body.insert(body.end(), {4, 0, 0, 0});  // CHANGE_TO_EXCLUDE, no aux, no sources
  const Addr6 group = ip6("ff02::1:ff00:a");
  append(body, group.data(), 16);
  Bytes l4 = icmp6(src, mld_routers, 143, 0, body);
  // Hop-by-hop with a router alert option (RFC 2711: type 5, length 2, value 0).
  Bytes hbh{kProtoIcmp6, 0, 5, 2, 0, 0, 1, 0};
  Bytes b;
  append(b, multicast_mac(mld_routers).b, 6);
  append(b, smac.b, 6);
  append16(b, 0x86dd);
  const Bytes h{0x60, 0, 0, 0};
  b.insert(b.end(), h.begin(), h.end());
  append16(b, static_cast<uint16_t>(hbh.size() + l4.size()));
  b.push_back(kHopByHop);
  b.push_back(1);
  append(b, src.data(), 16);
  append(b, mld_routers.data(), 16);
  b.insert(b.end(), hbh.begin(), hbh.end());
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

Bytes dhcp6(Mac smac, Mac dmac, const Addr6& src, uint16_t sport, const Addr6& dst, uint16_t dport,
            uint8_t msg_type) {
  Bytes u;
  append16(u, sport);
  append16(u, dport);
  append16(u, 12);
  append16(u, 0);
  u.insert(u.end(), {msg_type, 0x12, 0x34, 0x56});
  return ipv6_frame(smac, dmac, Ip6{src, dst, kProtoUdp}, u);
}

}  // namespace sgfw::scenario
