// Addresses and CIDR blocks of both IP families, with strict text parsing and canonical
// text (docs/policy-format.md, "Addresses"). The control path (policy model, loader,
// reference matcher, explain) uses these; the IPv4 data plane keeps core::Ipv4/Cidr.
// Thread-safety: plain value types; every function is pure and thread-safe. Nothing
// here throws (parsers return nullopt or an error code).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ipv4.hpp"

namespace sgfw::core {

enum class Family : uint8_t { kIpv4 = 4, kIpv6 = 6 };

// "IPv4" or "IPv6".
[[nodiscard]] std::string_view to_string(Family f);

// An IPv6 address: 16 bytes in network byte order (2001:db8::1 == 20 01 0d b8 0 ... 0 01).
struct Ipv6 {
  std::array<uint8_t, 16> bytes{};
  auto operator<=>(const Ipv6&) const = default;
};

// An address of either family. Converts implicitly from Ipv4 and Ipv6. The member of
// the other family is always zero, so the defaulted comparison orders by family
// (every IPv4 address before every IPv6 address), then by address.
struct IpAddress {
  Family family = Family::kIpv4;
  Ipv4 v4;  // valid iff family == kIpv4 (host byte order)
  Ipv6 v6;  // valid iff family == kIpv6 (network byte order)

  IpAddress() = default;
  IpAddress(Ipv4 a) : family(Family::kIpv4), v4(a) {}  // NOLINT: implicit by design
  IpAddress(Ipv6 a) : family(Family::kIpv6), v6(a) {}  // NOLINT: implicit by design

  [[nodiscard]] bool is_v4() const noexcept { return family == Family::kIpv4; }
  [[nodiscard]] bool is_v6() const noexcept { return family == Family::kIpv6; }
  auto operator<=>(const IpAddress&) const = default;
};

// Bits in an address of the family: 32 or 128.
[[nodiscard]] constexpr uint8_t address_bits(Family f) noexcept { return f == Family::kIpv4 ? 32 : 128; }

// A CIDR block of either family. Invariant when produced by parse_ip_cidr: prefix is at
// most address_bits(base.family) and no host bit of base is set.
struct IpCidr {
  IpAddress base;
  uint8_t prefix = 32;

  [[nodiscard]] Family family() const noexcept { return base.family; }
  // The single-address block of `a` (/32 or /128).
  [[nodiscard]] static IpCidr host(const IpAddress& a) noexcept { return {a, address_bits(a.family)}; }
  [[nodiscard]] bool is_host() const noexcept { return prefix == address_bits(base.family); }
  // False for an address of the other family.
  [[nodiscard]] bool contains(const IpAddress& a) const noexcept;
  // Every address of `inner` is in this block (false across families).
  [[nodiscard]] bool contains(const IpCidr& inner) const noexcept;
  // The IPv4 block; precondition: family() == kIpv4.
  [[nodiscard]] Cidr v4() const noexcept { return Cidr{base.v4, prefix}; }
  auto operator<=>(const IpCidr&) const = default;
};

// An IPv4 block as an IpCidr.
[[nodiscard]] inline IpCidr to_ip_cidr(const Cidr& c) noexcept { return {IpAddress(c.base), c.prefix}; }

// IPv6 in any RFC 4291 text form ("::", "::1", "2001:0db8:0:0::10", an embedded dotted
// quad in the last 32 bits as in "::ffff:192.0.2.1"); no zone id, brackets or spaces.
[[nodiscard]] std::optional<Ipv6> parse_ipv6(std::string_view text);

// Text with a ':' is read as IPv6, anything else as IPv4 (core::parse_ipv4: strict
// dotted quad).
[[nodiscard]] std::optional<IpAddress> parse_ip(std::string_view text);

// "ADDRESS" (a single address: /32 or /128) or "ADDRESS/N" with N in 0..32 (IPv4) or
// 0..128 (IPv6), decimal without leading zeros. Host bits set: error kHostBits (so the
// caller can name it), anything else malformed: kSyntax.
struct IpCidrParse {
  std::optional<IpCidr> cidr;
  CidrError error = CidrError::kSyntax;
};
[[nodiscard]] IpCidrParse parse_ip_cidr(std::string_view text);

// Canonical text: dotted quad for IPv4; RFC 5952 for IPv6 (lower case, leading zeros
// dropped, the longest run of two or more zero groups - the first of equal runs -
// written "::", IPv4-mapped addresses as ::ffff:a.b.c.d).
[[nodiscard]] std::string to_string(const Ipv6& a);
[[nodiscard]] std::string to_string(const IpAddress& a);
// "BASE/PREFIX", always with the prefix.
[[nodiscard]] std::string to_string(const IpCidr& c);

}  // namespace sgfw::core
