// Which rule checks a first packet (or a connection re-checked in its original
// direction) needs, and with which rte_acl keys (docs/design/packet-path.md): the
// sending local VM's egress check with the destination as remote, the receiving local
// VM's ingress check with the source as remote. Ports count for TCP and UDP only.
// Data path: inline, no allocation. Thread-safety: pure over an immutable snapshot.
#pragma once

#include <rte_byteorder.h>

#include <cstdint>
#include <cstring>

#include "acl/acl_layout.hpp"
#include "acl/address_table.hpp"
#include "flow/flow_table.hpp"
#include "packet/wire.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::dataplane {

enum class CheckDirection : uint8_t { kEgress = 0, kIngress = 1 };

struct RuleChecks {
  bool needed[2] = {false, false};                       // [CheckDirection]
  uint32_t vm[2] = {acl::kNoVm, acl::kNoVm};             // snapshot VM index of each check
  uint32_t context[2] = {compiler::kNoImage, compiler::kNoImage};
  acl::AclKey key[2];
};

inline acl::AclKey make_check_key(uint8_t proto, uint16_t sport_be, uint16_t dport_be, uint32_t remote_be,
                                  compiler::ClassId klass) {
  acl::AclKey k;
  std::memset(&k, 0, sizeof(k));
  k.proto = proto;
  k.remote_addr = remote_be;
  k.remote_class = rte_cpu_to_be_32(klass);
  k.sport = sport_be;
  k.dport = dport_be;
  return k;
}

// The checks of a packet (or connection) from a to b.
inline RuleChecks rule_checks(const runtime::Snapshot& snap, uint8_t proto, uint32_t a_be, uint16_t a_port_be,
                              const acl::AddressInfo& a, uint32_t b_be, uint16_t b_port_be,
                              const acl::AddressInfo& b) {
  RuleChecks c;
  bool ports = proto == packet::wire::kProtoTcp || proto == packet::wire::kProtoUdp;
  uint16_t sp = ports ? a_port_be : 0, dp = ports ? b_port_be : 0;
  if (a.local_vm != acl::kNoVm) {
    c.needed[0] = true;
    c.vm[0] = a.local_vm;
    c.context[0] = snap.vm(a.local_vm).egress_image;
    c.key[0] = make_check_key(proto, sp, dp, b_be, b.klass);
  }
  if (b.local_vm != acl::kNoVm) {
    c.needed[1] = true;
    c.vm[1] = b.local_vm;
    c.context[1] = snap.vm(b.local_vm).ingress_image;
    c.key[1] = make_check_key(proto, sp, dp, a_be, a.klass);
  }
  return c;
}

// The checks of a live connection, in its original direction.
inline RuleChecks connection_checks(const runtime::Snapshot& snap, const flow::FlowEntry& e) {
  const auto& addrs = snap.tables().addresses();
  uint32_t a = e.orig_addr_be(), b = e.resp_addr_be();
  return rule_checks(snap, e.key.proto, a, e.orig_port_be(), addrs.lookup(a), b, e.resp_port_be(), addrs.lookup(b));
}

// Runs the checks one by one (slow path: revalidation of a related error or a
// fragment train). results[d] = deciding rule id + 1 or kNoMatch; returns the first
// failing direction (0 egress, 1 ingress) or -1 when every needed check allows.
inline int run_checks(const runtime::Snapshot& snap, const RuleChecks& c, uint32_t results[2]) {
  int failed = -1;
  for (int d = 0; d < 2; ++d) {
    results[d] = acl::kNoMatch;
    if (!c.needed[d]) continue;
    results[d] = snap.tables().classify_one(c.context[d], c.key[d]);
    if (results[d] == acl::kNoMatch && failed < 0) failed = d;
  }
  return failed;
}

}  // namespace sgfw::dataplane
