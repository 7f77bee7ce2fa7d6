// The compiler's working state, shared by the full compile (compiler.cpp) and the
// membership-change compile (membership_change.cpp). Internal to lib/compiler: both
// paths run the same steps, so an incremental compile produces what a full one would
// (docs/design/update-protocol.md, step 2). Not thread-safe (one
// compile per instance).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/rule_image.hpp"
#include "policy/model.hpp"

namespace sgfw::compiler::detail {

using GroupSet = std::vector<std::string>;

struct DerefLess {
  template <typename T>
  bool operator()(const T* a, const T* b) const { return *a < *b; }
};

// Images of an earlier compilation that are still right for a class: (class,
// direction) -> index into the earlier images (kNoContext: the empty image).
struct ImageReuse {
  const CompiledPolicy* previous = nullptr;
  std::vector<uint32_t> image[2];   // by class id, [ingress, egress]; kUnknown: not known
  std::vector<uint32_t> image6[2];
  std::vector<bool> dirty;          // by class id: its images must be rebuilt
  static constexpr uint32_t kUnknown = 0xfffffffeu;
};

struct Compiler {
  explicit Compiler(const policy::Policy& policy) : p(policy) {}

  const policy::Policy& p;
  CompiledPolicy out;
  std::map<std::string, uint32_t, std::less<>> first_rule_id;  // group -> id of rule 0
  std::map<GroupSet, ClassId> class_of_set;
  std::unordered_map<std::string, std::vector<std::pair<ClassId, ClassId>>> class_ranges;
  std::deque<RuleImage> built;  // images made here (stable addresses)
  std::deque<RuleImage6> built6;
  std::map<const RuleImage*, uint32_t, DerefLess> image_index;
  std::map<std::pair<ClassId, policy::Direction>, uint32_t> image_of_set;
  std::map<const RuleImage6*, uint32_t, DerefLess> image6_index;
  std::map<std::pair<ClassId, policy::Direction>, uint32_t> image6_of_set;
  std::vector<ClassId> vm_class;  // per VM of p.vms
  // Pair blocks that are not in the class tables (shared by several VMs, or wider than
  // one address), per group of their VMs: a securityGroupRef to the group matches them
  // as address rules (docs/design/rule-compilation.md).
  std::map<std::string, std::set<core::IpCidr>, std::less<>> group_pair_blocks;
  ImageReuse reuse;

  void number_rules();
  void assign_classes(const CompiledPolicy* previous);
  // Address entries of VMs and pairs, group pair blocks, class ranges; after vm_class
  // and out.class_groups are set. `with_vm_addresses`: also every VM's own addresses.
  void finish_classes(bool with_vm_addresses);
  void add_pair_classes(core::Family family);
  void add_class_ranges();
  void compile_vms();
  uint32_t image_for(ClassId klass, policy::Direction dir);
  uint32_t image6_for(ClassId klass, policy::Direction dir);
  void add_rule(const policy::Rule& r, uint32_t id, RuleImage& img);
  void add_rule6(const policy::Rule& r, uint32_t id, RuleImage6& img);
  void count_members();
};

}  // namespace sgfw::compiler::detail
