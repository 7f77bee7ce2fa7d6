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
