// Capture and trace through the real pipeline and control plane (docs/capture.md): a
// capture or trace is started with a control request, the rig's pipeline is armed from
// the process's taps (as a worker arms itself once per loop), frames go through, and
// the control thread's tick ends the session with its reply. Exact packets, comments,
// counts and stage events.
#define BOOST_TEST_MODULE capture_trace
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <optional>

#include <unistd.h>

#include "capture/taps.hpp"
#include "control/capture_service.hpp"
#include "ctl/base64.hpp"
#include "frames6.hpp"
#include "vms.hpp"
#include "rig.hpp"

using namespace sgfw::scenario;
using Json = nlohmann::ordered_json;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

const std::string kA = "10.0.0.10", kB = "10.0.0.11", kC = "10.0.0.12", kInet = "203.0.113.7";
constexpr uint8_t kSynAck = kSyn | kAck;

const std::string kPolicy =
    "securityGroups:\n"
    "  - name: client\n"
    "    rules:\n"
    "      - {name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
    "  - name: server\n"
    "    rules:\n"
    "      - {name: web, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
    "vms:\n"
    "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [client]}\n"
    "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11], securityGroups: [server]}\n"
    "  - {name: c, port: vm-c, mac: '02:00:00:00:00:0c', ips: [10.0.0.12], securityGroups: [client]}\n";

constexpr uint64_t kConn = 77;

// Sends a request as the socket server would; nullopt: deferred (the session runs).
std::optional<std::string> request(Rig& rig, const std::string& line) {
  return rig.control().handle(line, sgfw::control::Peer{0, 0, 0, kConn});
}

void arm(Rig& rig) {
  auto& t = sgfw::capture::process_taps();
  rig.pipeline().arm(t.capture.load(), t.trace.load());
}

// Ticks until the session replies (it ended by count); the reply's result.
Json finish(Rig& rig) {
  std::optional<std::string> reply;
  sgfw::control::tap_tick([&](uint64_t c, const std::string& r) {
    BOOST_TEST(c == kConn);
    reply = r;
  });
  rig.pipeline().arm(nullptr, nullptr);
  BOOST_REQUIRE(reply.has_value());
  Json j = Json::parse(*reply);
  BOOST_REQUIRE_MESSAGE(j["ok"].get<bool>(), *reply);
  return j["result"];
}

struct Packet {
  Bytes data;
  uint32_t original_length;
  std::optional<std::string> comment;
};

uint32_t u32(const std::string& f, size_t at) {
  uint32_t v;
  std::memcpy(&v, f.data() + at, 4);
  return v;
}

// The Enhanced Packet Blocks of a pcapng file (host byte order, as DPDK writes it).
std::vector<Packet> read_pcapng(const std::string& f) {
  std::vector<Packet> out;
  BOOST_REQUIRE(f.size() >= 12u);
  BOOST_REQUIRE(u32(f, 0) == 0x0A0D0D0Au);
  for (size_t at = 0; at + 12 <= f.size();) {
    const uint32_t type = u32(f, at), len = u32(f, at + 4);
    BOOST_REQUIRE(len >= 12u && at + len <= f.size() && len % 4 == 0);
    BOOST_REQUIRE(u32(f, at + len - 4) == len);
    if (type == 6) {
      Packet p;
      const uint32_t cap = u32(f, at + 20);
      p.original_length = u32(f, at + 24);
      p.data.assign(f.begin() + static_cast<long>(at + 28), f.begin() + static_cast<long>(at + 28 + cap));
      for (size_t o = at + 28 + ((cap + 3) & ~3u); o + 4 <= at + len - 4;) {
        uint16_t code, olen;
        std::memcpy(&code, f.data() + o, 2);
        std::memcpy(&olen, f.data() + o + 2, 2);
        if (code == 0) break;
        if (code == 1) p.comment = f.substr(o + 4, olen);
        o += 4 + ((olen + 3u) & ~3u);
      }
      out.push_back(std::move(p));
    }
    at += len;
  }
  return out;
}

std::vector<Packet> file_of(const Json& result) {
  auto bytes = sgfw::ctl::base64_decode(result["pcapng"].get<std::string>());
  BOOST_REQUIRE(bytes.has_value());
  return read_pcapng(*bytes);
}

std::vector<std::string> stage_names(const Json& packet) {
  std::vector<std::string> s;
  for (const auto& e : packet["stages"]) s.push_back(e["stage"].get<std::string>());
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(capture_drops_writes_exactly_the_dropped_frames_with_their_reasons) {
  Rig rig(kPolicy);
  BOOST_REQUIRE(!request(rig, R"({"cmd":"capture","args":{"drops":true,"count":3}})").has_value());
  arm(rig);
  const Bytes denied = tcp(kMacA, kMacB, kA, 40000, kB, 22, kSyn);       // no-rule (b takes 80 only)
  const Bytes allowed = tcp(kMacA, kMacB, kA, 40001, kB, 80, kSyn);      // passes: not captured
  const Bytes spoofed = tcp(kMacC, kInetMac, kA, 40002, kInet, 80, kSyn);  // c with a's address
  const Bytes stray = tcp(kMacA, kMacB, kA, 40003, kB, 80, kAck);        // no-connection
  const Bytes late = tcp(kMacA, kMacB, kA, 40004, kB, 23, kSyn);         // a 4th drop: past the count
  BOOST_TEST(rig.send("vm-a", denied).empty());
  BOOST_TEST(rig.passes("vm-a", allowed, "vm-b"));
  BOOST_TEST(rig.send("vm-c", spoofed).empty());
  BOOST_TEST(rig.send("vm-a", stray).empty());
  BOOST_TEST(rig.send("vm-a", late).empty());
  Json r = finish(rig);
  BOOST_TEST(r["captured"].get<uint64_t>() == 3u);
  BOOST_TEST(r["lost"].get<uint64_t>() == 0u);
  BOOST_TEST(r["ended"].get<std::string>() == "count");
  BOOST_TEST(r["reasons"].dump() == R"({"no-rule":1,"no-connection":1,"spoofed":1})");  // in reason order
  auto pkts = file_of(r);
  BOOST_REQUIRE(pkts.size() == 3u);
  BOOST_TEST((pkts[0].data == denied));
  BOOST_TEST((pkts[1].data == spoofed));
  BOOST_TEST((pkts[2].data == stray));
  BOOST_TEST(pkts[0].original_length == denied.size());
  BOOST_TEST(pkts[0].comment.value_or("") == "no-rule");
  BOOST_TEST(pkts[1].comment.value_or("") == "spoofed");
  BOOST_TEST(pkts[2].comment.value_or("") == "no-connection");
  // Ended: a new capture may start.
  BOOST_REQUIRE(!request(rig, R"({"cmd":"capture","args":{"count":1}})").has_value());
  arm(rig);
  BOOST_TEST(rig.send("vm-a", late).empty());
  BOOST_TEST(file_of(finish(rig)).size() == 1u);
}

BOOST_AUTO_TEST_CASE(capture_of_a_vm_takes_its_frames_both_ways_and_no_others) {
  Rig rig(kPolicy);
  BOOST_REQUIRE(!request(rig, R"({"cmd":"capture","args":{"vm":"b","count":2}})").has_value());
  arm(rig);
  const Bytes other = udp(kMacC, kInetMac, kC, 5000, kInet, 53);  // c's: not b's
  const Bytes syn = tcp(kMacA, kMacB, kA, 41000, kB, 80, kSyn);
  const Bytes synack = tcp(kMacB, kMacA, kB, 80, kA, 41000, kSynAck);
  BOOST_TEST(rig.passes("vm-c", other, "uplink"));
  BOOST_TEST(rig.passes("vm-a", syn, "vm-b"));
  BOOST_TEST(rig.passes("vm-b", synack, "vm-a"));
  Json r = finish(rig);
  BOOST_TEST(r["captured"].get<uint64_t>() == 2u);
  BOOST_TEST(r["reasons"].dump() == "{}");
  auto pkts = file_of(r);
  BOOST_REQUIRE(pkts.size() == 2u);
  BOOST_TEST((pkts[0].data == syn));
  BOOST_TEST((pkts[1].data == synack));
  BOOST_TEST(!pkts[0].comment.has_value());
}

BOOST_AUTO_TEST_CASE(capture_of_a_port_with_drops_takes_only_that_port_s_drops) {
  Rig rig(kPolicy);
  BOOST_REQUIRE(!request(rig, R"({"cmd":"capture","args":{"port":"vm-c","drops":true,"count":1}})").has_value());
  arm(rig);
  const Bytes a_denied = tcp(kMacA, kMacB, kA, 44000, kB, 22, kSyn);   // dropped, but on vm-a
  const Bytes c_passed = udp(kMacC, kInetMac, kC, 5000, kInet, 53);    // vm-c, passed
  const Bytes c_denied = tcp(kMacC, kMacB, kC, 44001, kB, 22, kSyn);   // vm-c, dropped: taken
  BOOST_TEST(rig.send("vm-a", a_denied).empty());
  BOOST_TEST(rig.passes("vm-c", c_passed, "uplink"));
  BOOST_TEST(rig.send("vm-c", c_denied).empty());
  Json r = finish(rig);
  auto pkts = file_of(r);
  BOOST_REQUIRE(pkts.size() == 1u);
  BOOST_TEST((pkts[0].data == c_denied));
  BOOST_TEST(pkts[0].comment.value_or("") == "no-rule");
}

BOOST_AUTO_TEST_CASE(trace_shows_every_stage_the_deciding_rules_and_the_express_path) {
  Rig rig(kPolicy);
  BOOST_REQUIRE(!request(rig, R"({"cmd":"trace","args":{"proto":"tcp","src":"10.0.0.10","dst":"10.0.0.11:80","count":3}})")
                     .has_value());
  arm(rig);
  BOOST_TEST(rig.passes("vm-c", udp(kMacC, kInetMac, kC, 5000, kInet, 53), "uplink"));  // not the tuple
  BOOST_TEST(rig.passes("vm-a", tcp(kMacA, kMacB, kA, 42000, kB, 80, kSyn), "vm-b"));
  BOOST_TEST(rig.passes("vm-b", tcp(kMacB, kMacA, kB, 80, kA, 42000, kSynAck), "vm-a"));
  BOOST_TEST(rig.passes("vm-a", tcp(kMacA, kMacB, kA, 42000, kB, 80, kAck), "vm-b"));
  Json r = finish(rig);
  BOOST_TEST_MESSAGE(r.dump());
  BOOST_TEST(r["followed"].get<uint64_t>() == 3u);
  BOOST_TEST(r["ended"].get<std::string>() == "count");
  const Json& syn = r["packets"][0];
  BOOST_TEST(syn["port"].get<std::string>() == "vm-a");
  BOOST_TEST((stage_names(syn) ==
              std::vector<std::string>{"parse", "express", "admit", "connections", "rules", "rules", "verdict"}));
  BOOST_TEST(syn["stages"][1]["result"].get<std::string>() == "miss");
  BOOST_TEST(syn["stages"][2]["from_vm"].get<std::string>() == "a");
  BOOST_TEST(syn["stages"][2]["to_vm"].get<std::string>() == "b");
  BOOST_TEST(syn["stages"][2]["out_port"].get<std::string>() == "vm-b");
  BOOST_TEST(syn["stages"][3]["result"].get<std::string>() == "new");
  BOOST_TEST(syn["stages"][4]["rule"].get<std::string>() == "client/out");
  BOOST_TEST(syn["stages"][4]["direction"].get<std::string>() == "egress");
  BOOST_TEST(syn["stages"][5]["rule"].get<std::string>() == "server/web");
  BOOST_TEST(syn["stages"][6]["result"].get<std::string>() == "created");
  BOOST_TEST(syn["stages"][6]["state"].get<std::string>() == sgfw::capture::state_name(1));
  for (int k : {1, 2}) {
    const Json& p = r["packets"][k];
    BOOST_TEST((stage_names(p) == std::vector<std::string>{"parse", "express"}));
    BOOST_TEST(p["stages"][1]["result"].get<std::string>() == "passed");
  }
  BOOST_TEST(r["packets"][2]["stages"][1]["state"].get<std::string>() == sgfw::capture::state_name(3));
}

BOOST_AUTO_TEST_CASE(trace_of_a_denied_packet_names_the_failing_check_and_the_reason) {
  Rig rig(kPolicy);
  BOOST_REQUIRE(!request(rig, R"({"cmd":"trace","args":{"proto":"tcp","src":"10.0.0.10","dst":"10.0.0.11:22","count":1}})")
                     .has_value());
  arm(rig);
  BOOST_TEST(rig.send("vm-a", tcp(kMacA, kMacB, kA, 43000, kB, 22, kSyn)).empty());
  Json r = finish(rig);
  BOOST_TEST_MESSAGE(r.dump());
  const Json& p = r["packets"][0];
  BOOST_TEST((stage_names(p) ==
              std::vector<std::string>{"parse", "express", "admit", "connections", "rules", "rules", "verdict"}));
  BOOST_TEST(p["stages"][5]["verdict"].get<std::string>() == "deny");
  BOOST_TEST(p["stages"][5]["rule"].is_null());
  BOOST_TEST(p["stages"][6]["result"].get<std::string>() == "dropped");
  BOOST_TEST(p["stages"][6]["reason"].get<std::string>() == "no-rule");
}

// IPv6 takes its own pass over the burst after IPv4's stages: a traced IPv6 packet in a
// burst with an IPv4 one gets its stages, and a drop in the IPv6 admission is an admit
// event (not a verdict one left over from the IPv4 pass).
BOOST_AUTO_TEST_CASE(trace_of_ipv6_in_a_mixed_burst) {
  Rig rig(
      "securityGroups:\n"
      "  - name: client\n"
      "    rules:\n"
      "      - {name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
      "      - {name: out6, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: '::/0'}}}\n"
      "vms:\n"
      "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10, '2001:db8::a'], securityGroups: [client]}\n");
  BOOST_REQUIRE(!request(rig, R"({"cmd":"trace","args":{"proto":"udp","src":"2001:db8::a","dst":"[2001:db8:ffff::7]:53","count":2}})")
                     .has_value());
  arm(rig);
  const std::string a6 = "2001:db8::a", inet6 = "2001:db8:ffff::7";
  auto out = rig.send("vm-a", std::vector<Bytes>{udp(kMacA, kInetMac, kA, 5000, kInet, 53),
                                                 udp6(kMacA, kInetMac, a6, 5000, inet6, 53),
                                                 udp6(kMacC, kInetMac, a6, 5001, inet6, 53)});  // spoofed
  BOOST_TEST(out.size() == 2u);
  Json r = finish(rig);
  BOOST_TEST_MESSAGE(r.dump());
  BOOST_REQUIRE(r["followed"].get<uint64_t>() == 2u);
  const Json& ok6 = r["packets"][0];
  BOOST_TEST((stage_names(ok6) ==
              std::vector<std::string>{"parse", "express", "admit", "connections", "rules", "verdict"}));
  BOOST_TEST(ok6["stages"][0]["family"].get<std::string>() == "IPv6");
  BOOST_TEST(ok6["stages"][2]["to_vm"].is_null());
  BOOST_TEST(ok6["stages"][2]["out_port"].get<std::string>() == "uplink");
  BOOST_TEST(ok6["stages"][4]["rule"].get<std::string>() == "client/out6");
  BOOST_TEST(ok6["stages"][5]["result"].get<std::string>() == "created");
  BOOST_TEST(ok6["stages"][5]["state"].get<std::string>() ==
             sgfw::capture::state_name(static_cast<uint16_t>(sgfw::flow::ConnState::kUdpOneWay)));
  const Json& spoofed = r["packets"][1];
  BOOST_TEST((stage_names(spoofed) == std::vector<std::string>{"parse", "express", "admit"}));
  BOOST_TEST(spoofed["stages"][2]["result"].get<std::string>() == "dropped");
  BOOST_TEST(spoofed["stages"][2]["reason"].get<std::string>() == "spoofed");
}

BOOST_AUTO_TEST_CASE(bad_requests_get_clear_errors_and_one_capture_runs_at_a_time) {
  Rig rig(kPolicy);
  auto error_of = [&](const std::string& line) {
    auto r = request(rig, line);
    BOOST_REQUIRE(r.has_value());
    Json j = Json::parse(*r);
    BOOST_TEST(!j["ok"].get<bool>());
    return j["error"].get<std::string>();
  };
  BOOST_TEST(error_of(R"({"cmd":"capture","args":{"vm":"nobody"}})").find("no VM named 'nobody'") != std::string::npos);
  BOOST_TEST(error_of(R"({"cmd":"capture","args":{"port":"eth9"}})").find("no port named 'eth9'") != std::string::npos);
  BOOST_TEST(error_of(R"({"cmd":"capture","args":{"count":0}})").find("from 1 to 10000") != std::string::npos);
  BOOST_TEST(error_of(R"({"cmd":"trace","args":{"proto":"tcp","src":"10.0.0.300","dst":"10.0.0.11:80"}})") != "");
  BOOST_REQUIRE(!request(rig, R"({"cmd":"capture","args":{"count":5,"timeout":1}})").has_value());
  BOOST_TEST(error_of(R"({"cmd":"capture","args":{}})").find("already running") != std::string::npos);
  // Nothing arrives: it ends by its timeout, with an empty but valid file.
  sleep(1);
  Json r = finish(rig);
  BOOST_TEST(r["ended"].get<std::string>() == "timeout");
  BOOST_TEST(r["captured"].get<uint64_t>() == 0u);
  BOOST_TEST(file_of(r).empty());
  // The control plane still answers.
  auto st = request(rig, R"({"cmd":"status"})");
  BOOST_REQUIRE(st.has_value());
  BOOST_TEST(Json::parse(*st)["ok"].get<bool>());
}
