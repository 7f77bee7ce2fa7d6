#include "core/ip_address.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace sgfw::core {

namespace {

// Decimal 0..max without sign or leading zeros.
std::optional<uint32_t> parse_prefix(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

// Byte i of the prefix mask of `prefix` bits.
uint8_t mask_byte(uint8_t prefix, size_t i) {
  size_t bits = prefix > 8 * i ? prefix - 8 * i : 0;
  return bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00u >> bits);
}

bool v6_contains(const Ipv6& base, uint8_t prefix, const Ipv6& a) {
  for (size_t i = 0; i < 16; ++i)
    if ((a.bytes[i] & mask_byte(prefix, i)) != base.bytes[i]) return false;
  return true;
}

}  // namespace

std::string_view to_string(Family f) { return f == Family::kIpv4 ? "IPv4" : "IPv6"; }

bool IpCidr::contains(const IpAddress& a) const noexcept {
  if (a.family != base.family) return false;
  if (a.is_v4()) return v4().contains(a.v4);
  return v6_contains(base.v6, prefix, a.v6);
}

bool IpCidr::contains(const IpCidr& inner) const noexcept {
  return inner.family() == family() && inner.prefix >= prefix && contains(inner.base);
}

std::optional<Ipv6> parse_ipv6(std::string_view text) {
  // inet_pton takes a C string: refuse what it must not see (NUL, over-long input).
  // It already refuses zone ids ('%'), brackets, spaces and leading zeros in a dotted
  // quad.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos)
    return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Ipv6 a;
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  return a;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    auto a = parse_ipv6(text);
    if (!a) return std::nullopt;
    return IpAddress(*a);
  }
  auto a = parse_ipv4(text);
  if (!a) return std::nullopt;
  return IpAddress(*a);
}

IpCidrParse parse_ip_cidr(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = parse_ip(text.substr(0, slash));
  if (!addr) return {};
  const uint8_t bits = address_bits(addr->family);
  uint32_t prefix = bits;
  if (slash != std::string_view::npos) {
    auto p = parse_prefix(text.substr(slash + 1), bits);
    if (!p) return {};
    prefix = *p;
  }
  IpCidr c{*addr, static_cast<uint8_t>(prefix)};
  bool host_bits = false;
  if (addr->is_v4()) {
    host_bits = (addr->v4.value & ~c.v4().mask()) != 0;
  } else {
    for (size_t i = 0; i < 16; ++i) host_bits = host_bits || (addr->v6.bytes[i] & ~mask_byte(c.prefix, i)) != 0;
  }
  if (host_bits) return {std::nullopt, CidrError::kHostBits};
  return {c, CidrError::kSyntax};
}

std::string to_string(const Ipv6& a) {
  uint16_t g[8];
  for (size_t i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(a.bytes[2 * i] << 8 | a.bytes[2 * i + 1]);
  // IPv4-mapped (::ffff:0:0/96): the dotted form RFC 5952 §5 recommends.
  bool mapped = g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff;
  if (mapped)
    return "::ffff:" + to_string(Ipv4{static_cast<uint32_t>(g[6]) << 16 | g[7]});
  // The longest run of zero groups (two or more; the first of equal runs) becomes "::".
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string s;
  char buf[8];
  for (int i = 0; i < 8;) {
    if (i == best) {
      s += "::";
      i += best_len;
      continue;
    }
    if (!s.empty() && s.back() != ':') s += ':';
    std::snprintf(buf, sizeof(buf), "%x", g[i]);
    s += buf;
    ++i;
  }
  return s;
}

std::string to_string(const IpAddress& a) { return a.is_v4() ? to_string(a.v4) : to_string(a.v6); }

std::string to_string(const IpCidr& c) { return to_string(c.base) + "/" + std::to_string(c.prefix); }

}  // namespace sgfw::core
