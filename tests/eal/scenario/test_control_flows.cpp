// The control plane over the connection tables of both address families (docs/control.md,
// `flows`, `status`): `flows` lists IPv4 and IPv6 connections (`--vm` at either end),
// `status` counts each family, `flows flush` and the housekeeping reclaim cover both
// tables, and the two connection tables share one per-VM quota (docs/enforcement.md
// §4.6). Connections are inserted straight into the rig's tables (the daemon's own,
// daemon/flow_tables.hpp); real ControlPlane and LiveDataplane.
#define BOOST_TEST_MODULE control_flows
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <rte_cycles.h>

#include <algorithm>
#include <string>

#include "core/ip_address.hpp"
#include "core/protocols.hpp"
#include "flow/flow_table.hpp"
#include "report/tables.hpp"
#include "rig.hpp"

using namespace sgfw;
using namespace sgfw::scenario;
using Json = nlohmann::ordered_json;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

const std::string kPolicy =
    "vms:\n"
    "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10, '2001:db8::a']}\n"
    "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11, '2001:db8::b']}\n";

// The stable VM id of the running generation's local VM `name`.
uint32_t vm_id(Rig& rig, const std::string& name) {
  const runtime::Snapshot* s = rig.publisher().current();
  const auto& vms = s->tables().compiled().vms;
  for (size_t v = 0; v < vms.size(); ++v)
    if (vms[v].name == name) return s->vm_id(static_cast<uint32_t>(v));
  BOOST_FAIL("no local VM " + name);
  return flow::kNoVmId;
}

flow::Addr6 v6(const std::string& text) { return core::parse_ipv6(text).value().bytes; }

// A connection (src, sport) -> (dst, dport) opened at TSC `now`.
flow::InsertResult open4(Rig& rig, uint8_t proto, const char* src, uint16_t sport, const char* dst, uint16_t dport,
                         flow::ConnState st, uint32_t orig_vm, uint32_t resp_vm, uint64_t now) {
  flow::NewConnection c;
  c.key = flow::make_flow_key(proto, htonl(core::parse_ipv4(src)->value), htons(sport),
                              htonl(core::parse_ipv4(dst)->value), htons(dport), &c.orig_is_lo);
  c.state = st;
  c.orig_vm = orig_vm;
  c.resp_vm = resp_vm;
  c.generation = 1;
  int32_t pos = -1;
  return rig.flows().insert(c, now, &pos);
}

flow::InsertResult open6(Rig& rig, uint8_t proto, const char* src, uint16_t sport, const char* dst, uint16_t dport,
                         flow::ConnState st, uint32_t orig_vm, uint32_t resp_vm, uint64_t now) {
  flow::NewConnection6 c;
  flow::Addr6 s = v6(src), d = v6(dst);
  c.key = flow::make_flow_key6(proto, s.data(), htons(sport), d.data(), htons(dport), &c.orig_is_lo);
  c.state = st;
  c.orig_vm = orig_vm;
  c.resp_vm = resp_vm;
  c.generation = 1;
  int32_t pos = -1;
  return rig.flows6().insert(c, now, &pos);
}

// `flows` of `vm` (every VM: ""), its entries without age_s/idle_s (checked to be
// numbers), ordered by source and source port.
Json listed(Rig& rig, const std::string& vm) {
  auto reply = rig.control().flows(vm, -1);
  BOOST_REQUIRE(reply.has_value());
  Json out = *reply;
  for (auto& f : out["flows"]) {
    BOOST_TEST(f.at("age_s").is_number());
    BOOST_TEST(f.at("idle_s").is_number());
    f.erase("age_s");
    f.erase("idle_s");
  }
  auto& list = out["flows"];
  std::sort(list.begin(), list.end(), [](const Json& x, const Json& y) {
    return std::pair(x.at("src").get<std::string>(), x.at("sport").get<int>()) <
           std::pair(y.at("src").get<std::string>(), y.at("sport").get<int>());
  });
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(flows_lists_both_families_and_status_counts_each) {
  Rig rig(kPolicy);
  const uint32_t a = vm_id(rig, "a"), b = vm_id(rig, "b");
  const uint64_t now = rte_rdtsc();
  using flow::ConnState;
  BOOST_REQUIRE(open4(rig, core::kProtoTcp, "10.0.0.10", 40000, "198.51.100.1", 80, ConnState::kTcpEstablished, a,
                      flow::kNoVmId, now) == flow::InsertResult::kInserted);
  BOOST_REQUIRE(open6(rig, core::kProtoTcp, "2001:db8::a", 40001, "2001:db8:ffff::1", 443, ConnState::kTcpSynSent, a,
                      flow::kNoVmId, now) == flow::InsertResult::kInserted);
  // Opened from outside to b: the key's lo end is b's address, the originator the hi one.
  BOOST_REQUIRE(open6(rig, core::kProtoUdp, "2001:db8:ffff::2", 53, "2001:db8::b", 5353, ConnState::kUdpOneWay,
                      flow::kNoVmId, b, now) == flow::InsertResult::kInserted);

  const Json all = listed(rig, "");
  const Json expected = Json::parse(R"({"flows": [
    {"proto": 6, "src": "10.0.0.10", "sport": 40000, "dst": "198.51.100.1", "dport": 80, "state": "established",
     "vm": "a", "src_vm": "a", "dst_vm": null, "generation": 1, "egress_rule": null, "ingress_rule": null},
    {"proto": 6, "src": "2001:db8::a", "sport": 40001, "dst": "2001:db8:ffff::1", "dport": 443, "state": "syn-sent",
     "vm": "a", "src_vm": "a", "dst_vm": null, "generation": 1, "egress_rule": null, "ingress_rule": null},
    {"proto": 17, "src": "2001:db8:ffff::2", "sport": 53, "dst": "2001:db8::b", "dport": 5353,
     "state": "udp-one-way", "vm": "b", "src_vm": null, "dst_vm": "b", "generation": 1, "egress_rule": null,
     "ingress_rule": null}], "total": 3})");
  BOOST_TEST(all.dump() == expected.dump());

  // --vm: the connections with the VM at either end, of both families.
  const Json of_a = listed(rig, "a");
  BOOST_TEST(of_a.at("total").get<int>() == 2);
  BOOST_TEST(of_a.at("flows").dump() == Json::array({expected["flows"][0], expected["flows"][1]}).dump());
  const Json of_b = listed(rig, "b");
  BOOST_TEST(of_b.at("total").get<int>() == 1);
  BOOST_TEST(of_b.at("flows").dump() == Json::array({expected["flows"][2]}).dump());

  // What sgfwctl flows prints of it: IPv6 endpoints in brackets before the port.
  std::string text = report::flows_text(*rig.control().flows("", -1));
  BOOST_TEST(text.find("[2001:db8::a]:40001") != std::string::npos, text);
  BOOST_TEST(text.find("[2001:db8:ffff::2]:53") != std::string::npos, text);
  BOOST_TEST(text.find("10.0.0.10:40000") != std::string::npos, text);

  Json st = rig.control().status().at("flows");
  BOOST_TEST(st.at("used").get<int>() == 3);
  BOOST_TEST(st.at("used_ipv4").get<int>() == 1);
  BOOST_TEST(st.at("used_ipv6").get<int>() == 2);
  BOOST_TEST(st.at("capacity").get<uint64_t>() == rig.flows6().capacity());
  BOOST_TEST(rig.flows().capacity() == rig.flows6().capacity());  // one flows.capacity per family

  // flush --vm b: its IPv6 connection; flush: the rest, of both tables.
  auto fb = rig.control().flush("b", control::Peer{});
  BOOST_REQUIRE(fb.has_value());
  BOOST_TEST((*fb).at("removed").get<int>() == 1);
  BOOST_TEST(rig.flows6().size() == 1u);
  auto fa = rig.control().flush("", control::Peer{});
  BOOST_REQUIRE(fa.has_value());
  BOOST_TEST((*fa).at("removed").get<int>() == 2);
  BOOST_TEST(rig.flows().size() == 0u);
  BOOST_TEST(rig.flows6().size() == 0u);
  BOOST_TEST(rig.control().status().at("flows").at("used").get<int>() == 0);
}

// One per_vm_limit over both families: the IPv4 and the IPv6 table charge one quota.
BOOST_AUTO_TEST_CASE(a_vms_quota_counts_both_families) {
  RigOptions o;
  o.flows.per_vm_limit = 3;
  Rig rig(kPolicy, o);
  const uint32_t a = vm_id(rig, "a");
  const uint64_t now = rte_rdtsc();
  using flow::ConnState;
  using flow::InsertResult;
  BOOST_TEST(rig.flows().quota() == rig.flows6().quota());
  BOOST_TEST((open4(rig, core::kProtoUdp, "10.0.0.10", 1, "198.51.100.1", 53, ConnState::kUdpOneWay, a,
                    flow::kNoVmId, now) == InsertResult::kInserted));
  BOOST_TEST((open6(rig, core::kProtoUdp, "2001:db8::a", 1, "2001:db8:ffff::1", 53, ConnState::kUdpOneWay, a,
                    flow::kNoVmId, now) == InsertResult::kInserted));
  BOOST_TEST((open6(rig, core::kProtoUdp, "2001:db8::a", 2, "2001:db8:ffff::1", 53, ConnState::kUdpOneWay, a,
                    flow::kNoVmId, now) == InsertResult::kInserted));
  BOOST_TEST(rig.flows().vm_count(a) == 3u);
  BOOST_TEST((open4(rig, core::kProtoUdp, "10.0.0.10", 2, "198.51.100.1", 53, ConnState::kUdpOneWay, a,
                    flow::kNoVmId, now) == InsertResult::kQuotaExceeded));
  BOOST_TEST((open6(rig, core::kProtoUdp, "2001:db8::a", 3, "2001:db8:ffff::1", 53, ConnState::kUdpOneWay, a,
                    flow::kNoVmId, now) == InsertResult::kQuotaExceeded));
  // Flushing one family gives the room back to both.
  BOOST_TEST(rig.control().flush("a", control::Peer{}).has_value());
  BOOST_TEST(rig.flows6().vm_count(a) == 0u);
}

// The housekeeping reclaim (ControlPlane::reclaim, every 500 ms in sgfwd) expires idle
// connections of both tables.
BOOST_AUTO_TEST_CASE(reclaim_expires_idle_connections_of_both_families) {
  Rig rig(kPolicy);
  const uint32_t a = vm_id(rig, "a");
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t now = rte_rdtsc();
  const uint64_t long_ago = now - 100 * hz;  // UDP one way: 30 s
  using flow::ConnState;
  BOOST_REQUIRE(open4(rig, core::kProtoUdp, "10.0.0.10", 1, "198.51.100.1", 53, ConnState::kUdpOneWay, a,
                      flow::kNoVmId, long_ago) == flow::InsertResult::kInserted);
  BOOST_REQUIRE(open6(rig, core::kProtoUdp, "2001:db8::a", 1, "2001:db8:ffff::1", 53, ConnState::kUdpOneWay, a,
                      flow::kNoVmId, long_ago) == flow::InsertResult::kInserted);
  BOOST_REQUIRE(open6(rig, core::kProtoUdp, "2001:db8::a", 2, "2001:db8:ffff::1", 53, ConnState::kUdpOneWay, a,
                      flow::kNoVmId, now) == flow::InsertResult::kInserted);
  BOOST_TEST(rig.control().reclaim() == 2u);
  BOOST_TEST(rig.flows().size() == 0u);
  BOOST_TEST(rig.flows6().size() == 1u);  // the live one stays
  BOOST_TEST(rig.flows6().vm_count(a) == 1u);
}
