// The policy and frames of sgfw-bench traffic (traffic_bench.hpp). Control path (the
// frames are built and renewed outside the timed passes); not thread-safe per mbuf.
//
// Addresses: VM i is 10.1.0.(i+1); allowed destinations are in 198.18.0.0/15, denied
// ones in 203.0.113.0/24, and the rules the traffic does not match name 172.16.0.0/12
// /24s. With family 6 every one of them is its IPv6 twin (bench::ipv6_twin, as
// gen-policy --family 6 maps addresses): fd00::a01:0/112 for the VMs, 2001:db8::/96 +
// the 32 bits for the rest. Frames are UDP from a VM to the uplink in both families:
// 14 + 20 + 8 = 42 bytes of headers for IPv4, 14 + 40 + 8 = 62 for IPv6.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "bench/traffic_bench.hpp"
#include "core/mac.hpp"
#include "policy/model.hpp"

namespace sgfw::bench {

inline constexpr uint32_t kTrafficVmNet = 0x0a010000;     // 10.1.0.0/16: VM addresses
inline constexpr uint32_t kTrafficAllowNet = 0xc6120000;  // 198.18.0.0/15: allowed destinations
inline constexpr uint32_t kTrafficDenyNet = 0xcb007100;   // 203.0.113.0/24: denied destinations

// The smallest frame (bytes without FCS) a scenario can build for `family` (4 or 6):
// Ethernet's 60-byte minimum for IPv4, 62 (the headers) for IPv6.
[[nodiscard]] unsigned min_traffic_frame(unsigned family);

// One group per rule set (at most 16, VMs share them): rules_per_vm - 1 rules the
// traffic does not match (other blocks and ports, both directions), then the egress UDP
// rule to the allowed block. VM addresses and rule blocks of options.family.
[[nodiscard]] policy::Policy make_traffic_policy(const TrafficOptions& options);

// Writes a UDP frame of `size` bytes from VM `vm` to dst:dport with source port sport;
// `dst` is an IPv4 address, or the last 32 bits of its IPv6 twin with family 6.
void write_traffic_frame(rte_mbuf* m, unsigned family, unsigned size, unsigned vm, uint32_t dst, uint16_t sport,
                         uint16_t dport);

// A frame of write_traffic_frame made a new connection: new source port and destination.
void renew_traffic_frame(rte_mbuf* m, unsigned family, uint16_t sport, uint32_t dst);

}  // namespace sgfw::bench
