#include "acl/policy_tables.hpp"

#include <rte_byteorder.h>
#include <rte_malloc.h>

#include <atomic>
#include <map>

#include "policy/link_services.hpp"

namespace sgfw::acl {

namespace {

std::atomic<uint64_t> g_build_counter{0};

size_t heap_allocated() {
  size_t total = 0;
  for (int s = 0; s < RTE_MAX_NUMA_NODES; ++s) {
    rte_malloc_socket_stats st{};
    if (rte_malloc_get_socket_stats(s, &st) == 0) total += st.heap_allocsz_bytes;
  }
  return total;
}

struct ImageLess {
  template <typename Image>
  bool operator()(const Image* a, const Image* b) const { return *a < *b; }
};

// Builds one context per image, sharing those whose image `previous` already has.
template <typename Image>
core::Status build_contexts(const std::vector<Image>& images, const std::vector<Image>* prev_images,
                            const std::vector<std::shared_ptr<AclContext>>* prev_contexts, const std::string& prefix,
                            const BuildOptions& options, std::vector<std::shared_ptr<AclContext>>& out,
                            size_t& built) {
  // Images by content, built at the first image not found in its place below.
  std::map<const Image*, size_t, ImageLess> reusable;
  bool indexed = false;
  out.reserve(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    // A membership change keeps most images in their place, sharing their rule list
    // with the previous generation: reused without comparing rules.
    if (prev_images && i < prev_images->size() && images[i].rules.shares_with((*prev_images)[i].rules)) {
      out.push_back((*prev_contexts)[i]);
      continue;
    }
    if (prev_images && !indexed) {
      for (size_t j = 0; j < prev_images->size(); ++j) reusable.emplace(&(*prev_images)[j], j);
      indexed = true;
    }
    if (auto it = reusable.find(&images[i]); it != reusable.end()) {
      out.push_back((*prev_contexts)[it->second]);
      continue;
    }
    auto ctx = AclContext::build(images[i], prefix + "-" + std::to_string(i), options);
    if (!ctx) return core::make_error(ctx.error().message);
    out.push_back(std::make_shared<AclContext>(std::move(*ctx)));
    ++built;
  }
  return {};
}

}  // namespace

core::Expected<PolicyTables> PolicyTables::build(compiler::CompiledPolicy compiled,
                                                 const BuildOptions& options,
                                                 const PolicyTables* previous) {
  size_t before = heap_allocated();
  PolicyTables t;
  uint64_t build = g_build_counter.fetch_add(1);
  std::string prefix = "sg" + std::to_string(build);
  auto st = build_contexts(compiled.images, previous ? &previous->compiled_.images : nullptr,
                           previous ? &previous->contexts_ : nullptr, prefix, options, t.contexts_, t.contexts_built_);
  if (!st) return core::make_error(st.error().message);
  st = build_contexts(compiled.images6, previous ? &previous->compiled_.images6 : nullptr,
                      previous ? &previous->contexts6_ : nullptr, prefix + "v6", options, t.contexts6_,
                      t.contexts6_built_);
  if (!st) return core::make_error(st.error().message);
  auto addrs = AddressTable::build(compiled, prefix + "-addr");
  if (!addrs) return core::make_error(addrs.error().message);
  t.addresses_ = std::move(*addrs);
  auto addrs6 = AddressTable6::build(compiled, prefix + "-addr6");
  if (!addrs6) return core::make_error(addrs6.error().message);
  t.addresses6_ = std::move(*addrs6);
  t.compiled_ = std::move(compiled);
  size_t after = heap_allocated();
  t.dpdk_bytes_ = after > before ? after - before : 0;
  return t;
}

uint32_t PolicyTables::classify_one(uint32_t context_index, const AclKey& key) const {
  const AclContext* ctx = context(context_index);
  if (ctx == nullptr) return kNoMatch;
  const uint8_t* data[1] = {reinterpret_cast<const uint8_t*>(&key)};
  uint32_t result = kNoMatch;
  if (ctx->classify(data, &result, 1) != 0) return kNoMatch;  // fail closed
  return result;
}

CheckPlan PolicyTables::plan(const policy::PacketTuple& p) const {
  uint32_t src_be = rte_cpu_to_be_32(p.src.v4.value), dst_be = rte_cpu_to_be_32(p.dst.v4.value);
  return plan_checks(compiled_, p.proto, src_be, rte_cpu_to_be_16(p.sport), addresses_.lookup(src_be), dst_be,
                     rte_cpu_to_be_16(p.dport), addresses_.lookup(dst_be));
}

uint32_t PolicyTables::classify6_one(uint32_t context_index, const AclKey6& key) const {
  const AclContext* ctx = context6(context_index);
  if (ctx == nullptr) return kNoMatch;
  const uint8_t* data[1] = {reinterpret_cast<const uint8_t*>(&key)};
  uint32_t result = kNoMatch;
  if (ctx->classify(data, &result, 1) != 0) return kNoMatch;  // fail closed
  return result;
}

CheckPlan6 PolicyTables::plan6(const policy::PacketTuple& p) const {
  return plan_checks6(compiled_, p.proto, p.src.v6, p.sport, addresses6_.lookup(p.src.v6), p.dst.v6, p.dport,
                      addresses6_.lookup(p.dst.v6));
}

core::Expected<policy::Verdict> PolicyTables::judge(const policy::PacketTuple& p) const {
  if (p.src.family != p.dst.family) return core::make_error(std::string(kMixedFamilies));
  const bool v6 = p.src.is_v6();
  CheckPlan plan = v6 ? CheckPlan{} : this->plan(p);
  CheckPlan6 plan6 = v6 ? this->plan6(p) : CheckPlan6{};
  if (const char* r = policy::link_service_drop_reason(p, v6 ? plan6.needed[kEgressCheck] : plan.needed[kEgressCheck]))
    return policy::link_service_drop(r);
  std::vector<policy::Check> checks;
  for (uint8_t d : {kEgressCheck, kIngressCheck}) {
    if (!(v6 ? plan6.needed[d] : plan.needed[d])) continue;
    uint32_t r = v6 ? classify6_one(plan6.context[d], plan6.key[d]) : classify_one(plan.context[d], plan.key[d]);
    policy::Check c{compiled_.vms[v6 ? plan6.vm[d] : plan.vm[d]].name,
                    d == kEgressCheck ? policy::Direction::kEgress : policy::Direction::kIngress, r != kNoMatch, {}};
    if (r != kNoMatch) c.rule = compiled_.rules[r - 1].label();
    checks.push_back(std::move(c));
  }
  return policy::combine_checks(std::move(checks));
}

int PolicyTables::set_algorithm(ClassifyAlg alg) {
  for (auto* list : {&contexts_, &contexts6_}) {
    for (auto& c : *list) {
      int rc = c->set_algorithm(alg);
      if (rc != 0) return rc;
    }
  }
  return 0;
}

}  // namespace sgfw::acl
