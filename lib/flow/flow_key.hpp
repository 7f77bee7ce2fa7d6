// The connection keys (IPv4: FlowKey, IPv6: FlowKey6; docs/design/flow-table.md):
// both directions of a connection map to the same key (endpoints in canonical order).
// Addresses and ports in network byte order, as read from the packet. Thread-safety:
// plain values. Data path: inline, no allocation, no errors.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sgfw::flow {

// 8-byte aligned: rte_hash_crc reads keys 8 bytes at a time.
struct alignas(8) FlowKey {
  using Addr = uint32_t;  // what BasicFlowEntry's orig_addr_be()/resp_addr_be() return
  uint32_t addr_lo;  // the endpoint that sorts first (by address, then port)
  uint32_t addr_hi;
  uint16_t port_lo;  // TCP/UDP port; ICMP echo: the identifier on the requester's side, 0 on the other
  uint16_t port_hi;
  uint8_t proto;
  uint8_t pad[3];
};
static_assert(sizeof(FlowKey) == 16);

// Builds the canonical key of a packet (src, sport) -> (dst, dport). `src_is_lo`, if
// given, says whether the packet's source is the key's lo endpoint (its direction).
// The key is composed as two 8-byte words in registers (the struct's little-endian
// layout, pad bytes 0) and copied in whole: built field by field on the stack, it was
// read back with one 16-byte load that no store could forward (a stall per packet).
inline FlowKey make_flow_key(uint8_t proto, uint32_t src_be, uint16_t sport_be, uint32_t dst_be, uint16_t dport_be,
                             bool* src_is_lo = nullptr) {
  static_assert(std::endian::native == std::endian::little, "the words below follow FlowKey's layout");
  static_assert(offsetof(FlowKey, addr_hi) == 4 && offsetof(FlowKey, port_lo) == 8 &&
                offsetof(FlowKey, port_hi) == 10 && offsetof(FlowKey, proto) == 12);
  const bool keep = src_be < dst_be || (src_be == dst_be && sport_be <= dport_be);
  const uint64_t addrs = keep ? (uint64_t{dst_be} << 32 | src_be) : (uint64_t{src_be} << 32 | dst_be);
  const uint64_t rest = uint64_t{proto} << 32 | (keep ? (uint32_t{dport_be} << 16 | sport_be)
                                                       : (uint32_t{sport_be} << 16 | dport_be));
  if (src_is_lo) *src_is_lo = keep;
  FlowKey k;
  std::memcpy(&k, &addrs, 8);
  std::memcpy(reinterpret_cast<unsigned char*>(&k) + 8, &rest, 8);
  return k;
}

// An IPv6 address as on the wire (network byte order).
using Addr6 = std::array<uint8_t, 16>;

// The IPv6 connection key: 40 bytes (a multiple of 8, for rte_hash_crc).
struct alignas(8) FlowKey6 {
  using Addr = Addr6;
  Addr6 addr_lo;     // the endpoint that sorts first (by address bytes, then port)
  Addr6 addr_hi;
  uint16_t port_lo;  // as FlowKey::port_lo
  uint16_t port_hi;
  uint8_t proto;     // the upper-layer protocol (after extension headers)
  uint8_t pad[3];
};
static_assert(sizeof(FlowKey6) == 40);
static_assert(alignof(FlowKey6) == 8);

// As make_flow_key, for IPv6: `src16`/`dst16` point to 16 address bytes each (network
// order; need not be aligned). Addresses compare as byte strings (memcmp), which is
// the numeric order of the 128-bit addresses; equal addresses: by port (network order,
// as make_flow_key compares them).
inline FlowKey6 make_flow_key6(uint8_t proto, const uint8_t* src16, uint16_t sport_be, const uint8_t* dst16,
                               uint16_t dport_be, bool* src_is_lo = nullptr) {
  FlowKey6 k;
  std::memset(&k, 0, sizeof(k));
  k.proto = proto;
  int c = std::memcmp(src16, dst16, 16);
  bool keep = c < 0 || (c == 0 && sport_be <= dport_be);
  std::memcpy(k.addr_lo.data(), keep ? src16 : dst16, 16);
  std::memcpy(k.addr_hi.data(), keep ? dst16 : src16, 16);
  k.port_lo = keep ? sport_be : dport_be;
  k.port_hi = keep ? dport_be : sport_be;
  if (src_is_lo) *src_is_lo = keep;
  return k;
}

// How long a first fragment's verdict is remembered (docs/design/packet-path.md).
inline constexpr uint32_t kFragmentSeconds = 15;

// The fragment table's key: one datagram's fragment train (direction matters).
inline FlowKey make_fragment_key(uint8_t proto, uint32_t src_be, uint32_t dst_be, uint16_t ip_id_be) {
  FlowKey k;
  std::memset(&k, 0, sizeof(k));
  k.proto = proto;
  k.addr_lo = src_be;
  k.addr_hi = dst_be;
  k.port_lo = ip_id_be;
  return k;
}

// The IPv6 fragment table's key: one datagram's fragment train, by (source,
// destination, upper-layer protocol, the Fragment header's 32-bit identification).
// Direction matters. `src16`/`dst16`: 16 bytes each, network order.
inline FlowKey6 make_fragment_key6(uint8_t proto, const uint8_t* src16, const uint8_t* dst16, uint32_t frag_id_be) {
  FlowKey6 k;
  std::memset(&k, 0, sizeof(k));
  k.proto = proto;
  std::memcpy(k.addr_lo.data(), src16, 16);
  std::memcpy(k.addr_hi.data(), dst16, 16);
  std::memcpy(&k.port_lo, &frag_id_be, sizeof(frag_id_be));  // port_lo, port_hi: the id's bytes in wire order
  return k;
}

}  // namespace sgfw::flow
