// The express word of a connection entry (docs/design/packet-path.md "Express path"):
// what lets an established packet pass after one connection lookup, with exactly the
// anti-spoofing and forwarding decisions stage 1 would take. Private to lib/dataplane.
//   bits 63-32  the low 32 bits of the policy generation it was written under;
//   bits 31-16  the snapshot index + 1 of the local VM at the key's lo end (0: none,
//               the uplink side);
//   bits 15-0   the same for the key's hi end.
// 0 means "no express path": not written yet, an end found through an allowed
// address pair (decided per frame by the pair's MAC), or a VM index above 65534.
// Data path: inline, no allocation. Thread-safety: the word is one atomic, so a reader
// sees the indices and the generation they belong to together.
#pragma once

#include <cstdint>

#include "dataplane/burst.hpp"

namespace sgfw::dataplane {

inline constexpr uint32_t kExpressMaxVm = 0xfffe;  // the highest snapshot index a word holds

// The word for a connection whose key's lo end is local VM `lo_vm` and hi end `hi_vm`
// (kNoVm: not local), under generation `gen`.
[[nodiscard]] inline uint64_t express_word(uint64_t gen, uint32_t lo_vm, uint32_t hi_vm) {
  if ((lo_vm != kNoVm && lo_vm > kExpressMaxVm) || (hi_vm != kNoVm && hi_vm > kExpressMaxVm)) return 0;
  if (lo_vm == kNoVm && hi_vm == kNoVm) return 0;  // not a connection of a local VM
  const uint64_t lo = lo_vm == kNoVm ? 0 : lo_vm + 1, hi = hi_vm == kNoVm ? 0 : hi_vm + 1;
  return (gen << 32) | (lo << 16) | hi;
}

// The word for the connection of an admitted packet (0 when an end came from a pair).
template <class F>
[[nodiscard]] inline uint64_t express_word_of(const PendingOf<F>& q, uint64_t gen) {
  if (!q.express_ok) return 0;
  return q.src_is_lo ? express_word(gen, q.src_vm, q.dst_vm) : express_word(gen, q.dst_vm, q.src_vm);
}

// Whether `w` was written under generation `gen`.
[[nodiscard]] inline bool express_current(uint64_t w, uint64_t gen) {
  return w != 0 && static_cast<uint32_t>(w >> 32) == static_cast<uint32_t>(gen);
}

// The local VM (snapshot index, or kNoVm) at the key's lo or hi end of a current word.
[[nodiscard]] inline uint32_t express_vm(uint64_t w, bool lo_end) {
  const uint32_t v = static_cast<uint32_t>(lo_end ? (w >> 16) & 0xffff : w & 0xffff);
  return v == 0 ? kNoVm : v - 1;
}

}  // namespace sgfw::dataplane
