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
