// The burst context of the packet pipeline (lib/dataplane/pipeline.hpp): what the
// stages hand each other for one burst. Private to lib/dataplane.
// Data path: plain values on the worker's stack. Thread-safety: one worker.
#pragma once

#include <rte_byteorder.h>

#include <cstdint>
#include <cstring>

#include "acl/check_plan.hpp"
#include "dataplane/family.hpp"
#include "dataplane/pipeline.hpp"
#include "flow/flow_key.hpp"
#include "packet/parsed_packet.hpp"

namespace sgfw::dataplane {

inline constexpr uint32_t kNoVm = acl::kNoVm;
// Parsed::flow_pos / PendingOf::looked_pos: the express stage did not look the key up.
inline constexpr int32_t kNotLooked = INT32_MIN;

// The six bytes of a MAC as one integer, first byte most significant (core::Mac::as_u64's
// order): two loads and two byte swaps (a byte loop here was not unrolled: a serial
// chain of 6 shifts per frame).
inline uint64_t mac_u64(const uint8_t* b) {
  uint32_t first4;
  uint16_t last2;
  std::memcpy(&first4, b, 4);
  std::memcpy(&last2, b + 4, 2);
  return uint64_t{rte_be_to_cpu_32(first4)} << 16 | rte_be_to_cpu_16(last2);
}

inline bool is_group_mac(const uint8_t* b) { return (b[0] & 1) != 0; }

// UDP source ports of DHCPv4 servers (67) and clients (68), wire order.
inline constexpr uint16_t kDhcpServerPortBe = RTE_BE16(67);
inline constexpr uint16_t kDhcpClientPortBe = RTE_BE16(68);
inline bool is_dhcp_source_port(uint16_t sport_be) {
  return sport_be == kDhcpServerPortBe || sport_be == kDhcpClientPortBe;
}
// ... and of DHCPv6 servers (547) and clients (546).
inline constexpr uint16_t kDhcp6ServerPortBe = RTE_BE16(547);
inline constexpr uint16_t kDhcp6ClientPortBe = RTE_BE16(546);

// What happens to a packet that passed the L2/L3 checks.
enum class Path : uint8_t {
  kNew,         // no live connection: rule checks, then a new connection
  kStateless,   // ICMP that creates no state (an echo reply without its request, non-echo): rule checks only
  kRevalidate,  // live connection admitted under an older generation: re-check originally
  kFast,        // live connection: pass
  kRelated,     // ICMP error about a live connection: pass (re-checked if the policy changed)
  kFragment,    // non-first fragment: follows its first fragment's remembered verdict
};

// One admitted packet between the stages; F is Ipv4Family or Ipv6Family (family.hpp).
template <class F>
struct PendingOf {
  rte_mbuf* m;
  uint32_t src_vm;  // sending local VM (snapshot index), or kNoVm
  uint32_t dst_vm;  // receiving local VM, or kNoVm
  uint16_t out_port;
  Path path;
  bool src_is_lo;       // the packet's source is the key's lo endpoint
  bool first_fragment;
  bool express_ok;      // both ends found by the address table (no allowed address pair): express.hpp
  int32_t flow_pos;     // live connection (kFast, kRevalidate, kRelated), else -1
  int32_t looked_pos;   // the express stage's lookup of `key` (kNotLooked: none)
  typename F::Key key;  // connection key (kNew, kStateless, kRevalidate, kFast)
  typename F::Addr src_be, dst_be;
  uint16_t sport_be, dport_be;  // as in the key (ICMP echo: identifier on the requester's side, 0 on the other)
  uint32_t frag_id_be;          // IPv4 identification (16 bits) or the IPv6 fragment header's
  uint8_t proto, tcp_flags, icmp_type;
  acl::AddressInfo src_info, dst_info;  // from the address table
  typename F::Plan checks;
  uint32_t result[2];  // deciding rule id + 1 per check, or kNoMatch

  [[nodiscard]] uint32_t owner() const { return src_vm != kNoVm ? src_vm : dst_vm; }
};
using Pending = PendingOf<Ipv4Family>;
using Pending6 = PendingOf<Ipv6Family>;

template <class F>
struct BurstOf {
  // The pending packets are left unconstructed (their members' defaults would cost a
  // few hundred stores per burst): admit_ip writes every field a later stage reads
  // (the checks' vm and context only once `needed` says so).
  BurstOf() {}  // NOLINT: leaves pend unconstructed on purpose
  union {
    PendingOf<F> pend[kBurst];
  };
  uint16_t np = 0;
  uint16_t nnew = 0;  // of them on Path::kNew after stage 2 (counted by stage 3)
};

// Stage 1's bulk results for the frames that parsed (both families, in arrival order).
struct Parsed {
  // The results are constructed by parse_burst, one per frame, straight from parse()'s
  // return value: no zeroing of 32 results per burst that parse() then overwrites.
  Parsed() {}  // NOLINT: leaves pkt unconstructed on purpose
  union {
    packet::ParsedPacket pkt[kBurst];
  };
  rte_mbuf* m[kBurst];  // nullptr: passed by the express stage (stage_express.cpp)
  int32_t flow_pos[kBurst];  // the express stage's connection lookup, or kNotLooked
  uint64_t src_mac[kBurst];
  uint32_t src_vm[kBurst];
  union {  // unconstructed too: lookup_links writes both entries of every frame it keeps
    acl::AddressInfo addr[2 * kBurst];  // [2i] source, [2i+1] destination (the frame's family's table)
  };
  uint16_t n = 0;
  uint16_t n6 = 0;  // how many of the n are IPv6
};

}  // namespace sgfw::dataplane
