// The first-packet tuple judged by docs/enforcement.md §3. Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <optional>

#include "core/ip_address.hpp"
#include "core/mac.hpp"
#include "core/protocols.hpp"

namespace sgfw::policy {

struct PacketTuple {
  uint8_t proto = 0;          // IP protocol number (IPv6: the upper-layer header; ICMPv6 = 58)
  core::IpAddress src;        // src and dst are of the same family (a precondition of
  core::IpAddress dst;        // every consumer; explain::parse_tuple refuses mixed ones)
  uint16_t sport = 0;         // TCP/UDP only, else 0
  uint16_t dport = 0;         // TCP/UDP only, else 0
  uint8_t icmp_type = 8;      // ICMP/ICMPv6 only
  uint8_t icmp_code = 0;      // ICMP/ICMPv6 only
  // The frame's MACs, needed only where an end's address belongs to several local VMs
  // (a shared allowed address pair): the MAC picks the VM (docs/enforcement.md §3.1).
  std::optional<core::Mac> src_mac;
  std::optional<core::Mac> dst_mac;

  [[nodiscard]] core::Family family() const noexcept { return src.family; }
};

using core::has_ports;

}  // namespace sgfw::policy
