// Stage 3 of the packet pipeline (docs/design/packet-path.md, step 9): the rule checks
// of new, stateless and re-checked packets, answered by the worker's classification
// cache (classify_cache.hpp) or by rte_acl, grouped per context. One code for both
// families (family.hpp).
#include <rte_prefetch.h>

#include "dataplane/burst.hpp"
#include "dataplane/check_groups.hpp"
#include "dataplane/rule_checks.hpp"

namespace sgfw::dataplane {

// Stage 3: rule checks for new, stateless and revalidated packets, grouped per context
// (rte_acl classifies many keys of one context per call), results in packet order.
template <class F>
void Pipeline::classify(BurstOf<F>& b, runtime::Snapshot& snap) {
  const acl::PolicyTables& tables = snap.tables();
  typename F::Table& ft = F::table(flows_);
  ClassifyCache<typename F::AclKey>& cache = F::cache(caches_);
  cache.use(snap.serial());
  struct Check {
    uint32_t context;
    uint32_t hash;  // in the classification cache
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
      b.nnew += q.path == Path::kNew;
      F::plan(tables.compiled(), q.proto, q.src_be, q.sport_be, q.src_info, q.dst_be, q.dport_be, q.dst_info,
              q.checks);
    } else {
      continue;
    }
    for (uint8_t d = 0; d < 2; ++d)
      if (q.checks.needed[d]) checks[nc++] = {q.checks.context[d], 0, i, d};
  }
  const bool cached = cache.consult(nc);
  if (cached) {
    // Hashed in a pass of their own: the keys were just written field by field, and a
    // word load right behind those stores would stall on store forwarding.
    for (uint16_t c = 0; c < nc; ++c) {
      Check& ch = checks[c];
      ch.hash = ClassifyCache<typename F::AclKey>::hash(ch.context, b.pend[ch.packet].checks.key[ch.direction]);
      cache.prefetch(ch.hash);
    }
    // The cache answers what it has seen in this snapshot; the rest go to rte_acl.
    uint16_t missed = 0;
    for (uint16_t c = 0; c < nc; ++c) {
      const Check& ch = checks[c];
      PendingOf<F>& q = b.pend[ch.packet];
      if (!cache.find(ch.hash, ch.context, q.checks.key[ch.direction], &q.result[ch.direction])) checks[missed++] = ch;
    }
    nc = missed;
  }
  if (nc == 0) return;
  static_assert(2 * kBurst <= kMaxGroupedChecks, "every check of a burst is grouped");
  uint32_t contexts[2 * kBurst];
  for (uint16_t c = 0; c < nc; ++c) contexts[c] = checks[c].context;
  uint16_t order[2 * kBurst], starts[2 * kBurst + 1];
  const uint16_t groups = group_checks(contexts, nc, order, starts);
  // Each group's context, its rte_acl context prefetched before the first classify.
  const acl::AclContext* ctx[2 * kBurst];
  for (uint16_t g = 0; g < groups; ++g) {
    ctx[g] = F::context(tables, contexts[order[starts[g]]]);
    if (ctx[g] != nullptr) rte_prefetch0(ctx[g]->raw());
  }
  const uint8_t* acl_keys[2 * kBurst];
  for (uint16_t k = 0; k < nc; ++k) {
    const Check& ch = checks[order[k]];
    acl_keys[k] = reinterpret_cast<const uint8_t*>(&b.pend[ch.packet].checks.key[ch.direction]);
  }
  uint32_t results[2 * kBurst];
  for (uint16_t g = 0; g < groups; ++g) {
    const uint16_t k0 = starts[g], k = static_cast<uint16_t>(starts[g + 1] - k0);
    if (ctx[g] == nullptr || ctx[g]->classify(acl_keys + k0, results + k0, k) != 0) {
      for (uint16_t j = k0; j < k0 + k; ++j) results[j] = acl::kNoMatch;  // fail closed, not remembered
      continue;
    }
    for (uint16_t j = k0; cached && j < k0 + k; ++j) {
      const Check& ch = checks[order[j]];
      cache.insert(ch.hash, ch.context, b.pend[ch.packet].checks.key[ch.direction], results[j]);
    }
  }
  for (uint16_t k = 0; k < nc; ++k) b.pend[checks[order[k]].packet].result[checks[order[k]].direction] = results[k];
}

template void Pipeline::classify(BurstOf<Ipv4Family>&, runtime::Snapshot&);
template void Pipeline::classify(BurstOf<Ipv6Family>&, runtime::Snapshot&);

}  // namespace sgfw::dataplane
