// Where sgfwctl policy push/pull find etcd (docs/fleet.md, "policy push and pull"): the
// flags, or the daemon's status `policy_source` (contract: a file source is a clear
// error). No daemon, no etcd.
#define BOOST_TEST_MODULE etcd_target
#include <boost/test/unit_test.hpp>

#include "ctl/etcd_target.hpp"

using namespace sgfw;
using ctl::Json;

namespace {

Json status_with(const std::string& policy_source) {
  return Json::parse(R"({"generation": 3, "policy_source": )" + policy_source + "}");
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_etcd_source_gives_the_target) {
  auto r = ctl::target_from_status(status_with(
      R"({"kind": "etcd", "endpoints": ["http://127.0.0.1:2379", "http://127.0.0.2:2379"], "prefix": "/sgfw/",)"
      R"( "appliance": "edge-1", "revision": 12, "connected": true})"));
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.error);
  BOOST_TEST(r.target.endpoints.size() == 2u);
  BOOST_TEST(r.target.endpoints[1] == "http://127.0.0.2:2379");
  BOOST_TEST(r.target.prefix == "/sgfw/");
  BOOST_TEST(r.target.appliance == "edge-1");
}

BOOST_AUTO_TEST_CASE(a_file_source_is_a_clear_error) {
  auto r = ctl::target_from_status(status_with(R"({"kind": "file", "path": "/etc/sgfw/policy.yaml"})"));
  BOOST_TEST(r.code == 1);
  BOOST_TEST(r.error.rfind("sgfwd's policy source is the file /etc/sgfw/policy.yaml, not etcd", 0) == 0u, r.error);
}

BOOST_AUTO_TEST_CASE(an_old_or_malformed_status_is_refused) {
  auto old = ctl::target_from_status(Json::parse(R"({"generation": 1})"));
  BOOST_TEST(old.code == 1);
  BOOST_TEST(old.error.find("no policy_source") != std::string::npos, old.error);
  BOOST_TEST(ctl::target_from_status(status_with(R"({"kind": "zookeeper"})")).code == 1);
  BOOST_TEST(ctl::target_from_status(status_with(R"({"kind": "etcd", "prefix": "/sgfw/"})")).error ==
             "sgfwd's policy_source has no endpoints");
  auto bad_prefix = ctl::target_from_status(
      status_with(R"({"kind": "etcd", "endpoints": ["http://127.0.0.1:2379"], "prefix": "sgfw", "appliance": "a"})"));
  BOOST_TEST(bad_prefix.error == "sgfwd's policy_source: etcd prefix 'sgfw': must end with '/'");
  auto bad_url = ctl::target_from_status(
      status_with(R"({"kind": "etcd", "endpoints": ["ftp://x"], "prefix": "/sgfw/", "appliance": "a"})"));
  BOOST_TEST(bad_url.code == 1);
  BOOST_TEST(bad_url.error.rfind("sgfwd's policy_source: endpoint 'ftp://x'", 0) == 0u, bad_url.error);
}

BOOST_AUTO_TEST_CASE(flags_all_or_none) {
  BOOST_TEST(ctl::flags_usage_error({}, true).empty());
  BOOST_TEST(ctl::flags_usage_error({"http://127.0.0.1:2379", "/sgfw/", "edge-1"}, true).empty());
  BOOST_TEST(!ctl::flags_usage_error({"http://127.0.0.1:2379", "/sgfw/", ""}, true).empty());
  BOOST_TEST(!ctl::flags_usage_error({"", "", "edge-1"}, true).empty());
  // pull needs no appliance
  BOOST_TEST(ctl::flags_usage_error({"http://127.0.0.1:2379", "/sgfw/", ""}, false).empty());
  auto r = ctl::resolve_target({"http://127.0.0.1:2379,http://127.0.0.2:2379", "/sgfw/", "edge-1"}, "/nonexistent",
                               true);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.error);
  BOOST_TEST(r.target.endpoints.size() == 2u);
  auto partial = ctl::resolve_target({"http://127.0.0.1:2379", "", ""}, "/nonexistent", true);
  BOOST_TEST(partial.code == 2);
  auto bad_name = ctl::resolve_target({"http://127.0.0.1:2379", "/sgfw/", "Edge_1"}, "/nonexistent", true);
  BOOST_TEST(bad_name.code == 1);
  BOOST_TEST(bad_name.error.rfind("appliance name 'Edge_1'", 0) == 0u, bad_name.error);
  // No flags and no daemon: exit 3, as every live command.
  auto none = ctl::resolve_target({}, "/nonexistent/sgfwd.sock", true);
  BOOST_TEST(none.code == 3);
  BOOST_TEST(none.error.rfind("daemon not reachable: ", 0) == 0u, none.error);
}
