// Operator-facing text (issue 16): the set-groups list, the persisted policy's mode and
// owner, ports checked against the daemon configuration with a location, pluralised
// counts and the flows table.
#define BOOST_TEST_MODULE operator_text
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/daemon_config.hpp"
#include "config/device_args.hpp"
#include "config/file_access.hpp"
#include "config/file_writer.hpp"
#include "config/policy_loader.hpp"
#include "policy/validate.hpp"
#include "ctl/group_list.hpp"
#include "report/plural.hpp"
#include "report/tables.hpp"

using namespace sgfw;

namespace {

std::string list_error(const std::string& text) {
  auto r = ctl::parse_group_list(text);
  return r ? std::string("<ok>") : r.error().message;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/sgfw-unit-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(group_list_only_dash_means_none) {
  BOOST_TEST(ctl::parse_group_list("-")->empty());
  auto two = ctl::parse_group_list("web-tier-sg, default-allow-ssh");
  BOOST_REQUIRE(two.has_value());
  BOOST_TEST(two->size() == 2u);
  BOOST_TEST((*two)[1] == "default-allow-ssh");  // trimmed: no "unknown group ' default-allow-ssh'"
  BOOST_TEST((*ctl::parse_group_list(" mgmt-sg "))[0] == "mgmt-sg");
  // Cause and remedy for every empty form.
  for (std::string bad : {"", "  "}) {
    std::string e = list_error(bad);
    BOOST_TEST(e.find("empty group list") != std::string::npos, bad);
    BOOST_TEST(e.find("'-'") != std::string::npos, bad);
  }
  for (std::string bad : {",", "a,,b", "a,", ",a", "a, ,b"}) {
    std::string e = list_error(bad);
    BOOST_TEST(e.find("empty group name") != std::string::npos, bad);
    BOOST_TEST(e.find("separate names with single commas") != std::string::npos, bad);
  }
}

BOOST_AUTO_TEST_CASE(persisting_keeps_the_mode_of_the_file) {
  TempDir d;
  std::string f = (d.path / "policy.yaml").string();
  std::ofstream(f) << "vms: []\n";
  BOOST_REQUIRE(chmod(f.c_str(), 0604) == 0);
  BOOST_REQUIRE(config::write_file_atomically(f, "vms: []\n# new\n").has_value());
  struct stat st {};
  BOOST_REQUIRE(stat(f.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0604u);
  std::ifstream in(f);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  BOOST_TEST(all == "vms: []\n# new\n");
  // And its owner, where this process may give it away (root).
  if (geteuid() == 0) {
    BOOST_REQUIRE(chown(f.c_str(), 65534, 65534) == 0);
    BOOST_REQUIRE(config::write_file_atomically(f, "vms: []\n").has_value());
    BOOST_REQUIRE(stat(f.c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 65534u);
    BOOST_TEST(st.st_gid == 65534u);
    BOOST_TEST((st.st_mode & 07777) == 0604u);
  }
  // A file that does not exist yet gets 0640.
  std::string g = (d.path / "new.yaml").string();
  BOOST_REQUIRE(config::write_file_atomically(g, "x\n").has_value());
  BOOST_REQUIRE(stat(g.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0640u);
}

BOOST_AUTO_TEST_CASE(unreadable_files_name_the_reason) {
  auto st = config::check_readable("/nonexistent-dir/nosuchfile.yaml");
  BOOST_REQUIRE(!st.has_value());
  BOOST_TEST(st.error().message == "cannot open /nonexistent-dir/nosuchfile.yaml: No such file or directory");
  st = config::check_readable("/tmp");
  BOOST_REQUIRE(!st.has_value());
  BOOST_TEST(st.error().message.find("is a directory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(vm_port_not_in_config_has_location_and_port_list) {
  const std::string policy_text =
      "vms:\n"
      "  - name: web-1\n"
      "    port: vm-web1\n"
      "    mac: 02:00:00:00:01:01\n"
      "    ips: [10.0.0.10]\n"
      "  - name: api-1\n"
      "    port: vm-api\n"
      "    mac: 02:00:00:00:01:02\n"
      "    ips: [10.0.0.11]\n";
  auto p = config::load_policy_text(policy_text, "p.yaml");
  BOOST_REQUIRE(p.has_value());
  auto cfg = config::load_daemon_config_text(
      "ports:\n"
      "  - {name: vm-web1, device: net_null0}\n"
      "  - {name: vm-app1, device: net_null1}\n"
      "  - {name: uplink, device: net_null2, uplink: true}\n"
      "policy: p.yaml\n",
      "d.yaml");
  BOOST_REQUIRE(cfg.has_value());
  auto st = policy::check_vm_ports(*p, cfg->policy_ports());
  BOOST_REQUIRE(!st.has_value());
  BOOST_TEST(st.error().message ==
             "p.yaml:7:11: VM 'api-1': unknown port 'vm-api' (VM ports of d.yaml: vm-web1, vm-app1; add the port "
             "to the daemon configuration or fix the VM's port)");
  auto up = config::load_policy_text(
      "vms:\n  - {name: web-1, port: uplink, mac: 02:00:00:00:01:01, ips: [10.0.0.10]}\n", "u.yaml");
  BOOST_REQUIRE(up.has_value());
  st = policy::check_vm_ports(*up, cfg->policy_ports());
  BOOST_REQUIRE(!st.has_value());
  BOOST_TEST(st.error().message.rfind("u.yaml:2:25: VM 'web-1': port 'uplink' is the uplink", 0) == 0);
}

BOOST_AUTO_TEST_CASE(counts_are_pluralised) {
  BOOST_TEST(report::count_of(1, "connection") == "1 connection");
  BOOST_TEST(report::count_of(0, "connection") == "0 connections");
  BOOST_TEST(report::count_of(1, "VM") == "1 VM");
  BOOST_TEST(report::count_of(2, "VM") == "2 VMs");
}

BOOST_AUTO_TEST_CASE(flows_table_for_people) {
  auto f = report::Json::parse(R"({"total": 1, "flows": [
    {"proto": 6, "src": "10.0.0.10", "sport": 40000, "dst": "10.0.1.10", "dport": 8080, "state": "established",
     "vm": "web-1", "src_vm": "web-1", "dst_vm": "app-1", "age_s": 1.3979869502040816, "idle_s": 0.0421,
     "generation": 3, "egress_rule": "web-egress-sg/to-app", "ingress_rule": "app-tier-sg/http-from-web"}]})");
  std::string t = report::flows_text(f);
  BOOST_TEST(t.find("1 connection\n") == 0u, t);
  BOOST_TEST(t.find("{") == std::string::npos, t);  // no raw JSON
  BOOST_TEST(t.find("10.0.0.10:40000") != std::string::npos, t);
  BOOST_TEST(t.find("1.4s") != std::string::npos, t);
  BOOST_TEST(t.find("42ms") != std::string::npos, t);
  BOOST_TEST(t.find("1.397") == std::string::npos, t);
  BOOST_TEST(t.find("app-tier-sg/http-from-web") != std::string::npos, t);
  BOOST_TEST(t.find("SRC VM") != std::string::npos, t);
}

// IPv6 endpoints with a port in brackets, as explain takes them; IPv4 and portless
// endpoints unchanged (the JSON of `flows` carries bare addresses).
BOOST_AUTO_TEST_CASE(flows_table_ipv6_endpoints) {
  auto f = report::Json::parse(R"({"total": 3, "flows": [
    {"proto": 6, "src": "10.0.0.10", "sport": 40000, "dst": "10.0.1.10", "dport": 8080, "state": "established",
     "vm": "web-1", "src_vm": "web-1", "dst_vm": null, "age_s": 2.5, "idle_s": 0.5,
     "generation": 3, "egress_rule": "web/out", "ingress_rule": null},
    {"proto": 6, "src": "2001:db8::10", "sport": 40000, "dst": "2001:db8:1::443", "dport": 443, "state": "syn-sent",
     "vm": "web-1", "src_vm": "web-1", "dst_vm": null, "age_s": 0.25, "idle_s": 0.25,
     "generation": 3, "egress_rule": "web/out-v6", "ingress_rule": null},
    {"proto": 58, "src": "2001:db8::10", "sport": 7, "dst": "2001:db8::1", "dport": 0, "state": "icmp-echo",
     "vm": "web-1", "src_vm": "web-1", "dst_vm": null, "age_s": 1.0, "idle_s": 1.0,
     "generation": 3, "egress_rule": "web/out-v6", "ingress_rule": null}]})");
  BOOST_TEST(report::flows_text(f) ==
             "3 connections\n"
             "PROTO   SOURCE                DESTINATION            STATE        SRC VM  DST VM  AGE    IDLE   "
             "EGRESS RULE  INGRESS RULE\n"
             "tcp     10.0.0.10:40000       10.0.1.10:8080         established  web-1   -       2.5s   500ms  "
             "web/out      -\n"
             "tcp     [2001:db8::10]:40000  [2001:db8:1::443]:443  syn-sent     web-1   -       250ms  250ms  "
             "web/out-v6   -\n"
             "icmpv6  2001:db8::10          2001:db8::1            icmp-echo    web-1   -       1.0s   1.0s   "
             "web/out-v6   -\n");
}

BOOST_AUTO_TEST_CASE(status_connections_per_family) {
  auto s = report::Json::parse(R"({"generation": 2,
    "policy": {"path": "p.yaml", "sha256": "ab", "loaded_at": "2024-01-01T00:00:00Z"},
    "compiled": {"vms": 1, "contexts": 1, "acl_rules": 1}, "ports": [], "workers": [],
    "flows": {"capacity": 1000, "used": 5, "used_ipv4": 3, "used_ipv6": 2, "half_open_reclaimed": 0,
              "inbound_half_open_recycled": 0}})");
  std::string t = report::status_text(s);
  BOOST_TEST(t.find("\nconnections: 5 (IPv4 3 / 1000, IPv6 2 / 1000)\n") != std::string::npos, t);
}

// status: the policy source line (docs/control.md, "status"; docs/fleet.md).
BOOST_AUTO_TEST_CASE(status_policy_source_line) {
  const std::string head = R"({"generation": 2,
    "policy": {"path": "p.yaml", "sha256": "ab", "loaded_at": "2024-01-01T00:00:00Z", "persisted_to": "p.yaml"},
    "compiled": {"vms": 1, "contexts": 1, "acl_rules": 1}, "ports": [], "workers": [],
    "flows": {"capacity": 1000, "used": 0, "used_ipv4": 0, "used_ipv6": 0, "half_open_reclaimed": 0,
              "inbound_half_open_recycled": 0}, "policy_source": )";
  std::string etcd = report::status_text(report::Json::parse(head + R"({"kind": "etcd", "endpoints": ["http://h:1"],
    "prefix": "/sgfw/", "appliance": "edge-1", "revision": 42, "connected": false, "applied_at_unix": 1.5,
    "refused": 2, "last_error": "/sgfw/vms/b: unknown security group 'nope'", "persisted": "p.yaml"}})"));
  BOOST_TEST(etcd.find("\npolicy source: etcd /sgfw/ at revision 42, disconnected\n"
                       "  appliance edge-1, 2 refused batch(es), persisted copy p.yaml\n"
                       "  last error: /sgfw/vms/b: unknown security group 'nope'\n") != std::string::npos, etcd);
  BOOST_TEST(etcd.find("rewritten on every reload") == std::string::npos, etcd);
  std::string file = report::status_text(report::Json::parse(head + R"({"kind": "file", "path": "p.yaml"}})"));
  BOOST_TEST(file.find("\npolicy source: file p.yaml\n") != std::string::npos, file);
}

BOOST_AUTO_TEST_CASE(change_result_times_have_fixed_precision) {
  auto r = report::Json::parse(R"({"generation": 4, "contexts": 1, "contexts_rebuilt": 1, "total_ms": 12.345678,
                                   "enforced_ms": 3.14159})");
  BOOST_TEST(report::change_text(r) == "generation 4: 1 of 1 context rebuilt, 12.3 ms (enforced after 3.1 ms)\n");
}

BOOST_AUTO_TEST_CASE(devargs_read_before_probing) {
  using config::device_ifaces;
  using config::device_tx_queues;
  BOOST_TEST(device_ifaces("net_af_xdp0,iface=veth-web1,queue_count=2") == std::vector<std::string>{"veth-web1"});
  BOOST_TEST(device_ifaces("net_pcap0,rx_iface_in=a,tx_iface=a") == std::vector<std::string>{"a"});
  BOOST_TEST(device_ifaces("net_null0,no-rx=1").empty());
  BOOST_TEST(*device_tx_queues("net_af_packet1,iface=x") == 1u);
  BOOST_TEST(*device_tx_queues("net_af_packet1,iface=x,qpairs=4") == 4u);
  BOOST_TEST(*device_tx_queues("net_af_xdp0,iface=x,queue_count=2") == 2u);
  BOOST_TEST(!device_tx_queues("net_null0").has_value());
  BOOST_TEST(config::device_driver("net_af_xdp12,iface=x") == "net_af_xdp");
  BOOST_TEST(!config::is_vdev("0000:01:00.0"));
}
