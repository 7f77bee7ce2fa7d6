// The IPv6 twin of check_plan.hpp: which checks a first IPv6 packet needs and their
// rte_acl keys (AclKey6), with the same rules (egress check of a sending local VM with
// the destination as remote, ingress check of a receiving local VM with the source as
// remote; ports for TCP and UDP only). Used by PolicyTables::judge (explain) and the
// tests; the packet path has no IPv6 yet (docs/enforcement.md §7).
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

struct CheckPlan6 {
  bool needed[2] = {false, false};
  uint32_t vm[2] = {kNoVm, kNoVm};
  uint32_t context[2] = {compiler::kNoContext, compiler::kNoContext};  // index into images6
  AclKey6 key[2];
};

// Ports in host byte order here; the key holds them in network byte order.
[[nodiscard]] inline AclKey6 make_check_key6(uint8_t proto, uint16_t sport, uint16_t dport, const core::Ipv6& remote,
                                             compiler::ClassId klass) {
  AclKey6 k;
  std::memset(&k, 0, sizeof(k));
  k.proto = proto;
  std::memcpy(k.remote_addr, remote.bytes.data(), sizeof(k.remote_addr));  // already network order
  k.remote_class = rte_cpu_to_be_32(klass);
  k.sport = rte_cpu_to_be_16(sport);
  k.dport = rte_cpu_to_be_16(dport);
  return k;
}

[[nodiscard]] inline CheckPlan6 plan_checks6(const compiler::CompiledPolicy& policy, uint8_t proto,
                                             const core::Ipv6& a, uint16_t a_port, const AddressInfo& ai,
                                             const core::Ipv6& b, uint16_t b_port, const AddressInfo& bi) {
  CheckPlan6 c;
  const bool ports = core::has_ports(proto);
  const uint16_t sp = ports ? a_port : 0, dp = ports ? b_port : 0;
  c.needed[kEgressCheck] = ai.local_vm != kNoVm;
  c.needed[kIngressCheck] = bi.local_vm != kNoVm;
  c.vm[kEgressCheck] = ai.local_vm;
  c.vm[kIngressCheck] = bi.local_vm;
  if (c.needed[kEgressCheck]) {
    c.context[kEgressCheck] = policy.vms[ai.local_vm].egress6_context;
    c.key[kEgressCheck] = make_check_key6(proto, sp, dp, b, bi.klass);
  }
  if (c.needed[kIngressCheck]) {
    c.context[kIngressCheck] = policy.vms[bi.local_vm].ingress6_context;
    c.key[kIngressCheck] = make_check_key6(proto, sp, dp, a, ai.klass);
  }
  return c;
}

}  // namespace sgfw::acl
