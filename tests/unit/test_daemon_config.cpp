// The daemon configuration loader: the YAML rules it shares with the policy loader
// (one document, enforced while parsing; no aliases) and its located errors.
#define BOOST_TEST_MODULE daemon_config
#include <boost/test/unit_test.hpp>

#include <ctime>
#include <string>

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
