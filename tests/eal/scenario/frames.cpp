#include "frames.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace sgfw::scenario {

namespace {

void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void put32(Bytes& b, size_t at, uint32_t v) {
  put16(b, at, static_cast<uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<uint16_t>(v));
}
uint16_t checksum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) s += static_cast<uint32_t>(p[n - 1] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}
Bytes ethernet(Mac src, Mac dst, uint16_t type) {
  Bytes b(14);
  std::memcpy(b.data(), dst.b, 6);
  std::memcpy(b.data() + 6, src.b, 6);
  put16(b, 12, type);
  return b;
}

}  // namespace

Mac mac(const std::string& t) {
  Mac m{};
  unsigned v[6];
  if (std::sscanf(t.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    throw std::invalid_argument("bad MAC " + t);
  for (int i = 0; i < 6; ++i) m.b[i] = static_cast<uint8_t>(v[i]);
  return m;
}

uint32_t ip(const std::string& t) {
  in_addr a{};
  if (inet_pton(AF_INET, t.c_str(), &a) != 1) throw std::invalid_argument("bad IPv4 " + t);
  return ntohl(a.s_addr);
}

Bytes ipv4_frame(Mac src, Mac dst, const Ip& ip, const Bytes& l4) {
  Bytes opts = ip.options;
  while (opts.size() % 4) opts.push_back(0);
  size_t hl = 20 + opts.size();
  Bytes b = ethernet(src, dst, 0x0800);
  Bytes h(hl);
  h[0] = static_cast<uint8_t>(0x40 | (hl / 4));
  put16(h, 2, static_cast<uint16_t>(hl + l4.size()));
  put16(h, 4, ip.id);
  put16(h, 6, static_cast<uint16_t>((ip.more_fragments ? 0x2000 : 0) | ip.frag_offset));
  h[8] = ip.ttl;
  h[9] = ip.proto;
  put32(h, 12, ip.src);
  put32(h, 16, ip.dst);
  if (!opts.empty()) std::memcpy(h.data() + 20, opts.data(), opts.size());  // memcpy(null, 0) is UB
  put16(h, 10, checksum(h.data(), hl));
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), l4.begin(), l4.end());
  while (b.size() < 60) b.push_back(0);  // Ethernet minimum (padding beyond total length)
  return b;
}

Bytes tcp_header(uint16_t sport, uint16_t dport, uint8_t flags) {
  Bytes t(20);
  put16(t, 0, sport);
  put16(t, 2, dport);
  put32(t, 4, 1000);
  put32(t, 8, (flags & kAck) ? 2000 : 0);
  t[12] = 5 << 4;
  t[13] = flags;
  put16(t, 14, 65535);
  return t;
}

Bytes udp_datagram(uint16_t sport, uint16_t dport, size_t payload) {
  Bytes u(8 + payload, 0xab);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, static_cast<uint16_t>(8 + payload));
  put16(u, 6, 0);
  return u;
}

Bytes icmp_message(uint8_t type, uint8_t code, uint16_t id, uint16_t seq, const Bytes& data) {
  Bytes c(8);
  c[0] = type;
  c[1] = code;
  put16(c, 4, id);
  put16(c, 6, seq);
  c.insert(c.end(), data.begin(), data.end());
  put16(c, 2, checksum(c.data(), c.size()));
  return c;
}

Bytes tcp(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst, uint16_t dport,
          uint8_t flags) {
  return ipv4_frame(smac, dmac, Ip{ip(src), ip(dst), 6}, tcp_header(sport, dport, flags));
}

Bytes udp(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst, uint16_t dport,
          size_t payload) {
  return ipv4_frame(smac, dmac, Ip{ip(src), ip(dst), 17}, udp_datagram(sport, dport, payload));
}

Bytes icmp_echo(Mac smac, Mac dmac, const std::string& src, const std::string& dst, bool request, uint16_t id,
                uint16_t seq) {
  return ipv4_frame(smac, dmac, Ip{ip(src), ip(dst), 1}, icmp_message(request ? 8 : 0, 0, id, seq, Bytes(16, 1)));
}

Bytes icmp_error(Mac smac, Mac dmac, const std::string& src, const std::string& dst, uint8_t type, uint8_t code,
                 const Bytes& quoted) {
  size_t ihl = static_cast<size_t>(quoted[14] & 0x0f) * 4;
  Bytes q(quoted.begin() + 14, quoted.begin() + 14 + static_cast<long>(ihl + 8));
  Bytes body = icmp_message(type, code, 0, type == 3 && code == 4 ? 1400 : 0, q);
  return ipv4_frame(smac, dmac, Ip{ip(src), ip(dst), 1}, body);
}

std::vector<Bytes> udp_fragments(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst,
                                 uint16_t dport, size_t payload, uint16_t id, size_t mtu) {
  Bytes whole = udp_datagram(sport, dport, payload);
  size_t chunk = ((mtu - 20) / 8) * 8;
  std::vector<Bytes> out;
  for (size_t off = 0; off < whole.size(); off += chunk) {
    size_t n = std::min(chunk, whole.size() - off);
    Ip h{ip(src), ip(dst), 17, id, static_cast<uint16_t>(off / 8), off + n < whole.size()};
    out.push_back(ipv4_frame(smac, dmac, h, Bytes(whole.begin() + static_cast<long>(off),
                                                  whole.begin() + static_cast<long>(off + n))));
  }
  return out;
}

Bytes arp(Mac smac, Mac dmac, uint16_t op, Mac sha, const std::string& spa, Mac tha, const std::string& tpa) {
  Bytes b = ethernet(smac, dmac, 0x0806);
  Bytes a(28);
  put16(a, 0, 1);
  put16(a, 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16(a, 6, op);
  std::memcpy(a.data() + 8, sha.b, 6);
  put32(a, 14, ip(spa));
  std::memcpy(a.data() + 18, tha.b, 6);
  put32(a, 24, ip(tpa));
  b.insert(b.end(), a.begin(), a.end());
  while (b.size() < 60) b.push_back(0);
  return b;
}

}  // namespace sgfw::scenario
