// The rte_acl search key: one per (packet, check). Written by the data plane (and by
// explain) in network byte order; the field definitions below are what every context
// is built with. Layout by offsetof, never by magic numbers.
#pragma once

#include <rte_acl.h>

#include <cstddef>
#include <cstdint>

namespace sgfw::acl {

// All multi-byte fields in network byte order. rte_acl wants the first field one byte
// wide and the others grouped in 4-byte input words.
struct AclKey {
  uint8_t proto;
  uint8_t pad[3];
  uint32_t remote_addr;   // the other end: dst for egress, src for ingress
  uint32_t remote_class;  // compiler::ClassId of remote_addr (0: no VM)
  uint16_t sport;         // TCP/UDP, else 0 (not matched by any rule today)
  uint16_t dport;         // TCP/UDP, else 0
};
static_assert(sizeof(AclKey) == 16);

enum AclField : uint32_t { kFieldProto, kFieldRemoteAddr, kFieldRemoteClass, kFieldSport, kFieldDport, kNumFields };

RTE_ACL_RULE_DEF(AclRule, kNumFields);

inline constexpr rte_acl_field_def kAclFieldDefs[kNumFields] = {
    {RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), kFieldProto, 0, offsetof(AclKey, proto)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), kFieldRemoteAddr, 1, offsetof(AclKey, remote_addr)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint32_t), kFieldRemoteClass, 2, offsetof(AclKey, remote_class)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), kFieldSport, 3, offsetof(AclKey, sport)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), kFieldDport, 3, offsetof(AclKey, dport)},
};

// The IPv6 key (docs/design/rule-compilation.md, "IPv6 tables"): as AclKey with the
// remote address as four 32-bit MASK fields, like DPDK's l3fwd IPv6 ACL.
struct AclKey6 {
  uint8_t proto;           // the upper-layer protocol (ICMPv6: 58)
  uint8_t pad[3];
  uint32_t remote_addr[4];  // the other end, network byte order, most significant word first
  uint32_t remote_class;
  uint16_t sport;
  uint16_t dport;
};
static_assert(sizeof(AclKey6) == 28);

enum AclField6 : uint32_t {
  kField6Proto, kField6Remote0, kField6Remote1, kField6Remote2, kField6Remote3, kField6RemoteClass, kField6Sport,
  kField6Dport, kNumFields6
};

RTE_ACL_RULE_DEF(AclRule6, kNumFields6);

inline constexpr rte_acl_field_def kAclFieldDefs6[kNumFields6] = {
    {RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), kField6Proto, 0, offsetof(AclKey6, proto)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), kField6Remote0, 1, offsetof(AclKey6, remote_addr) + 0 * sizeof(uint32_t)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), kField6Remote1, 2, offsetof(AclKey6, remote_addr) + 1 * sizeof(uint32_t)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), kField6Remote2, 3, offsetof(AclKey6, remote_addr) + 2 * sizeof(uint32_t)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), kField6Remote3, 4, offsetof(AclKey6, remote_addr) + 3 * sizeof(uint32_t)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint32_t), kField6RemoteClass, 5, offsetof(AclKey6, remote_class)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), kField6Sport, 6, offsetof(AclKey6, sport)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), kField6Dport, 6, offsetof(AclKey6, dport)},
};

// rte_acl userdata for a rule: rule_id + 1 (0 means "no match").
inline constexpr uint32_t kNoMatch = 0;

}  // namespace sgfw::acl
