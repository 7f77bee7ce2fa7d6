// A compiled policy with its DPDK tables: one rte_acl context per rule image and the
// address table. Built on the control path; immutable afterwards, so any number of
// lcores may read it at once (lookups take no lock). Freed by its owner once no reader
// can hold it (the runtime's RCU does that for the daemon).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "acl/acl_context.hpp"
#include "acl/address_table.hpp"
#include "acl/address_table6.hpp"
#include "acl/check_plan.hpp"
#include "acl/check_plan6.hpp"
#include "compiler/rule_image.hpp"
#include "core/expected.hpp"
#include "policy/packet_tuple.hpp"
#include "policy/verdict.hpp"

namespace sgfw::acl {

// judge()'s error for a tuple whose ends are of two families.
inline constexpr std::string_view kMixedFamilies = "the source and destination are of different address families";

class PolicyTables {
 public:
  // Builds every context; any failure (e.g. the memory cap) fails the whole build and
  // frees what was built. Names are unique per call (a process-wide counter).
  // With `previous`, a context whose image content is unchanged is shared with it
  // instead of rebuilt (contexts are immutable; the last owner frees it).
  [[nodiscard]] static core::Expected<PolicyTables> build(compiler::CompiledPolicy compiled,
                                                         const BuildOptions& options,
                                                         const PolicyTables* previous = nullptr);

  [[nodiscard]] const compiler::CompiledPolicy& compiled() const { return compiled_; }
  [[nodiscard]] const AddressTable& addresses() const { return addresses_; }
  [[nodiscard]] const AddressTable6& addresses6() const { return addresses6_; }
  // The context of an image, or nullptr for kNoContext (a direction that denies all).
  [[nodiscard]] const AclContext* context(uint32_t image) const {
    return image < contexts_.size() ? contexts_[image].get() : nullptr;
  }

  // Data path: one check; returns the deciding rule_id + 1, or kNoMatch.
  [[nodiscard]] uint32_t classify_one(uint32_t context_index, const AclKey& key) const;

  // The checks a first packet needs, with their keys (the packet path's own planner).
  // Precondition: an IPv4 packet (packet.family() == kIpv4).
  [[nodiscard]] CheckPlan plan(const policy::PacketTuple& packet) const;

  // The IPv6 checks of a first packet. Precondition: an IPv6 packet.
  [[nodiscard]] CheckPlan6 plan6(const policy::PacketTuple& packet) const;
  [[nodiscard]] const AclContext* context6(uint32_t image) const {
    return image < contexts6_.size() ? contexts6_[image].get() : nullptr;
  }
  [[nodiscard]] uint32_t classify6_one(uint32_t context_index, const AclKey6& key) const;

  // Control path: the first-packet verdict, check by check (what `explain` prints),
  // computed through the real contexts: IPv4 with the packet path's check plan, IPv6
  // with its twin (the IPv6 tables, the same ones the packet path uses).
  // Error: kMixedFamilies.
  [[nodiscard]] core::Expected<policy::Verdict> judge(const policy::PacketTuple& packet) const;

  // Switches every context's classify method (-ENOTSUP if unsupported here).
  [[nodiscard]] int set_algorithm(ClassifyAlg alg);

  // Heap bytes the DPDK tables took when built (rte_malloc statistics delta).
  [[nodiscard]] size_t dpdk_bytes() const { return dpdk_bytes_; }
  // IPv4 contexts built by this build (the others were shared with `previous`), and
  // their number; the IPv6 ones apart.
  [[nodiscard]] size_t contexts_built() const { return contexts_built_; }
  [[nodiscard]] size_t context_count() const { return contexts_.size(); }
  [[nodiscard]] size_t contexts6_built() const { return contexts6_built_; }
  [[nodiscard]] size_t context6_count() const { return contexts6_.size(); }

 private:
  compiler::CompiledPolicy compiled_;
  std::vector<std::shared_ptr<AclContext>> contexts_;  // parallel to compiled_.images
  AddressTable addresses_;
  std::vector<std::shared_ptr<AclContext>> contexts6_;  // parallel to compiled_.images6
  AddressTable6 addresses6_;
  size_t dpdk_bytes_ = 0;
  size_t contexts_built_ = 0;
  size_t contexts6_built_ = 0;
};


}  // namespace sgfw::acl
