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

// The checks of a live connection, in its original direction.
[[nodiscard]] inline CheckPlan connection_checks(const runtime::Snapshot& snap, const flow::FlowEntry& e) {
  const auto& addrs = snap.tables().addresses();
  uint32_t a = e.orig_addr_be(), b = e.resp_addr_be();
  return rule_checks(snap, e.key.proto, a, e.orig_port_be(), addrs.lookup(a), b, e.resp_port_be(), addrs.lookup(b));
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
