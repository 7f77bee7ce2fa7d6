// The first-packet tuple judged by docs/enforcement.md §3. Thread-safety: plain value.
#pragma once

#include <cstdint>

#include "core/ipv4.hpp"
#include "core/protocols.hpp"

namespace sgfw::policy {

struct PacketTuple {
  uint8_t proto = 0;          // IP protocol number
  core::Ipv4 src;
  core::Ipv4 dst;
  uint16_t sport = 0;         // TCP/UDP only, else 0
  uint16_t dport = 0;         // TCP/UDP only, else 0
  uint8_t icmp_type = 8;      // ICMP only
  uint8_t icmp_code = 0;      // ICMP only
};

using core::has_ports;

}  // namespace sgfw::policy
