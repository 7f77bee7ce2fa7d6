// Byte helpers shared by the packet parser's unit tests (packet_frames4.hpp,
// packet_frames6.hpp): big-endian appends and stores, wire-order values, an Ethernet
// II frame between two fixed MACs, and a TCP header. Test code only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace sgfw::test {

using Bytes = std::vector<uint8_t>;

constexpr uint8_t kDstMac[6] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x0b};
constexpr uint8_t kSrcMac[6] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x0a};

inline void append16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void append32(Bytes& b, uint32_t v) {
  append16(b, static_cast<uint16_t>(v >> 16));
  append16(b, static_cast<uint16_t>(v));
}
inline void append(Bytes& b, const Bytes& x) { b.insert(b.end(), x.begin(), x.end()); }
inline void put16(Bytes& b, size_t at, uint16_t v) {
  b.at(at) = static_cast<uint8_t>(v >> 8);
  b.at(at + 1) = static_cast<uint8_t>(v);
}
// Host-order value -> the wire-order representation the parser stores in *_be fields.
inline uint16_t be16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  uint16_t r;
  std::memcpy(&r, b, 2);
  return r;
}
inline uint32_t be32(uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  uint32_t r;
  std::memcpy(&r, b, 4);
  return r;
}

// kSrcMac -> kDstMac, then `pad` bytes of Ethernet padding (garbage the parser must ignore).
inline Bytes eth(uint16_t ethertype, const Bytes& payload, size_t pad = 0) {
  Bytes f(kDstMac, kDstMac + 6);
  f.insert(f.end(), kSrcMac, kSrcMac + 6);
  append16(f, ethertype);
  append(f, payload);
  f.insert(f.end(), pad, 0xee);
  return f;
}

// A TCP header with doff_words*4 bytes (options are NOPs) and `payload` bytes of data.
inline Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags = 0x02, uint8_t doff_words = 5,
                 size_t payload = 0) {
  Bytes t;
  append16(t, sport);
  append16(t, dport);
  append32(t, 1000);
  append32(t, 0);
  t.push_back(static_cast<uint8_t>(doff_words << 4));
  t.push_back(flags);
  append16(t, 65535);
  append16(t, 0);
  append16(t, 0);
  for (size_t i = 20; i < size_t{doff_words} * 4; ++i) t.push_back(1);
  t.insert(t.end(), payload, 0x61);
  return t;
}

}  // namespace sgfw::test
