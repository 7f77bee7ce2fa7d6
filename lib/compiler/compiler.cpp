#include "compiler/compiler.hpp"

#include <algorithm>
#include <cstdint>

#include "compiler/compiler_state.hpp"

namespace sgfw::compiler {

size_t CompiledPolicy::acl_rule_count() const {
  size_t n = 0;
  for (const auto& img : images) n += img.rules.size();
  return n;
}

namespace detail {

using policy::Direction;
using policy::Protocol;
using policy::Remote;

void Compiler::number_rules() {
  for (const auto& g : p.groups) {  // sorted by name: the deciding order
    first_rule_id[g.name] = static_cast<uint32_t>(out.rules.size());
    for (const auto& r : g.rules) out.rules.push_back({g.name, r.name});
  }
}

void Compiler::assign_classes(const CompiledPolicy* previous) {
  // Effective group sets once per VM; VMs share few distinct sets.
  std::vector<std::map<GroupSet, ClassId>::iterator> set_of_vm;
  set_of_vm.reserve(p.vms.size());
  for (const auto& vm : p.vms) set_of_vm.push_back(class_of_set.emplace(policy::effective_groups(vm), kNoClass).first);
  out.class_groups.emplace_back();  // class 0: no VM
  // Renumber from scratch when fewer than half of the previous ids are still in use.
  if (previous && class_of_set.size() * 2 < previous->class_groups.size()) previous = nullptr;
  if (previous) {
    out.class_groups.resize(previous->class_groups.size());
    for (auto& [set, id] : class_of_set) {
      if (auto it = previous->class_ids.find(set); it != previous->class_ids.end()) {
        id = it->second;
        out.class_groups[id] = set;
      }
    }
  }
  for (auto& [set, id] : class_of_set) {
    if (id != kNoClass) continue;
    id = static_cast<ClassId>(out.class_groups.size());
    out.class_groups.push_back(set);
  }
  out.class_ids = class_of_set;
  vm_class.reserve(p.vms.size());
  for (size_t i = 0; i < p.vms.size(); ++i) vm_class.push_back(set_of_vm[i]->second);
  finish_classes(true);
}

namespace {

// entries[0, kept) is sorted by address; each later entry sets the class of the kept
// entry with its address, and is then removed.
template <class Entry>
void keep_with_current_classes(std::vector<Entry>& entries, size_t kept) {
  const auto end = entries.begin() + static_cast<std::ptrdiff_t>(kept);
  for (size_t k = kept; k < entries.size(); ++k) {
    auto it = std::lower_bound(entries.begin(), end, entries[k].addr,
                               [](const Entry& e, const auto& addr) { return e.addr < addr; });
    if (it != end && it->addr == entries[k].addr) it->klass = entries[k].klass;
  }
  entries.resize(kept);
}

}  // namespace

void Compiler::finish_classes(bool with_vm_addresses) {
  if (with_vm_addresses) {
    for (size_t i = 0; i < p.vms.size(); ++i) {
      for (const auto& ip : p.vms[i].ips) {
        if (ip.is_v4()) out.address_classes.push_back({ip.v4, vm_class[i]});
        else out.address_classes6.push_back({ip.v6, vm_class[i]});
      }
    }
  }
  const size_t n4 = out.address_classes.size(), n6 = out.address_classes6.size();
  add_pair_classes(core::Family::kIpv4);
  add_pair_classes(core::Family::kIpv6);
  if (!with_vm_addresses) {
    // The caller kept the previous entries, single-address pairs included: the entries
    // just found give those pairs their VMs' current classes (a moved VM's pairs move).
    keep_with_current_classes(out.address_classes, n4);
    keep_with_current_classes(out.address_classes6, n6);
  }
  // A membership change keeps the previous (sorted) entries: checking is linear.
  if (!std::is_sorted(out.address_classes6.begin(), out.address_classes6.end()))
    std::sort(out.address_classes6.begin(), out.address_classes6.end());
  if (!std::is_sorted(out.address_classes.begin(), out.address_classes.end()))
    std::sort(out.address_classes.begin(), out.address_classes.end());
  add_class_ranges();
}

// For each group: the classes that contain it, merged into inclusive ranges.
void Compiler::add_class_ranges() {
  for (ClassId c = 1; c < out.class_groups.size(); ++c) {
    for (const auto& g : out.class_groups[c]) {
      auto& ranges = class_ranges[g];
      if (!ranges.empty() && ranges.back().second + 1 == c) ranges.back().second = c;
      else ranges.emplace_back(c, c);
    }
  }
}

void Compiler::count_members() {
  out.class_members.assign(out.class_groups.size(), 0);
  for (ClassId c : vm_class) ++out.class_members[c];
  out.vm_classes = vm_class;
}

namespace {

core::IpCidr masked(const core::IpAddress& a, uint8_t len) {
  core::IpCidr c{a, len};
  if (a.is_v4()) {
    c.base.v4.value &= c.v4().mask();
  } else {
    for (size_t i = 0; i < 16; ++i) {
      size_t bits = len > 8 * i ? len - 8 * i : 0;
      c.base.v6.bytes[i] &= bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00u >> bits);
    }
  }
  return c;
}

}  // namespace

// Allowed address pairs of `family` that are single addresses held by no other VM
// count as members of their VM's class; shared and CIDR pairs are left out
// (docs/design/rule-compilation.md, "Addresses the data plane leaves out").
void Compiler::add_pair_classes(core::Family family) {
  std::map<core::IpCidr, size_t> owner;  // pair block -> VM index; SIZE_MAX: several VMs
  std::vector<uint8_t> prefixes;          // distinct pair prefix lengths
  for (size_t i = 0; i < p.vms.size(); ++i) {
    for (const auto& pair : p.vms[i].allowed_address_pairs) {
      if (pair.ip.family() != family) continue;
      auto [it, fresh] = owner.emplace(pair.ip, i);
      if (!fresh && it->second != i) it->second = SIZE_MAX;
      if (std::find(prefixes.begin(), prefixes.end(), pair.ip.prefix) == prefixes.end())
        prefixes.push_back(pair.ip.prefix);
    }
  }
  for (const auto& [block, vm] : owner) {
    bool shared = vm == SIZE_MAX || !block.is_host();
    for (uint8_t len : prefixes) {
      if (shared) break;
      auto it = owner.find(masked(block.base, len));
      shared = it != owner.end() && it->second != vm;
    }
    if (shared) {
      for (size_t i = 0; i < p.vms.size(); ++i)
        for (const auto& pair : p.vms[i].allowed_address_pairs)
          if (pair.ip == block)
            for (const auto& g : out.class_groups[vm_class[i]]) group_pair_blocks[g].insert(block);
      continue;
    }
    if (family == core::Family::kIpv4) out.address_classes.push_back({block.base.v4, vm_class[vm]});
    else out.address_classes6.push_back({block.base.v6, vm_class[vm]});
  }
}

// The IPv6 twin of add_rule: IPv6 remotes only, ICMP is ICMPv6.
void Compiler::add_rule6(const policy::Rule& r, uint32_t id, RuleImage6& img) {
  AclRuleSpec6 s;
  s.rule_id = id;
  switch (r.protocol) {
    case Protocol::kTcp: s.proto = policy::kIpProtoTcp; s.proto_mask = 0xff; break;
    case Protocol::kUdp: s.proto = policy::kIpProtoUdp; s.proto_mask = 0xff; break;
    case Protocol::kIcmp: s.proto = policy::kIpProtoIcmpV6; s.proto_mask = 0xff; break;
    case Protocol::kAll: break;
  }
  if (r.ports) {
    s.port_lo = r.ports->lo;
    s.port_hi = r.ports->hi;
  }
  const core::IpCidr* block = nullptr;
  switch (r.remote.kind) {
    case Remote::Kind::kAddress: block = &r.remote.cidr; break;
    case Remote::Kind::kSubnet: block = &p.find_subnet(r.remote.name)->cidr; break;
    case Remote::Kind::kGroup: {
      if (auto pb = group_pair_blocks.find(r.remote.name); pb != group_pair_blocks.end()) {
        for (const auto& block : pb->second) {
          if (!block.base.is_v6()) continue;
          AclRuleSpec6 a = s;
          a.remote_addr = block.base.v6;
          a.remote_prefix = block.prefix;
          img.rules.push_back(a);
        }
      }
      auto it = class_ranges.find(r.remote.name);
      if (it == class_ranges.end()) return;
      for (auto [lo, hi] : it->second) {
        s.class_lo = lo;
        s.class_hi = hi;
        img.rules.push_back(s);
      }
      return;
    }
  }
  if (block->family() != core::Family::kIpv6) return;
  s.remote_addr = block->base.v6;
  s.remote_prefix = block->prefix;
  img.rules.push_back(s);
}


void Compiler::add_rule(const policy::Rule& r, uint32_t id, RuleImage& img) {
  AclRuleSpec s;
  s.rule_id = id;
  switch (r.protocol) {
    case Protocol::kTcp: s.proto = policy::kIpProtoTcp; s.proto_mask = 0xff; break;
    case Protocol::kUdp: s.proto = policy::kIpProtoUdp; s.proto_mask = 0xff; break;
    case Protocol::kIcmp: s.proto = policy::kIpProtoIcmp; s.proto_mask = 0xff; break;
    case Protocol::kAll: break;
  }
  if (r.ports) {
    s.port_lo = r.ports->lo;
    s.port_hi = r.ports->hi;
  }
  switch (r.remote.kind) {
    // The images are IPv4 (docs/enforcement.md §7): an IPv6 block adds no rule.
    case Remote::Kind::kAddress:
      if (r.remote.cidr.family() != core::Family::kIpv4) break;
      s.remote_addr = r.remote.cidr.base.v4.value;
      s.remote_prefix = r.remote.cidr.prefix;
      img.rules.push_back(s);
      break;
    case Remote::Kind::kSubnet: {
      const auto* sn = p.find_subnet(r.remote.name);
      if (sn->cidr.family() != core::Family::kIpv4) break;
      s.remote_addr = sn->cidr.base.v4.value;
      s.remote_prefix = sn->cidr.prefix;
      img.rules.push_back(s);
      break;
    }
    case Remote::Kind::kGroup: {
      if (auto pb = group_pair_blocks.find(r.remote.name); pb != group_pair_blocks.end()) {
        for (const auto& block : pb->second) {
          if (!block.base.is_v4()) continue;
          AclRuleSpec a = s;
          a.remote_addr = block.base.v4.value;
          a.remote_prefix = block.prefix;
          img.rules.push_back(a);
        }
      }
      auto it = class_ranges.find(r.remote.name);
      if (it == class_ranges.end()) break;  // no member anywhere: matches nothing
      for (auto [lo, hi] : it->second) {
        s.class_lo = lo;
        s.class_hi = hi;
        img.rules.push_back(s);
      }
      break;
    }
  }
}


namespace {

// The rules of `klass`'s groups in direction `dir`, through `add` (IPv4 or IPv6).
template <typename Image, typename Add>
Image build_image(Compiler& c, ClassId klass, Direction dir, Add add) {
  Image img;
  for (const auto& gname : c.out.class_groups[klass]) {  // sorted, like p.groups
    const auto* g = c.p.find_group(gname);
    uint32_t id = c.first_rule_id.at(gname);
    for (const auto& r : g->rules) {
      if (r.direction == dir) add(r, id, img);
      ++id;
    }
  }
  return img;
}

// The image of (klass, dir): the earlier compilation's when it is still right,
// otherwise built; de-duplicated by content into `images` in first-use order.
template <typename Image, typename Build>
uint32_t image_index_for(ClassId klass, Direction dir, const ImageReuse& reuse, const std::vector<uint32_t>* known,
                         const std::vector<Image>* previous, std::deque<Image>& built,
                         std::map<const Image*, uint32_t, DerefLess>& index,
                         std::map<std::pair<ClassId, Direction>, uint32_t>& of_set, std::vector<Image>& images,
                         Build build) {
  auto key = std::make_pair(klass, dir);
  if (auto it = of_set.find(key); it != of_set.end()) return it->second;
  const Image* img = nullptr;
  const int d = dir == Direction::kIngress ? 0 : 1;
  if (previous && klass < reuse.dirty.size() && !reuse.dirty[klass] && klass < known[d].size() &&
      known[d][klass] != ImageReuse::kUnknown) {
    if (known[d][klass] != kNoContext) img = &(*previous)[known[d][klass]];
  } else {
    Image fresh = build();
    if (!fresh.rules.empty()) {
      built.push_back(std::move(fresh));
      img = &built.back();
    }
  }
  uint32_t idx = kNoContext;
  if (img) {
    auto [it, fresh] = index.emplace(img, static_cast<uint32_t>(images.size()));
    if (fresh) images.push_back(*img);
    idx = it->second;
  }
  of_set.emplace(key, idx);
  return idx;
}

}  // namespace

uint32_t Compiler::image_for(ClassId klass, Direction dir) {
  const std::vector<RuleImage>* prev = reuse.previous ? &reuse.previous->images : nullptr;
  return image_index_for<RuleImage>(klass, dir, reuse, reuse.image, prev, built, image_index, image_of_set,
                                    out.images, [&] {
                                      return build_image<RuleImage>(*this, klass, dir, [this](const policy::Rule& r, uint32_t id, RuleImage& img) { add_rule(r, id, img); });
                                    });
}

uint32_t Compiler::image6_for(ClassId klass, Direction dir) {
  const std::vector<RuleImage6>* prev = reuse.previous ? &reuse.previous->images6 : nullptr;
  return image_index_for<RuleImage6>(klass, dir, reuse, reuse.image6, prev, built6, image6_index, image6_of_set,
                                     out.images6, [&] {
                                       return build_image<RuleImage6>(*this, klass, dir, [this](const policy::Rule& r, uint32_t id, RuleImage6& img) { add_rule6(r, id, img); });
                                     });
}

void Compiler::compile_vms() {
  for (size_t i = 0; i < p.vms.size(); ++i) {
    const auto& vm = p.vms[i];
    if (!vm.is_local()) continue;
    ClassId set = vm_class[i];
    VmEntry e;
    e.name = vm.name;
    e.port = *vm.port;
    e.mac = vm.mac.value_or(core::Mac{});
    for (const auto& ip : vm.ips) {
      if (ip.is_v4()) e.ips.push_back(ip.v4);
      else e.ips6.push_back(ip.v6);
    }
    // IPv6 images only for a VM with an IPv6 address: no IPv6 check can apply to
    // another (pairs are not enforced), and an IPv4-only policy pays nothing.
    if (!e.ips6.empty()) {
      e.ingress6_context = image6_for(set, Direction::kIngress);
      e.egress6_context = image6_for(set, Direction::kEgress);
    }
    e.ingress_context = image_for(set, Direction::kIngress);
    e.egress_context = image_for(set, Direction::kEgress);
    out.vms.push_back(std::move(e));
  }
}

}  // namespace detail

CompiledPolicy compile(const policy::Policy& policy, const CompiledPolicy* previous) {
  detail::Compiler c(policy);
  c.number_rules();
  c.assign_classes(previous);
  c.compile_vms();
  c.count_members();
  return std::move(c.out);
}

}  // namespace sgfw::compiler
