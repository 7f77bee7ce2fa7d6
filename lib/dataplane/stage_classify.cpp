// Stage 3 of the packet pipeline (docs/design/packet-path.md, step 9): the rule checks
// of new, stateless and re-checked packets, grouped per rte_acl context. One code for
// both families (family.hpp).
#include "dataplane/burst.hpp"
#include "dataplane/rule_checks.hpp"

namespace sgfw::dataplane {

// Stage 3: rule checks for new, stateless and revalidated packets, grouped per context
// (rte_acl classifies many keys of one context per call), results in packet order.
template <class F>
void Pipeline::classify(BurstOf<F>& b, runtime::Snapshot& snap) {
  const acl::PolicyTables& tables = snap.tables();
  typename F::Table& ft = F::table(flows_);
  struct Check {
    uint32_t context;
    uint16_t packet;
    uint8_t direction;
  };
  Check checks[2 * kBurst];
  uint16_t nc = 0;
  for (uint16_t i = 0; i < b.np; ++i) {
    PendingOf<F>& q = b.pend[i];
    if (q.m == nullptr) continue;
    if (q.path == Path::kRevalidate) {
      q.checks = connection_checks<F>(snap, ft.at(q.flow_pos), ft.cold(q.flow_pos));  // the connection's original direction
    } else if (q.path == Path::kNew || q.path == Path::kStateless) {
      F::plan(tables.compiled(), q.proto, q.src_be, q.sport_be, q.src_info, q.dst_be, q.dport_be, q.dst_info,
              q.checks);
    } else {
      continue;
    }
    for (uint8_t d = 0; d < 2; ++d)
      if (q.checks.needed[d]) checks[nc++] = {q.checks.context[d], i, d};
  }
  static_assert(2 * kBurst <= 64, "one bit per check");
  uint64_t done = 0;  // bit c: check c classified
  const uint8_t* acl_keys[2 * kBurst];
  uint32_t results[2 * kBurst];
  uint16_t cidx[2 * kBurst];
  for (uint16_t c = 0; c < nc; ++c) {
    if (done >> c & 1) continue;
    uint32_t context = checks[c].context;
    uint16_t k = 0;
    for (uint16_t j = c; j < nc; ++j) {
      if ((done >> j & 1) || checks[j].context != context) continue;
      done |= uint64_t{1} << j;
      cidx[k] = j;
      const Check& ch = checks[j];
      acl_keys[k++] = reinterpret_cast<const uint8_t*>(&b.pend[ch.packet].checks.key[ch.direction]);
    }
    const acl::AclContext* ctx = F::context(tables, context);
    if (ctx == nullptr || ctx->classify(acl_keys, results, k) != 0) {
      for (uint16_t j = 0; j < k; ++j) results[j] = acl::kNoMatch;  // fail closed
    }
    for (uint16_t j = 0; j < k; ++j) b.pend[checks[cidx[j]].packet].result[checks[cidx[j]].direction] = results[j];
  }
}

template void Pipeline::classify(BurstOf<Ipv4Family>&, runtime::Snapshot&);
template void Pipeline::classify(BurstOf<Ipv6Family>&, runtime::Snapshot&);

}  // namespace sgfw::dataplane
