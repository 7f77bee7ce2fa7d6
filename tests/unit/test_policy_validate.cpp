// policy/validate.hpp: a policy's local VMs against the daemon's ports (the location
// comes from the loader, through Policy::source and Vm::port_at) and set_vm_groups'
// checks (each error leaves the policy as it was).
#define BOOST_TEST_MODULE policy_validate
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "config/policy_loader.hpp"
#include "policy/validate.hpp"

using namespace sgfw;

namespace {

policy::Policy load_ok(std::string_view text, std::string_view name = "p.yaml") {
  auto r = config::load_policy_text(text, name);
  BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
  return std::move(r).value();
}

std::string error_of(const core::Status& st) { return st ? std::string("<ok>") : st.error().message; }

const policy::PortNames kPorts{{"vm-web1", "vm-app1"}, "uplink", "d.yaml"};

const char* const kTwoVms =
    "securityGroups:\n"
    "  - name: web\n"
    "    rules: []\n"
    "  - name: db\n"
    "    rules: []\n"
    "vms:\n"
    "  - name: web-1\n"
    "    port: vm-web1\n"
    "    mac: 02:00:00:00:01:01\n"
    "    ips: [10.0.0.10]\n"
    "    securityGroups: [web]\n"
    "  - name: api-1\n"
    "    port: vm-api\n"
    "    mac: 02:00:00:00:01:02\n"
    "    ips: [10.0.0.11]\n";

}  // namespace

// ------------------------------------------------------------------ check_vm_ports

BOOST_AUTO_TEST_CASE(loader_records_source_and_port_location) {
  auto p = load_ok(kTwoVms);
  BOOST_TEST(p.source == "p.yaml");
  const policy::Vm* api = p.find_vm("api-1");
  BOOST_REQUIRE(api);
  BOOST_TEST(api->port_at.line == 13u);
  BOOST_TEST(api->port_at.column == 11u);
  auto flow = load_ok("vms: [{name: x, port: p1, mac: 02:00:00:00:00:01, ips: [10.0.0.1]}]\n");
  BOOST_TEST(flow.vms[0].port_at.line == 1u);
  BOOST_TEST(flow.vms[0].port_at.column == 23u);
  // Hosted elsewhere: no port, no location.
  BOOST_TEST(!load_ok("vms: [{name: x, ips: [10.0.0.9]}]\n").vms[0].port_at.known());
}

BOOST_AUTO_TEST_CASE(unknown_port_located_with_the_vm_ports) {
  BOOST_TEST(error_of(policy::check_vm_ports(load_ok(kTwoVms), kPorts)) ==
             "p.yaml:13:11: VM 'api-1': unknown port 'vm-api' (VM ports of d.yaml: vm-web1, vm-app1; add the port "
             "to the daemon configuration or fix the VM's port)");
  policy::PortNames none{{}, "uplink", "d.yaml"};
  BOOST_TEST(error_of(policy::check_vm_ports(load_ok(kTwoVms), none)).find("(VM ports of d.yaml: none;") !=
             std::string::npos);
  policy::PortNames all = kPorts;
  all.vm_ports.push_back("vm-api");
  BOOST_TEST(policy::check_vm_ports(load_ok(kTwoVms), all).has_value());
}

BOOST_AUTO_TEST_CASE(uplink_is_not_a_vm_port) {
  auto p = load_ok("vms:\n  - {name: web-1, port: uplink, mac: 02:00:00:00:01:01, ips: [10.0.0.10]}\n", "u.yaml");
  BOOST_TEST(error_of(policy::check_vm_ports(p, kPorts)) ==
             "u.yaml:2:25: VM 'web-1': port 'uplink' is the uplink of d.yaml; a VM needs one of its VM ports "
             "(vm-web1, vm-app1)");
  // Without the daemon's file (runtime::Snapshot::build): the short forms.
  BOOST_TEST(error_of(policy::check_vm_ports(p, {{"vm-web1"}, "uplink", ""})) ==
             "u.yaml:2:25: VM 'web-1': port 'uplink' is the uplink");
}

BOOST_AUTO_TEST_CASE(prefix_follows_what_is_known) {
  auto p = load_ok(kTwoVms);
  p.find_vm("api-1")->port_at = {};
  BOOST_TEST(error_of(policy::check_vm_ports(p, {{"vm-web1"}, "uplink", ""})) ==
             "p.yaml: VM 'api-1': unknown port 'vm-api'");
  p.source.clear();
  BOOST_TEST(error_of(policy::check_vm_ports(p, {{"vm-web1"}, "uplink", ""})) == "VM 'api-1': unknown port 'vm-api'");
  // Built in code: no source, no location; names are escaped.
  policy::Policy code;
  policy::Vm vm;
  vm.name = "a\nb";
  vm.port = "p\x1b";
  code.vms.push_back(vm);
  code.finalize();
  BOOST_TEST(error_of(policy::check_vm_ports(code, kPorts)) ==
             "VM 'a\\x0ab': unknown port 'p\\x1b' (VM ports of d.yaml: vm-web1, vm-app1; add the port to the daemon "
             "configuration or fix the VM's port)");
  // A source that carries control characters (a name given to reload) is escaped too.
  code.source = "x\ny";
  BOOST_TEST(error_of(policy::check_vm_ports(code, {{}, "", ""})) == "x\\x0ay: VM 'a\\x0ab': unknown port 'p\\x1b'");
}

// ------------------------------------------------------------------ set_vm_groups

BOOST_AUTO_TEST_CASE(set_groups_trims_and_sets) {
  auto p = load_ok(kTwoVms);
  BOOST_TEST(policy::set_vm_groups(p, "web-1", {" db\t", "\tweb", "default-allow-ssh "}).has_value());
  BOOST_TEST(p.find_vm("web-1")->groups == (std::vector<std::string>{"db", "web", "default-allow-ssh"}),
             boost::test_tools::per_element());
  BOOST_TEST(policy::set_vm_groups(p, "web-1", {}).has_value());
  BOOST_TEST(p.find_vm("web-1")->groups.empty());
}

BOOST_AUTO_TEST_CASE(set_groups_errors_leave_the_policy_unchanged) {
  const auto original = load_ok(kTwoVms);
  auto p = original;
  auto same = [&] {
    for (size_t i = 0; i < p.vms.size(); ++i)
      if (p.vms[i].groups != original.vms[i].groups) return false;
    return p.vms.size() == original.vms.size();
  };
  BOOST_TEST(error_of(policy::set_vm_groups(p, "nope", {"db"})) == "unknown VM 'nope'");
  BOOST_TEST(same());
  BOOST_TEST(error_of(policy::set_vm_groups(p, "web-1", {"db", " \t "})) ==
             "empty security group name in the list: give names, or an empty list for none (sgfwctl: '-')");
  BOOST_TEST(same());
  BOOST_TEST(error_of(policy::set_vm_groups(p, "web-1", {"db", "cache"})) == "unknown security group 'cache'");
  BOOST_TEST(same());
  BOOST_TEST(error_of(policy::set_vm_groups(p, "web-1", {"db", "web", " db"})) == "security group 'db' listed twice");
  BOOST_TEST(same());
  // The unknown VM comes first, then empty names (all of them), then the list in order.
  BOOST_TEST(error_of(policy::set_vm_groups(p, "nope", {""})) == "unknown VM 'nope'");
  BOOST_TEST(error_of(policy::set_vm_groups(p, "web-1", {"cache", ""})).rfind("empty security group name", 0) == 0);
  BOOST_TEST(error_of(policy::set_vm_groups(p, "web-1", {"db", "db", "cache"})) == "security group 'db' listed twice");
  BOOST_TEST(same());
}
