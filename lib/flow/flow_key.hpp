// The connection key: both directions of a connection map to the same key
// (endpoints in canonical order). Addresses and ports in network byte order, as read
// from the packet. Thread-safety: plain value. Data path: inline, no allocation.
#pragma once

#include <cstdint>
#include <cstring>

namespace sgfw::flow {

// 8-byte aligned: rte_hash_crc reads keys 8 bytes at a time.
struct alignas(8) FlowKey {
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
inline FlowKey make_flow_key(uint8_t proto, uint32_t src_be, uint16_t sport_be, uint32_t dst_be, uint16_t dport_be,
                             bool* src_is_lo = nullptr) {
  FlowKey k;
  std::memset(&k, 0, sizeof(k));
  k.proto = proto;
  bool keep = src_be < dst_be || (src_be == dst_be && sport_be <= dport_be);
  k.addr_lo = keep ? src_be : dst_be;
  k.addr_hi = keep ? dst_be : src_be;
  k.port_lo = keep ? sport_be : dport_be;
  k.port_hi = keep ? dport_be : sport_be;
  if (src_is_lo) *src_is_lo = keep;
  return k;
}

}  // namespace sgfw::flow
