// Rule checks on the packet path beyond a first packet's (acl/check_plan.hpp holds the
// one check-key builder): a live connection re-checked in its original direction, and
// checks run one by one on the slow path (a related error or a fragment train after a
// policy change). Data path: inline, no allocation. Thread-safety: pure over an
// immutable snapshot.
#pragma once

#include <cstdint>

#include "acl/check_plan.hpp"
#include "flow/flow_table.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::dataplane {

using acl::CheckPlan;

// The checks of a first packet from a to b (wire order), on a snapshot.
[[nodiscard]] inline CheckPlan rule_checks(const runtime::Snapshot& snap, uint8_t proto, uint32_t a_be,
                                           uint16_t a_port_be, const acl::AddressInfo& a, uint32_t b_be,
                                           uint16_t b_port_be, const acl::AddressInfo& b) {
  return acl::plan_checks(snap.tables().compiled(), proto, a_be, a_port_be, a, b_be, b_port_be, b);
}

// What the current snapshot knows of one end of a live connection: its address, and
// for an allowed address pair (no VM's own address; a VIP may have several owners) the
// VM that had it when the connection was made (`vm_id`, stable), while it still has it.
[[nodiscard]] inline acl::AddressInfo connection_end(const runtime::Snapshot& snap, uint32_t addr_be,
                                                     uint32_t vm_id) {
  acl::AddressInfo a = snap.tables().addresses().lookup(addr_be);
  if (a.local_vm != acl::kNoVm || vm_id == flow::kNoVmId || snap.pairs().empty()) return a;
  const acl::PairOwner* o = nullptr;
  const uint32_t n = snap.pairs().owners(addr_be, &o);
  for (uint32_t i = 0; i < n; ++i) {
    if (snap.vm_id(o[i].vm) == vm_id) {
      a.local_vm = o[i].vm;
      break;
    }
  }
  return a;
}

// The checks of a live connection, in its original direction.
[[nodiscard]] inline CheckPlan connection_checks(const runtime::Snapshot& snap, const flow::FlowEntry& e) {
  uint32_t a = e.orig_addr_be(), b = e.resp_addr_be();
  return rule_checks(snap, e.key.proto, a, e.orig_port_be(), connection_end(snap, a, e.vm_id[0]), b,
                     e.resp_port_be(), connection_end(snap, b, e.vm_id[1]));
}

// Runs the checks one by one. results[d] = deciding rule id + 1 or kNoMatch; returns
// the first failing check (egress first) or -1 when every needed check allows.
[[nodiscard]] inline int run_checks(const runtime::Snapshot& snap, const CheckPlan& c, uint32_t results[2]) {
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
