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
  bool operator()(const compiler::RuleImage* a, const compiler::RuleImage* b) const { return *a < *b; }
};

}  // namespace

core::Expected<PolicyTables> PolicyTables::build(compiler::CompiledPolicy compiled,
                                                 const BuildOptions& options,
                                                 const PolicyTables* previous) {
  size_t before = heap_allocated();
  PolicyTables t;
  uint64_t build = g_build_counter.fetch_add(1);
  std::string prefix = "sg" + std::to_string(build);
  std::map<const compiler::RuleImage*, size_t, ImageLess> reusable;
  if (previous)
    for (size_t i = 0; i < previous->compiled_.images.size(); ++i)
      reusable.emplace(&previous->compiled_.images[i], i);
  t.contexts_.reserve(compiled.images.size());
  for (size_t i = 0; i < compiled.images.size(); ++i) {
    if (auto it = reusable.find(&compiled.images[i]); it != reusable.end()) {
      t.contexts_.push_back(previous->contexts_[it->second]);
      continue;
    }
    auto ctx = AclContext::build(compiled.images[i], prefix + "-" + std::to_string(i), options);
    if (!ctx) return core::make_error(ctx.error().message);
    t.contexts_.push_back(std::make_shared<AclContext>(std::move(*ctx)));
    ++t.contexts_built_;
  }
  auto addrs = AddressTable::build(compiled, prefix + "-addr");
  if (!addrs) return core::make_error(addrs.error().message);
  t.addresses_ = std::move(*addrs);
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

core::Expected<policy::Verdict> PolicyTables::judge(const policy::PacketTuple& p) const {
  if (!p.src.is_v4() || !p.dst.is_v4()) return core::make_error(std::string(kIpv6NotEnforced));
  CheckPlan plan = this->plan(p);
  if (policy::dhcp_server_from_vm(p, plan.needed[kEgressCheck])) return policy::link_service_drop(policy::kDhcpServerFromVm);
  std::vector<policy::Check> checks;
  for (uint8_t d : {kEgressCheck, kIngressCheck}) {
    if (!plan.needed[d]) continue;
    uint32_t r = classify_one(plan.context[d], plan.key[d]);
    policy::Check c{compiled_.vms[plan.vm[d]].name,
                    d == kEgressCheck ? policy::Direction::kEgress : policy::Direction::kIngress, r != kNoMatch, {}};
    if (r != kNoMatch) c.rule = compiled_.rules[r - 1].label();
    checks.push_back(std::move(c));
  }
  return policy::combine_checks(std::move(checks));
}

int PolicyTables::set_algorithm(ClassifyAlg alg) {
  for (auto& c : contexts_) {
    int rc = c->set_algorithm(alg);
    if (rc != 0) return rc;
  }
  return 0;
}

}  // namespace sgfw::acl
