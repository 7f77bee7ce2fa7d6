// The policy compiler: a pure function from a finalized, validated policy to rule
// images (one per distinct (group set, direction) content) and the address-class
// table. No DPDK, no I/O. Thread-safe (pure). Never throws except std::bad_alloc.
//
// How (docs/design/rule-compilation.md):
//  1. Rules get ids in deciding order: groups by name in byte order, then rule index.
//     rte_acl priority decreases with the id, so the highest-priority match is the
//     deciding rule whichever VM, group listing or shared context it comes from.
//  2. Each distinct effective-group set among all VMs is a class; every VM address
//     maps to its VM's class. A securityGroupRef G rule matches the remote's class
//     against the classes containing G (as ranges), so its cost does not grow with the
//     group's membership.
//  3. Images are built once per distinct (group set, direction) and de-duplicated by
//     content; VMs with identical rules share one image (and so one rte_acl context).
#pragma once

#include <string>
#include <vector>

#include "compiler/rule_image.hpp"
#include "policy/model.hpp"

namespace sgfw::compiler {

// With `previous` (the compilation this one replaces), group sets keep their class ids
// and new sets get fresh ids, so a membership change leaves the images of unaffected
// rules, and their rte_acl contexts, identical (incremental updates). Ids are
// renumbered from scratch when more than half of them have fallen out of use.
[[nodiscard]] CompiledPolicy compile(const policy::Policy& policy,
                                     const CompiledPolicy* previous = nullptr);

// Exactly compile(policy, &previous), computed from `previous` where a membership
// change cannot have changed it (docs/design/update-protocol.md, step 2): `policy` must
// differ from the policy `previous` was compiled from only in the security groups of
// the VMs named in `changed` (a `vm set-groups`). Rule ids, the other VMs' classes,
// the address classes and the images of classes unaffected by the change are reused
// (a changed VM's single-address pairs are re-classed with it; its pair blocks mark its
// old and new groups changed); a change that renumbers the classes takes the full
// compile. Pure and thread-safe like compile().
[[nodiscard]] CompiledPolicy compile_membership_change(const policy::Policy& policy, const CompiledPolicy& previous,
                                                       const std::vector<std::string>& changed);

}  // namespace sgfw::compiler
