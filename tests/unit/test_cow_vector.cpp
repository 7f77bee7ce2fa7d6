// core::CowVector (copy on write) and what a `vm set-groups` relies on: a copy of a
// policy shares every group's rules and every VM's lists with the original until one
// of them changes, and a change to the copy never shows in the original
// (docs/design/update-protocol.md, "What a membership change copies").
#define BOOST_TEST_MODULE cow_vector
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "compiler/compiler.hpp"
#include "core/cow_vector.hpp"
#include "policy/validate.hpp"
#include "random_policy.hpp"

using namespace sgfw;
using core::CowVector;

BOOST_AUTO_TEST_CASE(copies_share_until_written) {
  CowVector<int> a{1, 2, 3};
  CowVector<int> b = a;
  BOOST_TEST(a.shares_with(b));
  BOOST_TEST(a.data() == b.data());
  b.push_back(4);  // unshares b only
  BOOST_TEST(!a.shares_with(b));
  BOOST_TEST(a.get() == (std::vector<int>{1, 2, 3}));
  BOOST_TEST(b.get() == (std::vector<int>{1, 2, 3, 4}));
  CowVector<int> c = a;
  c[0] = 9;  // a mutable element access unshares too
  BOOST_TEST(a[0] == 1);
  BOOST_TEST(c[0] == 9);
  CowVector<int> d = a;
  for (int& x : d) x *= 10;  // mutable iteration
  BOOST_TEST(a.get() == (std::vector<int>{1, 2, 3}));
  BOOST_TEST(d.get() == (std::vector<int>{10, 20, 30}));
}

BOOST_AUTO_TEST_CASE(a_sole_owner_writes_in_place) {
  CowVector<int> a{1, 2};
  const int* before = a.data();
  a[1] = 5;
  BOOST_TEST(a.data() == before);
  {
    CowVector<int> b = a;  // shared, then released
  }
  a[0] = 7;
  BOOST_TEST(a.data() == before);
  BOOST_TEST(a.get() == (std::vector<int>{7, 5}));
}

BOOST_AUTO_TEST_CASE(empty_insert_erase_compare) {
  CowVector<std::string> e;
  BOOST_TEST(e.empty());
  BOOST_TEST(e.size() == 0u);
  BOOST_TEST((e.begin() == e.end()));
  CowVector<std::string> a{"b", "d"};
  CowVector<std::string> b = a;
  std::vector<std::string> mid{"c"};
  b.insert(b.cbegin() + 1, mid.begin(), mid.end());
  b.insert(b.cbegin(), std::string("a"));
  BOOST_TEST(b.get() == (std::vector<std::string>{"a", "b", "c", "d"}));
  BOOST_TEST(a.get() == (std::vector<std::string>{"b", "d"}));
  b.erase(b.cbegin() + 1, b.cbegin() + 3);
  BOOST_TEST(b.get() == (std::vector<std::string>{"a", "d"}));
  BOOST_TEST((a < b) == (a.get() < b.get()));
  BOOST_TEST((a == CowVector<std::string>{"b", "d"}));
  BOOST_TEST((a != b));
  b.clear();
  BOOST_TEST(b.empty());
  BOOST_TEST(a.size() == 2u);
  BOOST_CHECK_THROW((void)a.at(2), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(a_policy_copy_shares_what_set_groups_does_not_change) {
  std::mt19937_64 rng(7);
  policy::Policy p = testing::random_policy(rng);
  policy::Policy copy = p;
  for (size_t g = 0; g < p.groups.size(); ++g)
    if (!p.groups[g].rules.empty()) BOOST_TEST(std::as_const(copy).groups[g].rules.shares_with(p.groups[g].rules));
  // A VM without address pairs moves to another VM's groups (an existing class: the
  // incremental compile below takes its own path, not the full compile).
  const policy::Vm* moved = nullptr;
  for (const auto& vm : std::as_const(p).vms)
    if (vm.allowed_address_pairs.empty() && vm.groups.get() != std::as_const(p).vms.back().groups.get()) moved = &vm;
  BOOST_REQUIRE(moved != nullptr);
  const std::string name = moved->name;
  std::vector<std::string> groups = std::as_const(p).vms.back().groups.get();
  BOOST_REQUIRE(policy::set_vm_groups(copy, name, groups));
  BOOST_TEST(std::as_const(copy).find_vm(name)->groups.get() == groups);
  BOOST_TEST(std::as_const(p).find_vm(name)->groups.get() != groups);
  // The rules are still shared after the change: it touched one VM's groups only.
  for (size_t g = 0; g < p.groups.size(); ++g)
    if (!p.groups[g].rules.empty()) BOOST_TEST(std::as_const(copy).groups[g].rules.shares_with(p.groups[g].rules));
  // The incremental compile shares the rule list and the reused images with the
  // previous compilation instead of copying them.
  compiler::CompiledPolicy prev = compiler::compile(p);
  compiler::CompiledPolicy next = compiler::compile_membership_change(copy, prev, {name});
  if (!prev.rules.empty()) BOOST_TEST(next.rules.shares_with(prev.rules));
}
