// Which rule checks a first packet needs and with which rte_acl keys: the one
// check-key builder of the product, used by the packet path (lib/dataplane), by
// `explain` (PolicyTables::judge) and by the tests (docs/design/packet-path.md, step 9):
//  - the sending local VM's egress check, with the destination as the remote;
//  - the receiving local VM's ingress check, with the source as the remote;
//  - ports count for TCP and UDP only (the destination port is matched).
// Data path: inline, no allocation. Thread-safety: pure over immutable tables.
// Byte order: addresses and ports in network byte order (as in the packet).
#pragma once

#include <rte_byteorder.h>

#include <cstdint>
#include <cstring>

#include "acl/acl_layout.hpp"
#include "acl/address_table.hpp"
#include "compiler/rule_image.hpp"
#include "core/protocols.hpp"

namespace sgfw::acl {

// Index of a check in a CheckPlan.
enum CheckDirection : uint8_t { kEgressCheck = 0, kIngressCheck = 1 };

// The checks of one packet; Key is AclKey (IPv4) or AclKey6 (IPv6, check_plan6.hpp).
template <class Key>
struct BasicCheckPlan {
  bool needed[2] = {false, false};                          // [CheckDirection]
  uint32_t vm[2] = {kNoVm, kNoVm};                          // local VM index of each check
  uint32_t context[2] = {compiler::kNoContext, compiler::kNoContext};  // rte_acl context (image) index
  Key key[2];
};
using CheckPlan = BasicCheckPlan<AclKey>;

[[nodiscard]] inline AclKey make_check_key(uint8_t proto, uint16_t sport_be, uint16_t dport_be, uint32_t remote_be,
                                           compiler::ClassId klass) {
  AclKey k;
  k.proto = proto;
  k.pad[0] = k.pad[1] = k.pad[2] = 0;
  k.remote_addr = remote_be;
  k.remote_class = rte_cpu_to_be_32(klass);
  k.sport = sport_be;
  k.dport = dport_be;
  return k;
}

// The checks of a packet (or a connection, in its original direction) from a to b,
// written into `c` (every field that matters is set: no need to clear it first);
// `a`/`b` are the address table's answers for a_be/b_be.
inline void plan_checks(const compiler::CompiledPolicy& policy, uint8_t proto, uint32_t a_be, uint16_t a_port_be,
                        const AddressInfo& a, uint32_t b_be, uint16_t b_port_be, const AddressInfo& b,
                        CheckPlan& c) {
  const bool ports = core::has_ports(proto);
  const uint16_t sp = ports ? a_port_be : 0, dp = ports ? b_port_be : 0;
  c.needed[kEgressCheck] = a.local_vm != kNoVm;
  c.needed[kIngressCheck] = b.local_vm != kNoVm;
  c.vm[kEgressCheck] = a.local_vm;
  c.vm[kIngressCheck] = b.local_vm;
  if (c.needed[kEgressCheck]) {
    c.context[kEgressCheck] = policy.vms[a.local_vm].egress_context;
    c.key[kEgressCheck] = make_check_key(proto, sp, dp, b_be, b.klass);
  }
  if (c.needed[kIngressCheck]) {
    c.context[kIngressCheck] = policy.vms[b.local_vm].ingress_context;
    c.key[kIngressCheck] = make_check_key(proto, sp, dp, a_be, a.klass);
  }
}

[[nodiscard]] inline CheckPlan plan_checks(const compiler::CompiledPolicy& policy, uint8_t proto, uint32_t a_be,
                                           uint16_t a_port_be, const AddressInfo& a, uint32_t b_be,
                                           uint16_t b_port_be, const AddressInfo& b) {
  CheckPlan c;
  plan_checks(policy, proto, a_be, a_port_be, a, b_be, b_port_be, b, c);
  return c;
}

}  // namespace sgfw::acl
