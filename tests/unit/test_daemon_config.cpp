// The daemon configuration loader: the YAML rules it shares with the policy loader
// (one document, enforced while parsing; no aliases) and its located errors.
#define BOOST_TEST_MODULE daemon_config
#include <boost/test/unit_test.hpp>

#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "config/daemon_config.hpp"

using namespace sgfw;

namespace {

const std::string kConfig =
    "ports:\n"
    "  - {name: a, device: net_null0}\n"
    "  - {name: up, device: net_null1, uplink: true}\n"
    "policy: policy.yaml\n";

std::string load_error(const std::string& text) {
  auto r = config::load_daemon_config_text(text, "d.yaml");
  return r ? std::string("<loaded>") : r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_valid_config_loads) { BOOST_TEST(load_error(kConfig) == "<loaded>"); }

BOOST_AUTO_TEST_CASE(one_document_is_enforced_while_parsing) {
  std::clock_t c0 = std::clock();  // CPU time: the suite may share a loaded machine
  BOOST_TEST(load_error(",") == "d.yaml:1:1: a daemon configuration holds one YAML document");
  BOOST_TEST(load_error(kConfig + "---\nworkers: 2\n") ==
             "d.yaml:6:1: a daemon configuration holds one YAML document");
  BOOST_TEST((std::clock() - c0) < 2 * CLOCKS_PER_SEC);
}

// logs: (docs/logs.md): paths relative to the config file, the rate limit's default
// and range, at least one file and not the same one twice; absent = off.
BOOST_AUTO_TEST_CASE(logs_files_and_rate_limit) {
  auto r = config::load_daemon_config_text(
      kConfig + "logs: {connections: c.jsonl, drops: /var/log/sgfw/d.jsonl, rate_limit_per_s: 50}\n", "/etc/sgfw/d.yaml");
  BOOST_REQUIRE(r);
  BOOST_TEST(r->logs.connections == "/etc/sgfw/c.jsonl");
  BOOST_TEST(r->logs.drops == "/var/log/sgfw/d.jsonl");
  BOOST_TEST(r->logs.rate_limit_per_s == 50u);
  BOOST_TEST(r->logs.enabled());
  auto one = config::load_daemon_config_text(kConfig + "logs: {drops: d.jsonl}\n", "d.yaml");
  BOOST_REQUIRE(one);
  BOOST_TEST(one->logs.connections.empty());
  BOOST_TEST(one->logs.rate_limit_per_s == 1000u);
  auto off = config::load_daemon_config_text(kConfig, "d.yaml");
  BOOST_REQUIRE(off);
  BOOST_TEST(!off->logs.enabled());
  BOOST_TEST(load_error(kConfig + "logs: {rate_limit_per_s: 5}\n") ==
             "d.yaml:5:7: logs: give connections, drops or both (leave logs out for none)");
  BOOST_TEST(load_error(kConfig + "logs: {connections: a.jsonl, drops: a.jsonl}\n").find("same file") !=
             std::string::npos);
  BOOST_TEST(load_error(kConfig + "logs: {drops: d.jsonl, rate_limit_per_s: 0}\n").find("out of range 1..10000000") !=
             std::string::npos);
  BOOST_TEST(load_error(kConfig + "logs: {drops: \"\"}\n").find("logs.drops is empty") != std::string::npos);
  BOOST_TEST(load_error(kConfig + "logs: {drops: /var/log/}\n").find("names a directory") != std::string::npos);
  BOOST_TEST(load_error(kConfig + "logs: {drop: d.jsonl}\n").find("drop") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(metrics_listen_is_host_and_port) {
  auto r = config::load_daemon_config_text(kConfig + "metrics: {listen: \"127.0.0.1:9469\"}\n", "d.yaml");
  BOOST_REQUIRE(r);
  BOOST_TEST(r->metrics_host == "127.0.0.1");
  BOOST_TEST(r->metrics_port == 9469);
  auto v6 = config::load_daemon_config_text(kConfig + "metrics: {listen: \"[::1]:9100\"}\n", "d.yaml");
  BOOST_REQUIRE(v6);
  BOOST_TEST(v6->metrics_host == "::1");
  auto off = config::load_daemon_config_text(kConfig, "d.yaml");
  BOOST_REQUIRE(off);
  BOOST_TEST(off->metrics_port == 0);
  BOOST_TEST(load_error(kConfig + "metrics: {listen: \"127.0.0.1\"}\n") ==
             "d.yaml:5:19: metrics.listen '127.0.0.1' is not host:port (e.g. 127.0.0.1:9469, port 1..65535)");
  BOOST_TEST(load_error(kConfig + "metrics: {listen: \":70000\"}\n").find("is not host:port") != std::string::npos);
  BOOST_TEST(load_error(kConfig + "metrics: {port: 1}\n").find("port") != std::string::npos);
}

// worker_idle_sleep_us (docs/configuration.md): 0 (busy-poll) by default, 0..10000.
BOOST_AUTO_TEST_CASE(worker_idle_sleep_is_bounded) {
  auto d = config::load_daemon_config_text(kConfig, "d.yaml");
  BOOST_REQUIRE(d);
  BOOST_TEST(d->worker_idle_sleep_us == 0u);
  auto s = config::load_daemon_config_text(kConfig + "worker_idle_sleep_us: 250\n", "d.yaml");
  BOOST_REQUIRE(s);
  BOOST_TEST(s->worker_idle_sleep_us == 250u);
  BOOST_TEST(load_error(kConfig + "worker_idle_sleep_us: 10001\n").find("out of range 0..10000") != std::string::npos);
  BOOST_TEST(load_error(kConfig + "worker_idle_sleep_us: -1\n").find("worker_idle_sleep_us") != std::string::npos);
}

// policy_source: {etcd: {endpoints, prefix, appliance}} (docs/configuration.md,
// "policy_source"): the valid form, the defaults, and each error with its location.
BOOST_AUTO_TEST_CASE(policy_source_etcd_keys) {
  auto r = config::load_daemon_config_text(
      kConfig +
          "policy_source:\n  etcd:\n    endpoints: [\"http://127.0.0.1:2379\", \"http://127.0.0.2:2379\"]\n"
          "    prefix: /sgfw/\n    appliance: edge-1\n",
      "d.yaml");
  BOOST_REQUIRE(r);
  BOOST_TEST(r->policy_source.etcd);
  BOOST_TEST(r->policy_source.source.endpoints.size() == 2u);
  BOOST_TEST(r->policy_source.source.endpoints[1] == "http://127.0.0.2:2379");
  BOOST_TEST(r->policy_source.source.prefix == "/sgfw/");
  BOOST_TEST(r->policy_source.source.appliance == "edge-1");
  auto file = config::load_daemon_config_text(kConfig, "d.yaml");
  BOOST_REQUIRE(file);
  BOOST_TEST(!file->policy_source.etcd);

  const std::string head = kConfig + "policy_source:\n  etcd:\n";
  const std::string eps = "    endpoints: [\"http://127.0.0.1:2379\"]\n";
  BOOST_TEST(load_error(head + "    endpoints: [\"https://h:1\"]\n    prefix: /p/\n    appliance: a\n") ==
             "d.yaml:7:17: endpoint 'https://h:1': expected http://HOST:PORT");
  BOOST_TEST(load_error(head + "    endpoints: [\"http://h:0\"]\n    prefix: /p/\n    appliance: a\n") ==
             "d.yaml:7:17: endpoint 'http://h:0': the port must be 1..65535");
  BOOST_TEST(load_error(head + "    endpoints: [\"http://h:1\", \"http://h:1\"]\n    prefix: /p/\n    appliance: a\n") ==
             "d.yaml:7:31: endpoint 'http://h:1' is listed twice");
  BOOST_TEST(load_error(head + "    endpoints: []\n    prefix: /p/\n    appliance: a\n") ==
             "d.yaml:7:16: policy_source.etcd.endpoints: give 1..16 URLs");
  std::string seventeen = "    endpoints: [";
  for (int i = 1; i <= 17; ++i) seventeen += (i > 1 ? ", " : "") + std::string("\"http://h:") + std::to_string(i) + "\"";
  BOOST_TEST(load_error(head + seventeen + "]\n    prefix: /p/\n    appliance: a\n") ==
             "d.yaml:7:16: policy_source.etcd.endpoints: give 1..16 URLs");
  BOOST_TEST(load_error(head + eps + "    prefix: /sgfw\n    appliance: a\n") ==
             "d.yaml:8:13: etcd prefix '/sgfw': must end with '/'");
  BOOST_TEST(load_error(head + eps + "    prefix: \"/a b/\"\n    appliance: a\n") ==
             "d.yaml:8:13: etcd prefix '/a b/': must be printable ASCII without spaces");
  BOOST_TEST(load_error(head + eps + "    prefix: /p/\n    appliance: Edge_1\n") ==
             "d.yaml:9:16: appliance 'Edge_1': names are 1-63 of [a-z0-9-], starting and ending with a letter or digit");
  BOOST_TEST(load_error(head + "    prefix: /p/\n    appliance: a\n") == "d.yaml:7:5: policy_source.etcd has no 'endpoints'");
  BOOST_TEST(load_error(head + eps + "    appliance: a\n") == "d.yaml:7:5: policy_source.etcd has no 'prefix'");
  BOOST_TEST(load_error(head + eps + "    prefix: /p/\n    appliance: a\n    extra: 1\n").find("extra") != std::string::npos);
  BOOST_TEST(load_error(kConfig + "policy_source: {file: x}\n").find("file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(default_appliance_is_the_host_names_first_label) {
  BOOST_TEST(config::appliance_from_host("edge-1.example.org") == "edge-1");
  BOOST_TEST(config::appliance_from_host("edge-1") == "edge-1");
  BOOST_TEST(config::appliance_from_host("Edge_1.example.org") == "");
  BOOST_TEST(config::appliance_from_host("") == "");
  BOOST_TEST(config::endpoint_problem("http://127.0.0.1:2379") == "");
  BOOST_TEST(config::endpoint_problem("http://:2379") == "expected http://HOST:PORT");
  BOOST_TEST(config::endpoint_problem("http://h:99999") == "the port must be 1..65535");
  BOOST_TEST(config::prefix_problem("/sgfw/") == "");
  BOOST_TEST(config::prefix_problem(std::string(201, '/')) == "must be 1-200 bytes");
}

// The catalogue's R04: every integer key takes exactly its documented range
// (docs/configuration.md); below it, above it, negative, past 32 bits or not an
// integer, the file is refused with an error that names the key and its line.
BOOST_AUTO_TEST_CASE(every_integer_key_is_range_checked) {
  struct Key {
    std::string yaml;  // `X` stands for the value
    std::string name;
    long long lo, hi;
  };
  const std::vector<Key> keys = {
      {"workers: X\n", "workers", 1, config::kMaxWorkers},
      {"worker_idle_sleep_us: X\n", "worker_idle_sleep_us", 0, 10000},
      {"acl_max_size: X\n", "acl_max_size", 0, 4000000000LL},
      {"mbufs: X\n", "mbufs", 1024, 1LL << 26},
      {"flows: {capacity: X}\n", "capacity", 1, 1LL << 28},
      {"flows: {per_vm_limit: X, per_vm_inbound_half_open: 1}\n", "per_vm_limit", 1, 1LL << 28},
      {"flows: {per_vm_limit: 268435456, per_vm_inbound_half_open: X}\n", "per_vm_inbound_half_open", 1, 1LL << 28},
      {"flows: {timeouts: {tcp_syn: X}}\n", "tcp_syn", 1, 100000000},
      {"flows: {timeouts: {tcp_established: X}}\n", "tcp_established", 1, 100000000},
      {"flows: {timeouts: {tcp_closing: X}}\n", "tcp_closing", 1, 100000000},
      {"flows: {timeouts: {udp: X}}\n", "udp", 1, 100000000},
      {"flows: {timeouts: {udp_stream: X}}\n", "udp_stream", 1, 100000000},
      {"flows: {timeouts: {icmp: X}}\n", "icmp", 1, 100000000},
      {"flows: {timeouts: {other: X}}\n", "other", 1, 100000000},
      {"limits: {local_vms: X, vms: 16777216}\n", "local_vms", 1, 1LL << 20},
      {"limits: {local_vms: 1, vms: X}\n", "vms", 1, 1LL << 24},
      {"limits: {groups: X}\n", "groups", 3, 1LL << 24},
      {"logs: {drops: d.jsonl, rate_limit_per_s: X}\n", "rate_limit_per_s", 1, 10000000},
  };
  auto with = [](const Key& k, const std::string& v) {
    std::string y = k.yaml;
    y.replace(y.find('X'), 1, v);
    return load_error(kConfig + y);
  };
  for (const auto& k : keys) {
    BOOST_TEST_CONTEXT(k.name) {
      BOOST_TEST(with(k, std::to_string(k.lo)) == "<loaded>");
      BOOST_TEST(with(k, std::to_string(k.hi)) == "<loaded>");
      const std::string range = " out of range " + std::to_string(k.lo) + ".." + std::to_string(k.hi);
      for (long long bad : {k.lo - 1, k.hi + 1, -1LL, 4294967296LL, 999999999999LL}) {
        std::string e = with(k, std::to_string(bad));
        BOOST_TEST(e.find("d.yaml:") == 0u, e);
        BOOST_TEST(e.find(k.name + " " + std::to_string(bad) + range) != std::string::npos, e);
      }
      for (const char* bad : {"1.5", "0x10", "1e3", "true", "1000000000000", "--1", "''", "[1]"}) {
        std::string e = with(k, bad);
        BOOST_TEST(e.find("d.yaml:") == 0u, e);
        BOOST_TEST(e.find(k.name) != std::string::npos, e);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_refused_at_every_level) {
  const std::pair<std::string, std::string> cases[] = {
      {"flow: {capacity: 1}\n", "unknown key 'flow' in daemon config"},
      {"flows: {capacty: 1}\n", "unknown key 'capacty' in flows"},
      {"flows: {timeouts: {tcp: 1}}\n", "unknown key 'tcp' in timeouts"},
      {"limits: {rules: 1}\n", "unknown key 'rules' in limits"},
      {"logs: {drops: d.jsonl, rate: 1}\n", "unknown key 'rate' in logs"},
      {"metrics: {listen: '127.0.0.1:9469', path: /m}\n", "unknown key 'path' in metrics"},
  };
  for (const auto& [yaml, want] : cases) {
    std::string e = load_error(kConfig + yaml);
    BOOST_TEST(e.find("d.yaml:") == 0u, e);
    BOOST_TEST(e.find(want) != std::string::npos, e);
  }
}
