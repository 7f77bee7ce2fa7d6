// The compiler's output, free of DPDK: per-VM rule images ready to be loaded into
// rte_acl contexts, and the address-class table that lets group-reference rules match
// without expanding members. Thread-safety: plain values.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/cow_vector.hpp"
#include "core/ip_address.hpp"
#include "core/ipv4.hpp"
#include "policy/model.hpp"

namespace sgfw::compiler {

// One rule of the policy, in deciding order: rule_id = index in CompiledPolicy::rules.
struct RuleRef {
  std::string group;
  std::string rule;
  [[nodiscard]] std::string label() const { return group + "/" + rule; }
  bool operator==(const RuleRef&) const = default;
};

// A remote's class: 0 for an address of no VM; otherwise the id of the distinct
// effective-group set of the VM that owns the address. A securityGroupRef rule for G
// matches the classes whose group set contains G.
using ClassId = uint32_t;
inline constexpr ClassId kNoClass = 0;

// One rte_acl rule, in host byte order. Matches iff all fields match.
struct AclRuleSpec {
  uint32_t rule_id = 0;      // rte_acl userdata = rule_id + 1; priority from rule_id
  uint8_t proto = 0;         // with proto_mask: 0/0 = any protocol
  uint8_t proto_mask = 0;
  uint32_t remote_addr = 0;  // with remote_prefix (0..32): CIDR of the remote end
  uint8_t remote_prefix = 0;
  ClassId class_lo = 0;      // remote class range, inclusive
  ClassId class_hi = 0xffffffffu;
  uint16_t port_lo = 0;      // destination port range, inclusive
  uint16_t port_hi = 0xffff;
  auto operator<=>(const AclRuleSpec&) const = default;
};

// The rules of one (VM, direction). Empty => the direction denies everything.
struct RuleImage {
  core::CowVector<AclRuleSpec> rules;  // shared by the compilations that reuse it
  auto operator<=>(const RuleImage&) const = default;
};

// The IPv6 twin of AclRuleSpec: the same fields with a 128-bit remote block.
struct AclRuleSpec6 {
  uint32_t rule_id = 0;
  uint8_t proto = 0;         // ICMP rules: 58; with proto_mask 0: any
  uint8_t proto_mask = 0;
  core::Ipv6 remote_addr;    // with remote_prefix (0..128), network byte order
  uint8_t remote_prefix = 0;
  ClassId class_lo = 0;
  ClassId class_hi = 0xffffffffu;
  uint16_t port_lo = 0;
  uint16_t port_hi = 0xffff;
  auto operator<=>(const AclRuleSpec6&) const = default;
};

struct RuleImage6 {
  core::CowVector<AclRuleSpec6> rules;
  auto operator<=>(const RuleImage6&) const = default;
};

inline constexpr uint32_t kNoContext = 0xffffffffu;

struct VmEntry {
  std::string name;
  std::string port;
  core::Mac mac;
  std::vector<core::Ipv4> ips;
  uint32_t ingress_context = kNoContext;  // index into CompiledPolicy::images
  uint32_t egress_context = kNoContext;
  std::vector<core::Ipv6> ips6;             // its own IPv6 addresses
  uint32_t ingress6_context = kNoContext;   // index into CompiledPolicy::images6
  uint32_t egress6_context = kNoContext;
  bool operator==(const VmEntry&) const = default;
};

struct AddressClass {
  core::Ipv4 addr;
  ClassId klass = kNoClass;
  auto operator<=>(const AddressClass&) const = default;
};

struct AddressClass6 {
  core::Ipv6 addr;
  ClassId klass = kNoClass;
  auto operator<=>(const AddressClass6&) const = default;
};

struct CompiledPolicy {
  core::CowVector<RuleRef> rules;             // deciding order (docs/enforcement.md §3); shared until changed
  std::vector<RuleImage> images;              // distinct, non-empty
  std::vector<VmEntry> vms;                   // local VMs, by name
  std::vector<AddressClass> address_classes;  // every VM address, sorted by address
  std::vector<RuleImage6> images6;               // IPv6: distinct, non-empty
  std::vector<AddressClass6> address_classes6;   // IPv6 VM addresses, sorted
  std::vector<std::vector<std::string>> class_groups;  // class id -> group set ([0] and unused ids empty)
  std::map<std::vector<std::string>, ClassId> class_ids;  // group set -> class id
  std::vector<uint32_t> class_members;  // class id -> VMs (local or not) in it
  std::vector<ClassId> vm_classes;      // per VM of the policy (Policy::vms order): its class
  size_t acl_rule_count() const;
  bool operator==(const CompiledPolicy&) const = default;
};

}  // namespace sgfw::compiler
