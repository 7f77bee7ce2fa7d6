// compile_membership_change (docs/design/update-protocol.md, step 2):
// over many random policies and random single- and multi-VM group changes, the
// incremental compile equals the full compile with the same previous compilation,
// field by field (classes, addresses, images, VM entries).
#define BOOST_TEST_MODULE compiler_membership
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "compiler/compiler.hpp"
#include "policy/validate.hpp"
#include "random_policy.hpp"

using namespace sgfw;
using compiler::CompiledPolicy;

namespace {

// A VM's new list: 0..3 of the policy's groups (no duplicates).
std::vector<std::string> random_groups(std::mt19937_64& rng, const policy::Policy& p) {
  std::vector<std::string> out;
  size_t n = rng() % 4;
  for (size_t k = 0; k < n; ++k) {
    const std::string& g = p.groups[rng() % p.groups.size()].name;
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  }
  return out;
}

void require_equal(const CompiledPolicy& inc, const CompiledPolicy& full, const std::string& what) {
  BOOST_TEST_CONTEXT(what) {
    BOOST_REQUIRE(inc.class_groups == full.class_groups);
    BOOST_REQUIRE(inc.class_ids == full.class_ids);
    BOOST_REQUIRE(inc.class_members == full.class_members);
    BOOST_REQUIRE(inc.vm_classes == full.vm_classes);
    BOOST_REQUIRE(inc.address_classes == full.address_classes);
    BOOST_REQUIRE(inc.address_classes6 == full.address_classes6);
    BOOST_REQUIRE(inc.images == full.images);
    BOOST_REQUIRE(inc.images6 == full.images6);
    BOOST_REQUIRE(inc.rules == full.rules);
    BOOST_REQUIRE(inc.vms == full.vms);
    BOOST_REQUIRE(inc == full);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(incremental_equals_full_over_random_changes) {
  std::mt19937_64 rng(20261130);
  size_t changes = 0;
  for (int round = 0; round < 60; ++round) {
    testing::RandomPolicyOptions opts;
    opts.ipv4_pairs = round % 3 == 0;
    opts.ipv6_pairs = round % 3 == 0;
    policy::Policy p = testing::random_policy(rng, opts);
    if (p.vms.empty()) continue;
    CompiledPolicy prev = compiler::compile(p);
    for (int step = 0; step < 25; ++step) {
      std::vector<std::string> changed;
      size_t n = 1 + (step % 5 == 4 ? rng() % 3 : 0);
      for (size_t k = 0; k < n; ++k) {
        const auto& vm = p.vms[rng() % p.vms.size()];
        std::vector<std::string> groups = step % 7 == 6 ? vm.groups.get() : random_groups(rng, p);  // sometimes a no-op
        BOOST_REQUIRE(policy::set_vm_groups(p, vm.name, groups));
        changed.push_back(vm.name);
      }
      CompiledPolicy full = compiler::compile(p, &prev);
      CompiledPolicy inc = compiler::compile_membership_change(p, prev, changed);
      require_equal(inc, full, "round " + std::to_string(round) + " step " + std::to_string(step));
      ++changes;
      prev = std::move(inc);
    }
  }
  BOOST_TEST_MESSAGE(changes << " changes");
  BOOST_TEST(changes > 1000u);
}

// Changes of VMs with allowed address pairs take the incremental path too: a
// single-address pair moves to the VM's new class, a shared or wider one changes the
// pair blocks of the VM's old and new groups (and so the images that reference them).
BOOST_AUTO_TEST_CASE(changes_of_vms_with_pairs_equal_full) {
  std::mt19937_64 rng(15);
  size_t changes = 0, with_block_pairs = 0;
  for (int round = 0; round < 60; ++round) {
    testing::RandomPolicyOptions opts;
    opts.ipv4_pairs = opts.ipv6_pairs = true;
    policy::Policy p = testing::random_policy(rng, opts);
    std::vector<std::string> paired;
    for (const auto& vm : p.vms)
      if (!vm.allowed_address_pairs.empty()) paired.push_back(vm.name);
    if (paired.empty()) continue;
    CompiledPolicy prev = compiler::compile(p);
    for (int step = 0; step < 25; ++step) {
      const std::string& name = paired[rng() % paired.size()];
      BOOST_REQUIRE(policy::set_vm_groups(p, name, random_groups(rng, p)));
      CompiledPolicy full = compiler::compile(p, &prev);
      CompiledPolicy inc = compiler::compile_membership_change(p, prev, {name});
      require_equal(inc, full, "round " + std::to_string(round) + " step " + std::to_string(step));
      for (const auto& pair : p.find_vm(name)->allowed_address_pairs)
        if (!pair.ip.is_host()) {
          ++with_block_pairs;
          break;
        }
      ++changes;
      prev = std::move(inc);
    }
  }
  BOOST_TEST_MESSAGE(changes << " changes of VMs with pairs, " << with_block_pairs << " with a block pair");
  BOOST_TEST(changes > 1000u);
  BOOST_TEST(with_block_pairs > 100u);
}

// The previous compilation may have been made with its own previous (stable class ids,
// emptied slots): the chain stays equal to the full compiles' chain.
BOOST_AUTO_TEST_CASE(chains_of_changes_keep_class_ids) {
  std::mt19937_64 rng(7);
  testing::RandomPolicyOptions opts;
  opts.ipv4_pairs = opts.ipv6_pairs = false;
  policy::Policy p = testing::random_policy(rng, opts);
  BOOST_REQUIRE(!p.vms.empty());
  CompiledPolicy inc = compiler::compile(p), full = inc;
  for (int step = 0; step < 200; ++step) {
    const auto& vm = p.vms[rng() % p.vms.size()];
    BOOST_REQUIRE(policy::set_vm_groups(p, vm.name, random_groups(rng, p)));
    inc = compiler::compile_membership_change(p, inc, {vm.name});
    full = compiler::compile(p, &full);
    require_equal(inc, full, "step " + std::to_string(step));
  }
}
