// The capture and trace requests (docs/capture.md): argument checking, the tuple
// syntax, the pcapng comment option byte by byte, and the base64 transport both ways.
#define BOOST_TEST_MODULE capture_request
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <vector>

#include "capture/pcapng_option.hpp"
#include "control/capture_base64.hpp"
#include "control/capture_request.hpp"
#include "ctl/base64.hpp"

using namespace sgfw::control;

namespace {

TapRequest ok(const std::string& line) {
  auto r = parse_tap_request(line);
  BOOST_REQUIRE(r.has_value());
  if (!r->has_value()) BOOST_FAIL(line + ": " + r->error().message);
  return **r;
}

std::string error(const std::string& line) {
  auto r = parse_tap_request(line);
  BOOST_REQUIRE(r.has_value());
  BOOST_REQUIRE_MESSAGE(!r->has_value(), line + " was accepted");
  return r->error().message;
}

}  // namespace

BOOST_AUTO_TEST_CASE(other_commands_and_non_requests_are_left_to_the_protocol) {
  BOOST_TEST(!parse_tap_request(R"({"cmd":"status"})").has_value());
  BOOST_TEST(!parse_tap_request("not json").has_value());
  BOOST_TEST(!parse_tap_request(R"(["capture"])").has_value());
  BOOST_TEST(!parse_tap_request(R"({"cmd":7})").has_value());
  BOOST_TEST(!parse_tap_request(std::string(5000, ' ') + R"({"cmd":"capture"})").has_value());
  BOOST_TEST(!parse_tap_request(std::string(40, '[') + std::string(40, ']')).has_value());
}

BOOST_AUTO_TEST_CASE(capture_defaults_and_options) {
  auto c = std::get<CaptureRequest>(ok(R"({"cmd":"capture"})"));
  BOOST_TEST(c.count == 100u);
  BOOST_TEST(c.timeout_s == 60);
  BOOST_TEST(!c.drops);
  BOOST_TEST(c.vm.empty());
  c = std::get<CaptureRequest>(
      ok(R"({"cmd":"capture","args":{"vm":"web-1","port":"uplink","drops":true,"count":10000,"timeout":3600}})"));
  BOOST_TEST(c.vm == "web-1");
  BOOST_TEST(c.port == "uplink");
  BOOST_TEST(c.drops);
  BOOST_TEST(c.count == 10000u);
  BOOST_TEST(c.timeout_s == 3600);
}

BOOST_AUTO_TEST_CASE(capture_bad_arguments) {
  BOOST_TEST(error(R"({"cmd":"capture","args":{"count":0}})") ==
             "\"count\" must be a whole number of packets from 1 to 10000");
  BOOST_TEST(error(R"({"cmd":"capture","args":{"count":10001}})") ==
             "\"count\" must be a whole number of packets from 1 to 10000");
  BOOST_TEST(error(R"({"cmd":"capture","args":{"count":-1}})").find("from 1 to 10000") != std::string::npos);
  BOOST_TEST(error(R"({"cmd":"capture","args":{"count":18446744073709551615}})").find("from 1") != std::string::npos);
  BOOST_TEST(error(R"({"cmd":"capture","args":{"count":"5"}})").find("from 1") != std::string::npos);
  BOOST_TEST(error(R"({"cmd":"capture","args":{"timeout":3601}})") ==
             "\"timeout\" must be a whole number of seconds from 1 to 3600");
  BOOST_TEST(error(R"({"cmd":"capture","args":{"drops":"yes"}})") == "\"drops\" must be true or false");
  BOOST_TEST(error(R"({"cmd":"capture","args":{"vm":5}})") == "\"vm\" must be a string");
  BOOST_TEST(error(R"({"cmd":"capture","args":{"file":"/etc/shadow"}})") == "capture: unknown argument \"file\"");
  BOOST_TEST(error(R"({"cmd":"capture","args":[]})") == "\"args\" must be an object");
}

BOOST_AUTO_TEST_CASE(trace_tuples_of_both_families) {
  auto t = std::get<TraceRequest>(ok(R"({"cmd":"trace","args":{"proto":"tcp","src":"10.0.0.1:1234","dst":"10.0.1.5:80","count":3}})"));
  BOOST_TEST(t.tuple.proto == 6);
  BOOST_TEST(t.tuple.src.is_v4());
  BOOST_TEST(t.tuple.src.v4.value == 0x0a000001u);
  BOOST_TEST(t.tuple.sport == 1234);
  BOOST_TEST(t.tuple.dport == 80);
  BOOST_TEST(!t.any_sport);
  BOOST_TEST(t.count == 3u);
  t = std::get<TraceRequest>(ok(R"({"cmd":"trace","args":{"proto":"udp","src":"2001:db8::1","dst":"[2001:db8::2]:53"}})"));
  BOOST_TEST(t.tuple.src.is_v6());
  BOOST_TEST(t.tuple.proto == 17);
  BOOST_TEST(t.any_sport);
  BOOST_TEST(t.tuple.dport == 53);
  BOOST_TEST(t.count == 10u);
  t = std::get<TraceRequest>(ok(R"({"cmd":"trace","args":{"proto":"icmp","src":"10.0.0.1","dst":"10.0.0.2"}})"));
  BOOST_TEST(t.tuple.proto == 1);
}

BOOST_AUTO_TEST_CASE(trace_bad_arguments) {
  BOOST_TEST(error(R"({"cmd":"trace","args":{"proto":"tcp","src":"10.0.0.1"}})").find("needs \"proto\", \"src\" and \"dst\"") !=
             std::string::npos);
  BOOST_TEST(!error(R"({"cmd":"trace","args":{"proto":"tcp","src":"10.0.0.300","dst":"10.0.0.2:80"}})").empty());
  BOOST_TEST(!error(R"({"cmd":"trace","args":{"proto":"tcp","src":"10.0.0.1","dst":"2001:db8::2"}})").empty());
  BOOST_TEST(!error(R"({"cmd":"trace","args":{"proto":"bogus","src":"10.0.0.1","dst":"10.0.0.2"}})").empty());
  BOOST_TEST(error(R"({"cmd":"trace","args":{"proto":"tcp","src":"10.0.0.1","dst":"10.0.0.2:80","count":1001}})") ==
             "\"count\" must be a whole number of packets from 1 to 1000");
  BOOST_TEST(error(R"({"cmd":"trace","args":{"proto":"icmp","src":"10.0.0.1","dst":"10.0.0.2","icmp_type":256}})") ==
             "\"icmp_type\" must be a whole number from 0 to 255");
}

BOOST_AUTO_TEST_CASE(comment_option_bytes) {
  uint8_t out[sgfw::capture::kCommentRoom + 8];
  std::memset(out, 0xee, sizeof(out));
  // "no-rule": 7 bytes, padded to 8; then opt_endofopt.
  size_t n = sgfw::capture::encode_comment_option(out, sizeof(out), "no-rule");
  BOOST_REQUIRE(n == 16u);
  const uint8_t expect[16] = {1, 0, 7, 0, 'n', 'o', '-', 'r', 'u', 'l', 'e', 0, 0, 0, 0, 0};
  BOOST_TEST(std::memcmp(out, expect, 16) == 0);
  BOOST_TEST(out[16] == 0xee);  // nothing written past it
  // A multiple of 4 gets no padding; the empty text is a 0-length option.
  n = sgfw::capture::encode_comment_option(out, sizeof(out), "spoofed!");
  BOOST_TEST(n == 16u);
  n = sgfw::capture::encode_comment_option(out, sizeof(out), "");
  const uint8_t empty[8] = {1, 0, 0, 0, 0, 0, 0, 0};
  BOOST_REQUIRE(n == 8u);
  BOOST_TEST(std::memcmp(out, empty, 8) == 0);
  // Cut at 64 bytes; too small a buffer writes nothing.
  n = sgfw::capture::encode_comment_option(out, sizeof(out), std::string(100, 'x'));
  BOOST_TEST(n == 4u + 64u + 4u);
  BOOST_TEST(out[2] == 64);
  BOOST_TEST(sgfw::capture::encode_comment_option(out, 15, "no-rule") == 0u);
}

BOOST_AUTO_TEST_CASE(base64_both_ways) {
  BOOST_TEST(base64_encode("") == "");
  BOOST_TEST(base64_encode("f") == "Zg==");
  BOOST_TEST(base64_encode("fo") == "Zm8=");
  BOOST_TEST(base64_encode("foo") == "Zm9v");
  BOOST_TEST(base64_encode("foobar") == "Zm9vYmFy");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  BOOST_TEST(sgfw::ctl::base64_decode(base64_encode(all)).value() == all);
  BOOST_TEST(sgfw::ctl::base64_decode("Zm8=").value() == "fo");
  BOOST_TEST(!sgfw::ctl::base64_decode("Zm8").has_value());
  BOOST_TEST(!sgfw::ctl::base64_decode("Z=8=").has_value());
  BOOST_TEST(!sgfw::ctl::base64_decode("Zm9v!A==").has_value());
  BOOST_TEST(!sgfw::ctl::base64_decode("====").has_value());
}
