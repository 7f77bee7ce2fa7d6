// compile_membership_change (compiler.hpp): the full compile's steps with the
// previous compilation's results where a membership change cannot have changed them
// (docs/design/update-protocol.md, step 2).
#include <algorithm>
#include <unordered_set>

#include "compiler/compiler.hpp"
#include "compiler/compiler_state.hpp"

namespace sgfw::compiler {

namespace {

using detail::Compiler;
using detail::GroupSet;
using detail::ImageReuse;

// Group names whose rules reference (securityGroupRef) one of `targets`.
std::unordered_set<std::string> groups_referencing(const policy::Policy& p, const std::set<std::string>& targets) {
  std::unordered_set<std::string> out;
  for (const auto& g : p.groups)
    for (const auto& r : g.rules)
      if (r.remote.kind == policy::Remote::Kind::kGroup && targets.count(r.remote.name)) {
        out.insert(g.name);
        break;
      }
  return out;
}

// Which earlier image each (class, direction) of the previous local VMs had.
void know_previous_images(const policy::Policy& p, const CompiledPolicy& prev, ImageReuse& reuse) {
  const size_t n = prev.class_groups.size();
  for (int d = 0; d < 2; ++d) {
    reuse.image[d].assign(n, ImageReuse::kUnknown);
    reuse.image6[d].assign(n, ImageReuse::kUnknown);
  }
  size_t k = 0;
  for (size_t i = 0; i < p.vms.size(); ++i) {
    if (!p.vms[i].is_local()) continue;
    const VmEntry& e = prev.vms[k++];
    ClassId c = prev.vm_classes[i];
    reuse.image[0][c] = e.ingress_context;
    reuse.image[1][c] = e.egress_context;
    if (!e.ips6.empty()) {
      reuse.image6[0][c] = e.ingress6_context;
      reuse.image6[1][c] = e.egress6_context;
    }
  }
}

}  // namespace

CompiledPolicy compile_membership_change(const policy::Policy& p, const CompiledPolicy& previous,
                                         const std::vector<std::string>& changed) {
  auto full = [&] { return compile(p, &previous); };
  if (previous.vm_classes.size() != p.vms.size()) return full();
  std::vector<size_t> idx;
  for (const auto& name : changed) {
    const policy::Vm* vm = p.find_vm(name);
    if (vm == nullptr) return full();
    idx.push_back(static_cast<size_t>(vm - p.vms.data()));
  }
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());

  Compiler c(p);
  c.out.rules = previous.rules;  // the groups are unchanged: so are the rule ids
  uint32_t next = 0;
  for (const auto& g : p.groups) {
    c.first_rule_id[g.name] = next;
    next += static_cast<uint32_t>(g.rules.size());
  }
  // Classes: the previous ones, less the sets nobody holds any more, plus the new sets
  // (in set order, after the previous ids, as the full compile numbers them).
  c.vm_class = previous.vm_classes;
  c.class_of_set = previous.class_ids;
  std::vector<uint32_t> members = previous.class_members;
  std::map<GroupSet, std::vector<size_t>> fresh_sets;
  std::vector<ClassId> moved_from;
  std::set<std::string> changed_groups;  // groups whose class ranges or pair blocks change
  std::vector<std::pair<size_t, ClassId>> paired_moves;  // moved VMs with pairs, their old class
  for (size_t i : idx) {
    ClassId old = c.vm_class[i];
    --members[old];
    moved_from.push_back(old);
    GroupSet set = policy::effective_groups(p.vms[i]);
    if (!p.vms[i].allowed_address_pairs.empty()) paired_moves.emplace_back(i, old);
    if (auto it = c.class_of_set.find(set); it != c.class_of_set.end()) {
      c.vm_class[i] = it->second;
      ++members[it->second];
    } else {
      fresh_sets[std::move(set)].push_back(i);
    }
  }
  c.out.class_groups = previous.class_groups;
  for (ClassId old : moved_from) {
    if (members[old] != 0 || c.out.class_groups[old].empty()) continue;
    for (const auto& g : c.out.class_groups[old]) changed_groups.insert(g);
    c.class_of_set.erase(c.out.class_groups[old]);
    c.out.class_groups[old].clear();
  }
  // The full compile renumbers from scratch here: let it.
  if ((c.class_of_set.size() + fresh_sets.size()) * 2 < previous.class_groups.size()) return full();
  for (auto& [set, vms] : fresh_sets) {
    ClassId id = static_cast<ClassId>(c.out.class_groups.size());
    for (const auto& g : set) changed_groups.insert(g);
    c.out.class_groups.push_back(set);
    c.class_of_set.emplace(set, id);
    for (size_t i : vms) c.vm_class[i] = id;
  }
  c.out.class_ids = c.class_of_set;

  // Addresses: the previous table with the moved VMs' addresses in their new class.
  c.out.address_classes = previous.address_classes;
  c.out.address_classes6 = previous.address_classes6;
  for (size_t i : idx) {
    for (const auto& ip : p.vms[i].ips) {
      if (ip.is_v4()) {
        auto it = std::lower_bound(c.out.address_classes.begin(), c.out.address_classes.end(), ip.v4,
                                   [](const AddressClass& a, const core::Ipv4& v) { return a.addr < v; });
        if (it != c.out.address_classes.end() && it->addr == ip.v4) it->klass = c.vm_class[i];
      } else {
        auto it = std::lower_bound(c.out.address_classes6.begin(), c.out.address_classes6.end(), ip.v6,
                                   [](const AddressClass6& a, const core::Ipv6& v) { return a.addr < v; });
        if (it != c.out.address_classes6.end() && it->addr == ip.v6) it->klass = c.vm_class[i];
      }
    }
  }
  c.finish_classes(false);
  // A moved VM's single-address pairs moved with it (finish_classes). Its pair blocks
  // (shared with another VM, or wider than one address: docs/design/rule-compilation.md)
  // leave its old groups' pair blocks and join its new groups': images referencing
  // either may change.
  for (const auto& [i, old] : paired_moves) {
    const GroupSet& now = c.out.class_groups[c.vm_class[i]];
    bool has_block = false;
    for (const auto& pair : p.vms[i].allowed_address_pairs)
      for (const auto& g : now)
        if (auto it = c.group_pair_blocks.find(g); it != c.group_pair_blocks.end() && it->second.count(pair.ip))
          has_block = true;
    if (!has_block) continue;
    for (const auto& g : previous.class_groups[old]) changed_groups.insert(g);
    for (const auto& g : now) changed_groups.insert(g);
  }

  // Images: a class's images change only when it is new or one of its groups
  // references a group whose class ranges changed.
  c.reuse.previous = &previous;
  know_previous_images(p, previous, c.reuse);
  c.reuse.dirty.assign(c.out.class_groups.size(), false);
  for (ClassId id = static_cast<ClassId>(previous.class_groups.size()); id < c.out.class_groups.size(); ++id)
    c.reuse.dirty[id] = true;
  if (!changed_groups.empty()) {
    auto referencing = groups_referencing(p, changed_groups);
    for (ClassId id = 1; id < c.out.class_groups.size(); ++id)
      for (const auto& g : c.out.class_groups[id])
        if (referencing.count(g)) {
          c.reuse.dirty[id] = true;
          break;
        }
  }
  c.compile_vms();
  c.count_members();
  return std::move(c.out);
}

}  // namespace sgfw::compiler
