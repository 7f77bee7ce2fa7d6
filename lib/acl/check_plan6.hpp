// The IPv6 twin of check_plan.hpp: which checks a first IPv6 packet needs and their
// rte_acl keys (AclKey6), with the same rules (egress check of a sending local VM with
// the destination as remote, ingress check of a receiving local VM with the source as
// remote; ports for TCP and UDP only). Used by PolicyTables::judge (explain) and the
// tests and the packet path (docs/enforcement.md §7).
// Inline, no allocation; thread-safe (pure over immutable tables).
#pragma once

#include <rte_byteorder.h>

#include <cstdint>
#include <cstring>

#include "acl/acl_layout.hpp"
#include "acl/address_table.hpp"
#include "acl/check_plan.hpp"
#include "compiler/rule_image.hpp"
#include "core/ip_address.hpp"
#include "core/protocols.hpp"

namespace sgfw::acl {

using CheckPlan6 = BasicCheckPlan<AclKey6>;

// Ports in network byte order, as in the packet; `remote16`: 16 bytes, network order.
[[nodiscard]] inline AclKey6 make_check_key6(uint8_t proto, uint16_t sport_be, uint16_t dport_be,
                                             const uint8_t* remote16, compiler::ClassId klass) {
  AclKey6 k;
  std::memset(&k, 0, sizeof(k));
  k.proto = proto;
  std::memcpy(k.remote_addr, remote16, sizeof(k.remote_addr));  // already network order
  k.remote_class = rte_cpu_to_be_32(klass);
  k.sport = sport_be;
  k.dport = dport_be;
  return k;
}

// The checks of a first IPv6 packet (or a connection, in its original direction) from
// a to b, written into `c`: addresses 16 bytes each and ports in network byte order
// (the packet path's form); `ai`/`bi` are the address table's answers for them.
inline void plan_checks6(const compiler::CompiledPolicy& policy, uint8_t proto, const uint8_t* a16,
                         uint16_t a_port_be, const AddressInfo& ai, const uint8_t* b16, uint16_t b_port_be,
                         const AddressInfo& bi, CheckPlan6& c) {
  const bool ports = core::has_ports(proto);
  const uint16_t sp = ports ? a_port_be : 0, dp = ports ? b_port_be : 0;
  c.needed[kEgressCheck] = ai.local_vm != kNoVm;
  c.needed[kIngressCheck] = bi.local_vm != kNoVm;
  c.vm[kEgressCheck] = ai.local_vm;
  c.vm[kIngressCheck] = bi.local_vm;
  if (c.needed[kEgressCheck]) {
    c.context[kEgressCheck] = policy.vms[ai.local_vm].egress6_context;
    c.key[kEgressCheck] = make_check_key6(proto, sp, dp, b16, bi.klass);
  }
  if (c.needed[kIngressCheck]) {
    c.context[kIngressCheck] = policy.vms[bi.local_vm].ingress6_context;
    c.key[kIngressCheck] = make_check_key6(proto, sp, dp, a16, ai.klass);
  }
}

// The same with host-order ports and core::Ipv6 addresses (explain, tests).
[[nodiscard]] inline CheckPlan6 plan_checks6(const compiler::CompiledPolicy& policy, uint8_t proto,
                                             const core::Ipv6& a, uint16_t a_port, const AddressInfo& ai,
                                             const core::Ipv6& b, uint16_t b_port, const AddressInfo& bi) {
  CheckPlan6 c;
  plan_checks6(policy, proto, a.bytes.data(), rte_cpu_to_be_16(a_port), ai, b.bytes.data(), rte_cpu_to_be_16(b_port),
               bi, c);
  return c;
}

}  // namespace sgfw::acl
