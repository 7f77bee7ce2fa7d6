// runtime::Snapshot's allowed-address-pair tables (docs/enforcement.md §7.2): the local
// VMs' IPv4 pairs in pairs(), their IPv6 pairs in pairs6(), each with the pair's MAC or
// else the VM's; a pair MAC of either family is one of its VM's MACs on its port, and
// one that is another VM's MAC there is refused.
#define BOOST_TEST_MODULE snapshot_pairs
#include <boost/test/unit_test.hpp>

#include <rte_byteorder.h>

#include "config/policy_loader.hpp"
#include "core/ip_address.hpp"
#include "policy/validate.hpp"
#include "eal_fixture.hpp"
#include "runtime/snapshot.hpp"

BOOST_TEST_GLOBAL_FIXTURE(EalFixture);

using namespace sgfw;

namespace {

constexpr uint64_t kMacA = 0x02000000000a, kMacB = 0x02000000000b, kMacPair = 0x020000000d01;

core::Expected<std::unique_ptr<runtime::Snapshot>> snapshot(const std::string& vms, const std::string& groups = "",
                                                            const runtime::Snapshot* previous = nullptr) {
  auto policy = config::load_policy_text(groups + "vms:\n" + vms, "pairs.yaml");
  BOOST_REQUIRE_MESSAGE(policy.has_value(), (policy ? "" : policy.error().message));
  runtime::PortLayout layout;
  layout.names = {"uplink", "vm-a", "vm-b"};
  layout.uplink = 0;
  return runtime::Snapshot::build(std::move(*policy), layout, 1, 1, acl::BuildOptions{}, previous);
}

std::array<uint8_t, 16> v6(const char* text) {
  auto a = core::parse_ipv6(text);
  BOOST_REQUIRE_MESSAGE(a.has_value(), text);
  return a->bytes;
}

uint32_t vm_named(const runtime::Snapshot& s, const std::string& name) {
  for (uint32_t i = 0; i < s.tables().compiled().vms.size(); ++i)
    if (s.vm(i).name == name) return i;
  BOOST_FAIL("no VM " << name);
  return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(without_ipv6_pairs_the_ipv6_table_is_empty) {
  auto s = snapshot("  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10, '2001:db8::a'],"
                    " allowedAddressPairs: [{ip: 10.0.0.100}]}\n");
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().message));
  BOOST_TEST(!(*s)->pairs().empty());
  BOOST_TEST((*s)->pairs6().empty());
}

BOOST_AUTO_TEST_CASE(ipv6_pairs_go_to_the_ipv6_table_with_their_mac_or_the_vms) {
  auto s = snapshot(
      "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: ['2001:db8::a'],"
      " allowedAddressPairs: [{ip: '2001:db8::100'}, {ip: '2001:db8:1::/64', mac: '02:00:00:00:0d:01'}]}\n"
      "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: ['2001:db8::b'],"
      " allowedAddressPairs: [{ip: '2001:db8::100'}]}\n"
      "  - {name: far, ips: ['2001:db8::f'], allowedAddressPairs: [{ip: '2001:db8:f::/48'}]}\n");
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().message));
  const runtime::Snapshot& snap = **s;
  const uint32_t a = vm_named(snap, "a"), b = vm_named(snap, "b");
  BOOST_TEST(snap.pairs().empty());  // no IPv4 pair
  BOOST_REQUIRE(!snap.pairs6().empty());
  BOOST_TEST(snap.pairs6().owner_with_mac(v6("2001:db8::100").data(), kMacA) == a);  // the shared VIP
  BOOST_TEST(snap.pairs6().owner_with_mac(v6("2001:db8::100").data(), kMacB) == b);
  BOOST_TEST(snap.pairs6().may_use(v6("2001:db8:1::77").data(), a, kMacPair));
  BOOST_TEST(!snap.pairs6().may_use(v6("2001:db8:1::77").data(), a, kMacA));
  BOOST_TEST(!snap.pairs6().owned(v6("2001:db8:f::1").data()));  // a VM hosted elsewhere
  BOOST_TEST(!snap.pairs6().owned(v6("2001:db8::a").data()));    // an own address is no pair
  // The IPv6 pair's own MAC is one of a's MACs on its port, and found by MAC alone.
  BOOST_TEST(snap.vm_on_port(1, kMacPair) == a);
  BOOST_TEST(snap.vm_on_port(2, kMacPair) == acl::kNoVm);
  BOOST_TEST(snap.vm_with_mac(kMacPair) == a);
}

BOOST_AUTO_TEST_CASE(both_families_build_side_by_side) {
  auto s = snapshot("  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10],"
                    " allowedAddressPairs: [{ip: 10.0.0.100}, {ip: '::/0', mac: '02:00:00:00:0d:01'}]}\n");
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().message));
  const runtime::Snapshot& snap = **s;
  BOOST_TEST(snap.pairs().may_use(rte_cpu_to_be_32(0x0a000064), 0, kMacA));
  BOOST_TEST(!snap.pairs().owned(rte_cpu_to_be_32(0x0a000065)));
  BOOST_TEST(snap.pairs6().may_use(v6("fe80::1").data(), 0, kMacPair));
  BOOST_TEST(snap.pairs6().may_use(v6("2001:db8::1").data(), 0, kMacPair));
}

BOOST_AUTO_TEST_CASE(an_ipv6_pair_mac_that_is_another_vms_on_the_port_is_refused) {
  auto s = snapshot("  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10]}\n"
                    "  - {name: d, port: vm-a, mac: '02:00:00:00:00:0d', ips: [10.0.0.13],"
                    " allowedAddressPairs: [{ip: '2001:db8::100', mac: '02:00:00:00:00:0a'}]}\n");
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error().message.find("VM 'd'") != std::string::npos, s.error().message);
  BOOST_TEST(s.error().message.find("MAC of VM 'a'") != std::string::npos, s.error().message);
  // The same MAC on another port is no clash.
  auto ok = snapshot("  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10]}\n"
                     "  - {name: d, port: vm-b, mac: '02:00:00:00:00:0d', ips: [10.0.0.13],"
                     " allowedAddressPairs: [{ip: '2001:db8::100', mac: '02:00:00:00:00:0a'}]}\n");
  BOOST_REQUIRE_MESSAGE(ok.has_value(), (ok ? "" : ok.error().message));
  BOOST_TEST((*ok)->pairs6().owner_with_mac(v6("2001:db8::100").data(), kMacA) == vm_named(**ok, "d"));
}

// A set-groups snapshot (built with the running one as previous) shares both pair
// tables with it; a changed pair builds its own, and the old table keeps answering for
// the running snapshot.
BOOST_AUTO_TEST_CASE(a_set_groups_snapshot_shares_the_pair_tables) {
  const std::string vms =
      "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10, '2001:db8::a'],"
      " allowedAddressPairs: [{ip: 10.0.0.100}, {ip: '2001:db8::100'}], securityGroups: [web]}\n";
  const std::string groups = "securityGroups:\n  - {name: web}\n  - {name: db}\n";
  auto first = snapshot(vms, groups);
  BOOST_REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().message));
  policy::Policy changed = (*first)->policy();
  BOOST_REQUIRE(policy::set_vm_groups(changed, "a", {"db"}));
  const std::vector<std::string> moved{"a"};
  auto next = runtime::Snapshot::build(changed, (*first)->ports(), 2, 1, acl::BuildOptions{}, first->get(), &moved);
  BOOST_REQUIRE_MESSAGE(next.has_value(), (next ? "" : next.error().message));
  BOOST_TEST((*next)->pairs().shares_with((*first)->pairs()));
  BOOST_TEST((*next)->pairs6().shares_with((*first)->pairs6()));

  auto moved_pair = snapshot(
      "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10, '2001:db8::a'],"
      " allowedAddressPairs: [{ip: 10.0.0.101}, {ip: '2001:db8::100'}], securityGroups: [web]}\n",
      groups, first->get());
  BOOST_REQUIRE_MESSAGE(moved_pair.has_value(), (moved_pair ? "" : moved_pair.error().message));
  BOOST_TEST(!(*moved_pair)->pairs().shares_with((*first)->pairs()));
  BOOST_TEST((*moved_pair)->pairs6().shares_with((*first)->pairs6()));
  BOOST_TEST((*moved_pair)->pairs().owned(rte_cpu_to_be_32(0x0a000065)));
  BOOST_TEST(!(*moved_pair)->pairs().owned(rte_cpu_to_be_32(0x0a000064)));
  first->reset();
  BOOST_TEST((*next)->pairs().may_use(rte_cpu_to_be_32(0x0a000064), 0, kMacA));
  BOOST_TEST((*next)->pairs6().may_use(v6("2001:db8::100").data(), 0, kMacA));
}
