#include "packet/bootp.hpp"

#include <cstring>

#include "packet/wire.hpp"

namespace sgfw::packet {

BootpMessage read_bootp(const uint8_t* frame, uint32_t len, const ParsedPacket& outer) noexcept {
  BootpMessage m;
  if (outer.kind != ParsedPacket::Kind::kIpv4 || outer.proto != wire::kProtoUdp || outer.is_fragment) return m;
  // The parser checked the UDP length against the IPv4 total length and the frame.
  const uint32_t payload = outer.l4_offset + sizeof(wire::UdpHdr);
  if (outer.udp_len < sizeof(wire::UdpHdr) + kBootpFixedLen || payload + kBootpFixedLen > len) return m;
  const uint8_t* b = frame + payload;
  if (b[1] != 1 || b[2] != 6) return m;  // htype Ethernet, hlen 6
  m.valid = true;
  m.op = b[0];
  std::memcpy(m.chaddr, b + kBootpChaddrOffset, sizeof m.chaddr);
  return m;
}

}  // namespace sgfw::packet
