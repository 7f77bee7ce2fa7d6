// The control protocol (lib/protocol, docs/control.md): what sgfwctl encodes, sgfwd
// parses back to the same typed request; malformed or hostile lines become error
// messages, never exceptions.
#define BOOST_TEST_MODULE protocol
#include <boost/test/unit_test.hpp>

#include <string>

#include "protocol/protocol.hpp"

using namespace sgfw;
using namespace sgfw::protocol;

namespace {

Request round_trip(const Request& r) {
  auto back = parse_request(encode_request(r));
  if (!back.has_value()) BOOST_FAIL(back.error().message);
  BOOST_TEST(command_of(*back) == command_of(r));
  return *back;
}

std::string error_of(std::string_view line) {
  auto r = parse_request(line);
  BOOST_REQUIRE(!r.has_value());
  return r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_request_round_trips) {
  round_trip(StatusRequest{});
  BOOST_TEST(std::get<StatsRequest>(round_trip(StatsRequest{"web-1"})).vm == "web-1");
  BOOST_TEST(std::get<StatsRequest>(round_trip(StatsRequest{})).vm.empty());
  auto e = std::get<ExplainRequest>(round_trip(ExplainRequest{{"tcp a:1 b:2", "udp c d:53"}}));
  BOOST_TEST(e.packets.size() == 2u);
  BOOST_TEST(e.packets[1] == "udp c d:53");
  auto r = std::get<ReloadRequest>(round_trip(ReloadRequest{std::string("vms: []\n"), "p.yaml"}));
  BOOST_TEST(r.policy.has_value());
  BOOST_TEST(*r.policy == "vms: []\n");
  BOOST_TEST(r.name == "p.yaml");
  BOOST_TEST(!std::get<ReloadRequest>(round_trip(ReloadRequest{})).policy.has_value());
  auto g = std::get<SetGroupsRequest>(round_trip(SetGroupsRequest{"vm-1", {"web", "null", ""}}));
  BOOST_TEST(g.vm == "vm-1");
  BOOST_TEST(g.groups.size() == 3u);
  BOOST_TEST(g.groups[1] == "null");
  auto f = std::get<FlowsRequest>(round_trip(FlowsRequest{"x", 7}));
  BOOST_TEST(f.vm == "x");
  BOOST_TEST(f.limit == 7);
  BOOST_TEST(std::get<FlowsRequest>(round_trip(FlowsRequest{})).limit == -1);
  BOOST_TEST(std::get<FlushRequest>(round_trip(FlushRequest{"y"})).vm == "y");
}

BOOST_AUTO_TEST_CASE(malformed_requests_are_errors) {
  BOOST_TEST(error_of("").find("malformed request") == 0u);
  BOOST_TEST(error_of("[1]") == "request must be an object with a string \"cmd\"");
  BOOST_TEST(error_of(R"({"cmd": 3})") == "request must be an object with a string \"cmd\"");
  BOOST_TEST(error_of(R"({"cmd": "status", "args": []})") == "\"args\" must be an object");
  BOOST_TEST(error_of(R"({"cmd": "stats", "args": {"vm": 1}})") == "\"vm\" must be a string");
  BOOST_TEST(error_of(R"({"cmd": "flows", "args": {"limit": -1}})") == "\"limit\" must be a non-negative integer");
  BOOST_TEST(error_of(R"({"cmd": "flows", "args": {"limit": 1.5}})") == "\"limit\" must be a non-negative integer");
  BOOST_TEST(error_of(R"({"cmd": "reload", "args": {"policy": 1}})") == "\"policy\" must be the policy file's content");
  BOOST_TEST(error_of(R"({"cmd": "set-groups", "args": {"vm": "a"}})") == "set-groups needs \"vm\" and \"groups\"");
  BOOST_TEST(error_of(R"({"cmd": "set-groups", "args": {"vm": "a", "groups": [1]}})") == "groups must be strings");
  BOOST_TEST(error_of(R"({"cmd": "explain", "args": {}})") == "explain needs \"packets\": [lines]");
  BOOST_TEST(error_of(R"({"cmd": "explain", "args": {"packets": [{}]}})") == "explain packets must be strings");
  // Client text in an error is escaped (no raw control characters, bounded).
  std::string evil = error_of("{\"cmd\": \"x\\nsgfwd: reload by uid 0\\u001b[2J\"}");
  BOOST_TEST(evil.find('\n') == std::string::npos);
  BOOST_TEST(evil.find('\x1b') == std::string::npos);
  BOOST_TEST(evil.find("unknown command 'x\\x0asgfwd") == 0u);
}

BOOST_AUTO_TEST_CASE(depth_and_size_bounds) {
  std::string deep = R"({"cmd": "status", "args": {"x": )" + std::string(100000, '[') + std::string(100000, ']') + "}}";
  BOOST_TEST(error_of(deep) == "request nested deeper than 32 levels");
  std::string ok = R"({"cmd": "status", "args": {"x": )" + std::string(30, '[') + std::string(30, ']') + "}}";
  BOOST_TEST(parse_request(ok).has_value());
  std::string packets;
  for (size_t i = 0; i <= kMaxExplainPackets; ++i) packets += std::string(i ? "," : "") + "\"tcp a b\"";
  BOOST_TEST(error_of(R"({"cmd": "explain", "args": {"packets": [)" + packets + "]}}").find("at most 10000 packets") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(replies_both_ways) {
  auto ok = decode_reply(encode_ok(Json{{"generation", 3}, {"total_ms", 1.23456789}}));
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST(ok->ok);
  BOOST_TEST(ok->result.at("generation").get<int>() == 3);
  BOOST_TEST(ok->result.at("total_ms").get<double>() == 1.235);  // rounded to the microsecond
  auto err = decode_reply(encode_error("no \xff utf-8"));  // invalid UTF-8 is replaced, not thrown
  BOOST_REQUIRE(err.has_value());
  BOOST_TEST(!err->ok);
  BOOST_TEST(err->error.find("no ") == 0u);
  BOOST_TEST(!decode_reply("{}").has_value());
  BOOST_TEST(!decode_reply("not json").has_value());
  BOOST_TEST(!decode_reply(R"({"ok": "yes"})").has_value());
}
