#include <cstdlib>
#include <cstring>
#include <memory>

#include "entries.hpp"
#include "packet/bootp.hpp"
#include "packet/icmp_error_inner.hpp"
#include "packet/parser.hpp"

namespace sgfw::fuzz {

int packet_parser(const uint8_t* data, size_t size) {
  if (size > 65535) return 0;
  // An exactly sized heap copy: ASan reports any read past the frame.
  std::unique_ptr<uint8_t[]> frame(size ? new uint8_t[size] : nullptr);
  if (size) std::memcpy(frame.get(), data, size);
  const auto len = static_cast<uint32_t>(size);
  const packet::ParsedPacket p = packet::parse(frame.get(), len);
  if (!(packet::parse(frame.get(), len) == p)) std::abort();  // pure: same frame, same result
  using Kind = packet::ParsedPacket::Kind;
  if ((p.kind == Kind::kIpv4 || p.kind == Kind::kIpv6) && uint32_t{p.l4_offset} + p.l4_len > len)
    std::abort();  // L4 inside the frame
  const packet::IcmpErrorInner inner = packet::parse_icmp_error_inner(frame.get(), len, p);
  if (!inner.valid && !(inner == packet::IcmpErrorInner{})) std::abort();
  const packet::IcmpErrorInner inner6 = packet::parse_icmp6_error_inner(frame.get(), len, p);
  if (!inner6.valid && !(inner6 == packet::IcmpErrorInner{})) std::abort();
  if (inner.valid && inner6.valid) std::abort();  // one family per frame
  const packet::BootpMessage bootp = packet::read_bootp(frame.get(), len, p);  // DHCPv4 link service
  if (bootp.valid && (p.kind != Kind::kIpv4 || p.proto != 17 || p.is_fragment)) std::abort();
  return 0;
}

}  // namespace sgfw::fuzz
