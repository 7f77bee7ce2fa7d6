// Rule checks on the packet path beyond a first packet's (acl/check_plan.hpp and
// check_plan6.hpp hold the check-key builders): a live connection re-checked in its
// original direction, and checks run one by one on the slow path (a related error or a
// fragment train after a policy change). F: Ipv4Family or Ipv6Family (family.hpp).
// Data path: inline, no allocation. Thread-safety: pure over an immutable snapshot.
#pragma once

#include <cstdint>

#include "dataplane/family.hpp"

namespace sgfw::dataplane {

// The checks of a first packet from a to b (wire order), on a snapshot.
template <class F>
[[nodiscard]] inline typename F::Plan rule_checks(const runtime::Snapshot& snap, uint8_t proto,
                                                  const typename F::Addr& a, uint16_t a_port_be,
                                                  const acl::AddressInfo& ai, const typename F::Addr& b,
                                                  uint16_t b_port_be, const acl::AddressInfo& bi) {
  typename F::Plan c;
  F::plan(snap.tables().compiled(), proto, a, a_port_be, ai, b, b_port_be, bi, c);
  return c;
}

// What the current snapshot knows of one end of a live connection: its address, and
// for an allowed address pair (no VM's own address; a VIP may have several owners) the
// VM that had it when the connection was made (`vm_id`, stable), while it still has it.
template <class F>
[[nodiscard]] inline acl::AddressInfo connection_end(const runtime::Snapshot& snap, const typename F::Addr& addr,
                                                     uint32_t vm_id) {
  acl::AddressInfo a = F::lookup(snap, addr);
  if (a.local_vm != acl::kNoVm || vm_id == flow::kNoVmId) return a;
  const auto& pairs = F::pairs(snap);
  if (pairs.empty()) return a;
  const acl::PairOwner* o = nullptr;
  const uint32_t n = pairs.owners(F::pair_key(addr), &o);
  for (uint32_t i = 0; i < n; ++i) {
    if (snap.vm_id(o[i].vm) == vm_id) {
      a.local_vm = o[i].vm;
      break;
    }
  }
  return a;
}

// The checks of a live connection, in its original direction.
template <class F>
[[nodiscard]] inline typename F::Plan connection_checks(const runtime::Snapshot& snap, const typename F::Entry& e,
                                                        const typename F::Cold& c) {
  const bool lo = e.orig_is_lo();
  const typename F::Addr a = c.orig_addr_be(lo), b = c.resp_addr_be(lo);
  return rule_checks<F>(snap, c.key.proto, a, c.orig_port_be(lo), connection_end<F>(snap, a, c.vm_id[0]), b,
                        c.resp_port_be(lo), connection_end<F>(snap, b, c.vm_id[1]));
}

// Runs the checks one by one. results[d] = deciding rule id + 1 or kNoMatch; returns
// the first failing check (egress first) or -1 when every needed check allows.
template <class F>
[[nodiscard]] inline int run_checks(const runtime::Snapshot& snap, const typename F::Plan& c, uint32_t results[2]) {
  int failed = -1;
  for (int d = 0; d < 2; ++d) {
    results[d] = acl::kNoMatch;
    if (!c.needed[d]) continue;
    results[d] = F::classify_one(snap.tables(), c.context[d], c.key[d]);
    if (results[d] == acl::kNoMatch && failed < 0) failed = d;
  }
  return failed;
}

}  // namespace sgfw::dataplane
