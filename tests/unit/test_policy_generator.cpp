// The synthetic policy generator (lib/bench): its output loads, matches its flags, and
// is a pure function of the options and seed.
#define BOOST_TEST_MODULE policy_generator
#include <boost/test/unit_test.hpp>

#include <set>

#include "bench/policy_generator.hpp"
#include "policy/policy_writer.hpp"
#include "compiler/compiler.hpp"
#include "config/policy_loader.hpp"

using namespace sgfw;
using bench::GeneratorOptions;

namespace {

GeneratorOptions mid_size() {
  GeneratorOptions o;
  o.vms = 2000;
  o.local_vms = 300;
  o.groups = 200;
  o.rules_per_group = 20;
  o.groups_per_vm = 4;
  o.roles = 50;
  o.group_ref_share = 0.3;
  o.seed = 42;
  o.ports = 7;
  o.subnets = 5;
  return o;
}

policy::Policy load(const GeneratorOptions& o) {
  auto yaml = bench::generate_policy_yaml(o);
  BOOST_REQUIRE_MESSAGE(yaml, (yaml ? "" : yaml.error().message));
  auto p = config::load_policy_text(*yaml, "generated.yaml");
  BOOST_REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
  return std::move(*p);
}

struct Counts {
  size_t vms = 0, local = 0, groups = 0, rules = 0, group_refs = 0, subnet_refs = 0;
  std::set<std::vector<std::string>> group_sets;
  std::set<std::string> ports;
  std::set<uint64_t> macs;
  std::set<size_t> rules_per_group, groups_per_vm;
};

Counts count(const policy::Policy& p) {
  Counts c;
  for (const auto& g : p.groups) {
    if (g.builtin) continue;
    ++c.groups;
    c.rules_per_group.insert(g.rules.size());
    for (const auto& r : g.rules) {
      ++c.rules;
      c.group_refs += r.remote.kind == policy::Remote::Kind::kGroup;
      c.subnet_refs += r.remote.kind == policy::Remote::Kind::kSubnet;
      if (r.protocol == policy::Protocol::kIcmp || r.protocol == policy::Protocol::kAll)
        BOOST_TEST(!r.ports.has_value());
    }
  }
  for (const auto& vm : p.vms) {
    ++c.vms;
    c.groups_per_vm.insert(vm.groups.size());
    c.group_sets.insert(policy::effective_groups(vm));
    if (vm.is_local()) {
      ++c.local;
      c.ports.insert(*vm.port);
      c.macs.insert(vm.mac->as_u64());
    }
  }
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(output_loads_and_matches_the_flags) {
  GeneratorOptions o = mid_size();
  Counts c = count(load(o));
  BOOST_TEST(c.vms == o.vms);
  BOOST_TEST(c.local == o.local_vms);
  BOOST_TEST(c.groups == o.groups);
  BOOST_TEST(c.rules == size_t{o.groups} * o.rules_per_group);
  BOOST_TEST((c.rules_per_group == std::set<size_t>{o.rules_per_group}));
  BOOST_TEST((c.groups_per_vm == std::set<size_t>{o.groups_per_vm}));
  BOOST_TEST(c.group_sets.size() == o.roles);
  BOOST_TEST(c.ports.size() == o.ports);
  BOOST_TEST(c.macs.size() == o.local_vms);  // unique in the whole policy, not only per port
  double share = static_cast<double>(c.group_refs) / static_cast<double>(c.rules);
  BOOST_TEST(share >= o.group_ref_share - 0.01);
  BOOST_TEST(share <= o.group_ref_share + 0.01);
  BOOST_TEST(c.subnet_refs > 0);
}

BOOST_AUTO_TEST_CASE(roles_become_classes_and_shared_contexts) {
  GeneratorOptions o = mid_size();
  auto compiled = compiler::compile(load(o));
  BOOST_TEST(compiled.class_groups.size() == o.roles + 1);  // class 0: no VM
  BOOST_TEST(compiled.vms.size() == o.local_vms);
  BOOST_TEST(compiled.images.size() <= 2 * size_t{o.roles});  // one per (role, direction)
  BOOST_TEST(compiled.images.size() > o.roles);
}

BOOST_AUTO_TEST_CASE(same_seed_same_text_other_seed_other_text) {
  GeneratorOptions o = mid_size();
  auto a = bench::generate_policy_yaml(o);
  auto b = bench::generate_policy_yaml(o);
  BOOST_REQUIRE(a);
  BOOST_REQUIRE(b);
  BOOST_TEST((*a == *b));
  o.seed = 43;
  auto c = bench::generate_policy_yaml(o);
  BOOST_REQUIRE(c);
  BOOST_TEST((*a != *c));
}

BOOST_AUTO_TEST_CASE(writer_round_trips_through_the_loader) {
  // Generated names are zero-padded, so the loader's name order is generation order
  // and writing the loaded policy gives the same text back.
  GeneratorOptions o = mid_size();
  o.vms = 300;
  o.local_vms = 40;
  o.roles = 20;
  auto text = bench::generate_policy_yaml(o);
  BOOST_REQUIRE(text);
  auto p = config::load_policy_text(*text, "generated.yaml");
  BOOST_REQUIRE(p);
  std::string again = policy::write_policy_yaml(*p, "synthetic policy: sgfw-bench gen-policy " +
                                                       bench::describe(o));
  BOOST_TEST((again == *text));
}

BOOST_AUTO_TEST_CASE(edge_shapes_load) {
  GeneratorOptions o;
  o.vms = 30;
  o.local_vms = 30;
  o.groups = 6;
  o.rules_per_group = 10;
  o.groups_per_vm = 0;  // every VM in default-allow-egress only
  o.roles = 1;
  o.subnets = 0;
  o.group_ref_share = 1.0;
  o.ports = 1;
  Counts c = count(load(o));
  BOOST_TEST(c.group_sets.size() == 1u);
  BOOST_TEST(c.group_refs == c.rules);
  BOOST_TEST(c.ports.size() == 1u);

  o.groups_per_vm = 6;  // the only possible set
  o.group_ref_share = 0.0;
  c = count(load(o));
  BOOST_TEST(c.group_refs == 0u);
  BOOST_TEST(c.subnet_refs == 0u);  // no subnets defined

  o.groups = 7;
  o.groups_per_vm = 6;
  o.roles = 7;  // every 6-of-7 set: the generator must find them all
  c = count(load(o));
  BOOST_TEST(c.group_sets.size() == 7u);
}

BOOST_AUTO_TEST_CASE(impossible_options_are_errors) {
  auto fails = [](auto edit) {
    GeneratorOptions o = mid_size();
    edit(o);
    return !bench::validate(o) && !bench::generate_policy_yaml(o);
  };
  BOOST_TEST(fails([](GeneratorOptions& o) { o.vms = 0; }));
  BOOST_TEST(fails([](GeneratorOptions& o) { o.local_vms = o.vms + 1; }));
  BOOST_TEST(fails([](GeneratorOptions& o) { o.roles = o.vms + 1; }));
  BOOST_TEST(fails([](GeneratorOptions& o) { o.roles = 0; }));
  BOOST_TEST(fails([](GeneratorOptions& o) { o.groups_per_vm = o.groups + 1; }));
  BOOST_TEST(fails([](GeneratorOptions& o) { o.groups = 5; o.groups_per_vm = 2; o.roles = 11; }));
  BOOST_TEST(fails([](GeneratorOptions& o) { o.group_ref_share = 1.5; }));
  BOOST_TEST(fails([](GeneratorOptions& o) { o.ports = 0; }));
  BOOST_TEST(fails([](GeneratorOptions& o) { o.subnets = 1u << 23; }));
  BOOST_TEST(bench::validate(mid_size()).has_value());
}

BOOST_AUTO_TEST_CASE(families_6_and_dual_load_and_keep_the_ipv4_shape) {
  GeneratorOptions o = mid_size();
  o.vms = 300;
  o.local_vms = 40;
  o.roles = 20;
  const policy::Policy v4 = load(o);
  for (bench::Families f : {bench::Families::kIpv6, bench::Families::kDual}) {
    o.family = f;
    BOOST_TEST(bench::describe(o).find(std::string(" --family ") + bench::to_string(f)) != std::string::npos);
    const policy::Policy p = load(o);
    // Same names, groups, roles and rule kinds as the IPv4 policy of the same seed.
    Counts a = count(v4), b = count(p);
    BOOST_TEST(a.rules == b.rules);
    BOOST_TEST(a.group_refs == b.group_refs);
    BOOST_TEST(a.subnet_refs == b.subnet_refs);
    BOOST_TEST((a.group_sets == b.group_sets));
    size_t v4_addrs = 0, v6_addrs = 0, v6_remotes = 0, v6_subnets = 0;
    for (const auto& vm : p.vms)
      for (const auto& ip : vm.ips) (ip.is_v4() ? v4_addrs : v6_addrs)++;
    for (const auto& g : p.groups)
      for (const auto& r : g.rules)
        v6_remotes += r.remote.kind == policy::Remote::Kind::kAddress && r.remote.cidr.family() == core::Family::kIpv6;
    for (const auto& s : p.subnets) v6_subnets += s.cidr.family() == core::Family::kIpv6;
    BOOST_TEST(v6_addrs == p.vms.size());
    BOOST_TEST(v4_addrs == (f == bench::Families::kDual ? p.vms.size() : 0u));
    BOOST_TEST(v6_remotes > 0u);
    BOOST_TEST(v6_subnets == (f == bench::Families::kIpv6 ? p.subnets.size() : 0u));
  }
  BOOST_TEST(!bench::parse_families("5").has_value());
  BOOST_TEST((bench::parse_families("dual") == bench::Families::kDual));
}

BOOST_AUTO_TEST_CASE(ipv6_twin_maps_vm_blocks_outside_blocks_and_default) {
  auto twin = [](uint32_t addr, uint8_t prefix) { return core::to_string(bench::ipv6_twin(core::Cidr{core::Ipv4{addr}, prefix})); };
  BOOST_TEST(twin(0x0a010001, 32) == "fd00::a01:1/128");     // 10.1.0.1
  BOOST_TEST(twin(0xc6120000, 15) == "2001:db8::c612:0/111");  // 198.18.0.0/15
  BOOST_TEST(twin(0, 0) == "::/0");
}
