// Policy changes through the control plane (docs/control.md, "Changes"): a change
// requested on the socket is built off the control thread and committed by collect();
// meanwhile every other command is answered at once, root's changes go ahead of
// members' waiting ones, and a change that fails leaves the running generation as it
// was. Real ControlPlane, publisher and snapshots on the scenario rig.
#define BOOST_TEST_MODULE control_changes
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/protocols.hpp"
#include "flow/flow_table.hpp"
#include "rig.hpp"

using namespace sgfw;
using namespace sgfw::scenario;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

std::string policy_with_b(const std::string& b_groups) {
  return "securityGroups:\n"
         "  - name: web\n"
         "    rules:\n"
         "      - {name: http, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
         "  - name: ops\n"
         "    rules:\n"
         "      - {name: ssh, direction: Ingress, protocol: TCP, port: 22, remote: {address: {IPAddressOrCIDR: 10.0.0.0/8}}}\n"
         "vms:\n"
         "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [web]}\n"
         "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11], securityGroups: [" + b_groups + "]}\n";
}

std::string reload_line(const std::string& text) {
  return nlohmann::json{{"cmd", "reload"}, {"args", {{"policy", text}, {"name", "p.yaml"}}}}.dump();
}

uint64_t generation_of_status(control::ControlPlane& c) {
  auto reply = c.handle(R"({"cmd":"status"})", control::Peer{});
  BOOST_REQUIRE(reply.has_value());
  return nlohmann::json::parse(*reply).at("result").at("generation").get<uint64_t>();
}

struct Delivered {
  uint64_t connection;
  nlohmann::json reply;
};

// Collects until `n` replies came out (or 60 s passed).
std::vector<Delivered> collect(control::ControlPlane& c, size_t n) {
  std::vector<Delivered> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    c.collect([&](uint64_t conn, const std::string& r) { out.push_back({conn, nlohmann::json::parse(r)}); });
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return out;
}

control::Peer member(uint64_t connection) { return control::Peer{1000, 1000, 1, connection}; }
control::Peer root(uint64_t connection) { return control::Peer{0, 0, 1, connection}; }

}  // namespace

BOOST_AUTO_TEST_CASE(a_change_is_deferred_and_other_commands_are_answered_meanwhile) {
  Rig rig(policy_with_b("web"));
  auto& c = rig.control();
  BOOST_TEST(!c.handle(reload_line(policy_with_b("ops")), member(7)).has_value());
  BOOST_TEST(c.changes_pending());
  // Not committed before collect(): status, stats, flows and explain answer from
  // generation 1 at once.
  BOOST_TEST(generation_of_status(c) == 1u);
  BOOST_TEST(c.handle(R"({"cmd":"stats"})", member(8)).has_value());
  BOOST_TEST(c.handle(R"({"cmd":"flows"})", member(8)).has_value());
  BOOST_TEST(c.handle(R"({"cmd":"explain","args":{"packets":["tcp 10.1.1.1:1000 a:80"]}})", member(8)).has_value());
  auto done = collect(c, 1);
  BOOST_REQUIRE(done.size() == 1u);
  BOOST_TEST(done[0].connection == 7u);
  BOOST_TEST(done[0].reply.at("ok").get<bool>());
  BOOST_TEST(done[0].reply.at("result").at("generation").get<uint64_t>() == 2u);
  BOOST_TEST(!c.changes_pending());
  BOOST_TEST(generation_of_status(c) == 2u);
  BOOST_TEST(rig.control().status().at("generation").get<uint64_t>() == 2u);
}

BOOST_AUTO_TEST_CASE(root_changes_go_ahead_of_waiting_member_changes) {
  Rig rig(policy_with_b("web"));
  auto& c = rig.control();
  // The first member change starts building at once; the second waits; root's change,
  // sent last, is committed before the waiting member change.
  BOOST_TEST(!c.handle(reload_line(policy_with_b("ops")), member(1)).has_value());
  BOOST_TEST(!c.handle(reload_line(policy_with_b("web, ops")), member(2)).has_value());
  BOOST_TEST(!c.handle(R"({"cmd":"set-groups","args":{"vm":"a","groups":["ops"]}})", root(3)).has_value());
  auto done = collect(c, 3);
  BOOST_REQUIRE(done.size() == 3u);
  BOOST_TEST(done[0].connection == 1u);
  BOOST_TEST(done[1].connection == 3u);
  BOOST_TEST(done[2].connection == 2u);
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST(done[i].reply.at("ok").get<bool>());
    BOOST_TEST(done[i].reply.at("result").at("generation").get<uint64_t>() == i + 2);
  }
  // Root's set-groups was computed on member 1's policy and member 2's reload replaced it.
  const auto& p = rig.control().status();
  BOOST_TEST(p.at("generation").get<uint64_t>() == 4u);
}

BOOST_AUTO_TEST_CASE(a_failed_change_leaves_the_running_generation) {
  Rig rig(policy_with_b("web"));
  auto& c = rig.control();
  BOOST_TEST(!c.handle(reload_line("vms: [{name: x, port: nowhere, mac: '02:00:00:00:00:01', ips: [10.0.0.1]}]\n"), member(4))
                  .has_value());
  BOOST_TEST(!c.handle(R"({"cmd":"set-groups","args":{"vm":"b","groups":["web","web"]}})", member(5)).has_value());
  BOOST_TEST(!c.handle(R"({"cmd":"set-groups","args":{"vm":"nope","groups":[]}})", member(6)).has_value());
  auto done = collect(c, 3);  // members queue at most two behind the building one
  BOOST_TEST(!c.handle(R"({"cmd":"set-groups","args":{"vm":"b","groups":[" "]}})", member(7)).has_value());
  for (auto& d : collect(c, 1)) done.push_back(std::move(d));
  BOOST_REQUIRE(done.size() == 4u);
  for (const auto& d : done) BOOST_TEST(!d.reply.at("ok").get<bool>());
  BOOST_TEST(done[0].reply.at("error").get<std::string>().find("unknown port 'nowhere'") != std::string::npos);
  BOOST_TEST(done[1].reply.at("error").get<std::string>() == "security group 'web' listed twice");
  BOOST_TEST(done[2].reply.at("error").get<std::string>() == "unknown VM 'nope'");
  BOOST_TEST(done[3].reply.at("error").get<std::string>().find("empty security group name") == 0u);
  BOOST_TEST(generation_of_status(c) == 1u);
  // The next good change takes the next generation.
  auto ok = c.set_groups("b", {"ops"}, root(0));
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST((*ok).at("generation").get<uint64_t>() == 2u);
}

// The catalogue's L09: a change whose rte_acl build exceeds the memory cap
// (acl_max_size, docs/configuration.md) is refused with -ERANGE, and the running
// generation goes on judging every packet as before.
BOOST_AUTO_TEST_CASE(a_change_over_the_acl_memory_cap_is_refused_and_the_running_rules_stay) {
  RigOptions o;
  o.acl_max_size = 64;  // bytes: no context fits
  Rig rig(policy_with_b("web"), o);
  auto& c = rig.control();
  const Mac inet = mac("02:00:00:00:99:01"), mac_a = mac("02:00:00:00:00:0a"), mac_b = mac("02:00:00:00:00:0b");
  auto web_to_a = [&](uint16_t sport) { return tcp(inet, mac_a, "203.0.113.7", sport, "10.0.0.10", 80, kSyn); };
  // ssh to b from 10/8: allowed by `ops`, which either change below would give b or a.
  auto ssh_to_b = [&](uint16_t sport) { return tcp(inet, mac_b, "10.9.9.9", sport, "10.0.0.11", 22, kSyn); };
  BOOST_TEST(rig.passes("uplink", web_to_a(40000), "vm-a"));
  BOOST_TEST(rig.send("uplink", ssh_to_b(40001)).empty());
  // A reload, and a set-groups that needs a context for a new set of groups ({ops}).
  BOOST_TEST(!c.handle(reload_line(policy_with_b("ops")), member(1)).has_value());
  BOOST_TEST(!c.handle(R"({"cmd":"set-groups","args":{"vm":"a","groups":["ops"]}})", member(2)).has_value());
  auto done = collect(c, 2);
  BOOST_REQUIRE(done.size() == 2u);
  for (const auto& d : done) {
    BOOST_TEST(!d.reply.at("ok").get<bool>());
    BOOST_TEST(d.reply.at("error").get<std::string>().find("memory cap exceeded (-ERANGE)") != std::string::npos,
               d.reply.dump());
  }
  BOOST_TEST(generation_of_status(c) == 1u);
  BOOST_TEST(rig.publisher().current()->generation() == 1u);
  const uint64_t no_rule = rig.drops(core::DropReason::kNoRule);
  BOOST_TEST(rig.passes("uplink", web_to_a(40002), "vm-a"));
  BOOST_TEST(rig.send("uplink", ssh_to_b(40003)).empty());
  BOOST_TEST(rig.drops(core::DropReason::kNoRule) == no_rule + 1);
}

BOOST_AUTO_TEST_CASE(handle_now_builds_on_the_calling_thread) {
  Rig rig(policy_with_b("web"));
  std::string reply = rig.control().handle_now(reload_line(policy_with_b("ops")), member(9));
  auto j = nlohmann::json::parse(reply);
  BOOST_TEST(j.at("ok").get<bool>());
  BOOST_TEST(j.at("result").at("generation").get<uint64_t>() == 2u);
  BOOST_TEST(!rig.control().changes_pending());
}

namespace {

// `n` UDP connections from the internet to a hosted-elsewhere address (no VM at either
// end, so no quota), straight into the rig's connection table.
void fill_connections(Rig& rig, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    flow::NewConnection c;
    c.key = flow::make_flow_key(core::kProtoUdp, htonl(0xcb000000u + i), htons(1000), htonl(0x0a000063u), htons(53));
    c.state = flow::ConnState::kUdpOneWay;
    c.generation = 1;
    int32_t pos = -1;
    BOOST_REQUIRE(rig.flows().insert(c, rig.now(), &pos) == flow::InsertResult::kInserted);
  }
}

}  // namespace

// A full table holds a million connections; one reply lists at most 10,000 of them
// (a member's `flows` of a full table built a JSON tree of about 1.5 GB before).
BOOST_AUTO_TEST_CASE(flows_lists_at_most_ten_thousand_connections) {
  Rig rig(policy_with_b("web"));
  const char* env = std::getenv("SGFW_FLOWS_FILL");
  const uint32_t n = env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : 25000;
  fill_connections(rig, n);
  auto t0 = std::chrono::steady_clock::now();
  auto all = rig.control().flows("", -1);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_REQUIRE(all.has_value());
  BOOST_TEST((*all).at("total").get<uint64_t>() == n);
  BOOST_TEST((*all).at("flows").size() == std::min<size_t>(n, 10000));
  BOOST_TEST_MESSAGE("flows of " << n << " connections: " << took << " s, " << (*all).dump().size() << " bytes");
  auto some = rig.control().flows("", 5);
  BOOST_REQUIRE(some.has_value());
  BOOST_TEST((*some).at("flows").size() == 5u);
  auto many = rig.control().flows("", 1000000000L);
  BOOST_REQUIRE(many.has_value());
  BOOST_TEST((*many).at("flows").size() == std::min<size_t>(n, 10000));
}

BOOST_AUTO_TEST_CASE(explain_takes_at_most_ten_thousand_packets_per_request) {
  Rig rig(policy_with_b("web"));
  nlohmann::json packets = nlohmann::json::array();
  for (int i = 0; i < 10000; ++i) packets.push_back("tcp 10.1.1.1:" + std::to_string(1000 + i) + " a:80");
  auto ok = nlohmann::json::parse(rig.control().handle_now(nlohmann::json{{"cmd", "explain"}, {"args", {{"packets", packets}}}}.dump(), member(1)));
  BOOST_TEST(ok.at("ok").get<bool>());
  BOOST_TEST(ok.at("result").at("results").size() == 10000u);
  packets.push_back("tcp 10.1.1.1:999 a:80");
  auto over = nlohmann::json::parse(rig.control().handle_now(nlohmann::json{{"cmd", "explain"}, {"args", {{"packets", packets}}}}.dump(), member(1)));
  BOOST_TEST(!over.at("ok").get<bool>());
  BOOST_TEST(over.at("error").get<std::string>().find("at most 10000 packets") != std::string::npos);
}

// A change request may hold 64 MiB: members may queue at most two behind the one
// building (root is never refused), so twelve member connections cannot hold 12 x 64 MiB.
BOOST_AUTO_TEST_CASE(members_queue_at_most_two_changes_behind_the_building_one) {
  Rig rig(policy_with_b("web"));
  auto& c = rig.control();
  for (uint64_t conn = 1; conn <= 3; ++conn) BOOST_TEST(!c.handle(reload_line(policy_with_b("ops")), member(conn)).has_value());
  auto refused = c.handle(reload_line(policy_with_b("web")), member(4));
  BOOST_REQUIRE(refused.has_value());
  auto j = nlohmann::json::parse(*refused);
  BOOST_TEST(!j.at("ok").get<bool>());
  BOOST_TEST(j.at("error").get<std::string>().find("2 changes from members are waiting") == 0u);
  BOOST_TEST(!c.handle(R"({"cmd":"set-groups","args":{"vm":"a","groups":["ops"]}})", root(5)).has_value());
  auto done = collect(c, 4);
  BOOST_REQUIRE(done.size() == 4u);
  BOOST_TEST(done[0].connection == 1u);
  BOOST_TEST(done[1].connection == 5u);  // root's, ahead of the waiting members'
  // With the queue drained a member's change is accepted again.
  BOOST_TEST(!c.handle(reload_line(policy_with_b("web")), member(6)).has_value());
  BOOST_TEST(collect(c, 1).size() == 1u);
}

// The wake descriptor (docs/control.md, "Changes") becomes readable only once the
// build's outcome is there: a loop woken by it commits at once instead of polling again
// while the builder thread, which may share its CPU, finishes. After the commit it is
// not readable (a loop would spin on it).
BOOST_AUTO_TEST_CASE(the_wake_descriptor_signals_a_change_ready_to_commit) {
  Rig rig(policy_with_b("web"));
  auto& c = rig.control();
  const int fd = c.change_wake_fd();
  BOOST_REQUIRE(fd >= 0);
  for (int i = 0; i < 40; ++i) {
    const std::string groups = i % 2 ? "web" : "ops";
    const std::string line = R"({"cmd":"set-groups","args":{"vm":"b","groups":[")" + groups + R"("]}})";
    BOOST_TEST(!c.handle(line, member(5)).has_value());
    pollfd p{fd, POLLIN, 0};
    BOOST_REQUIRE(poll(&p, 1, 30000) == 1);
    std::vector<nlohmann::json> replies;
    c.collect([&](uint64_t, const std::string& r) { replies.push_back(nlohmann::json::parse(r)); });
    BOOST_REQUIRE_MESSAGE(replies.size() == 1u, "change " << i << ": woken before its outcome was ready");
    BOOST_TEST(replies[0].at("ok").get<bool>());
    BOOST_TEST(!c.changes_pending());
    pollfd q{fd, POLLIN, 0};
    BOOST_TEST(poll(&q, 1, 0) == 0, "change " << i << ": the descriptor stayed readable");
  }
}
