// Stage 3's grouping of a burst's rule checks by rte_acl context (docs/design/
// packet-path.md, step 9): rte_acl classifies many keys of one context per call, so the
// checks of one context must sit side by side. One pass over the checks with a small
// open-addressing table, then a counting sort: O(n) for n checks, where comparing every
// check with every later one cost O(n x contexts) (16 VMs in a burst: ~8 comparisons
// per packet, 40% of stage 3 in the `deny` benchmark).
// Data path: inline, no allocation, no failure. Thread-safety: pure.
#pragma once

#include <cstdint>
#include <cstring>

namespace sgfw::dataplane {

inline constexpr uint16_t kMaxGroupedChecks = 64;
inline constexpr unsigned kCheckGroupSlots = 2 * kMaxGroupedChecks;  // at most half full: short probes

// The first slot group_checks tries for a context (7 bits: kCheckGroupSlots).
inline unsigned check_group_slot(uint32_t context) {
  static_assert(kCheckGroupSlots == 1u << 7, "the hash keeps 7 bits");
  return (context * 0x9e3779b1u) >> 25;
}

// Groups n <= kMaxGroupedChecks checks by context. On return order[starts[g]] ..
// order[starts[g+1] - 1] are the indices of group g's checks; returns the number of
// groups. Groups are in the order their first check appears, and each group keeps its
// checks in their original order (so the result is what a stable sort by first
// appearance gives). Precondition: n <= kMaxGroupedChecks.
inline uint16_t group_checks(const uint32_t* context, uint16_t n, uint16_t* order, uint16_t* starts) {
  constexpr unsigned kSlots = kCheckGroupSlots;
  constexpr uint8_t kFree = 0xff;
  uint8_t slot_group[kSlots];
  uint32_t slot_context[kSlots];  // read only where slot_group is set
  uint8_t group_of[kMaxGroupedChecks];
  uint16_t count[kMaxGroupedChecks];
  std::memset(slot_group, kFree, sizeof slot_group);
  uint16_t groups = 0;
  for (uint16_t c = 0; c < n; ++c) {
    const uint32_t ctx = context[c];
    unsigned h = check_group_slot(ctx);
    while (slot_group[h] != kFree && slot_context[h] != ctx) h = (h + 1) & (kSlots - 1);
    if (slot_group[h] == kFree) {
      slot_group[h] = static_cast<uint8_t>(groups);
      slot_context[h] = ctx;
      count[groups++] = 0;
    }
    group_of[c] = slot_group[h];
    ++count[slot_group[h]];
  }
  uint16_t fill[kMaxGroupedChecks];
  starts[0] = 0;
  for (uint16_t g = 0; g < groups; ++g) {
    fill[g] = starts[g];
    starts[g + 1] = static_cast<uint16_t>(starts[g] + count[g]);
  }
  for (uint16_t c = 0; c < n; ++c) order[fill[group_of[c]]++] = c;
  return groups;
}

}  // namespace sgfw::dataplane
