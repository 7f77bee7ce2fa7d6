// The log hand-off (lib/logs/log_ring.hpp, end_records.hpp; docs/logs.md): a connection
// table with the end hook yields exactly one `end` record per connection, whichever
// path removes it (revoked, flushed, expired, evicted at capacity, closed with FIN or
// RST), with the entry's counters; a full ring counts its losses per file; the
// consumer thread drains instead of losing its own records; the writer formats, rate
// limits and counts. On a real rte_hash and rte_ring.
#define BOOST_TEST_MODULE log_ring
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <rte_cycles.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eal_fixture.hpp"
#include "flow/flow_table.hpp"
#include "logs/end_records.hpp"
#include "logs/log_ring.hpp"
#include "logs/log_writer.hpp"

BOOST_TEST_GLOBAL_FIXTURE(EalFixture);

using namespace sgfw;
using flow::ConnState;
using flow::EndReason;

namespace {

std::unique_ptr<flow::FlowTable> make_table(uint32_t capacity, uint64_t timeout) {
  static unsigned n = 0;
  flow::FlowTableOptions o;
  o.capacity = capacity;
  o.per_vm_limit = 1u << 20;
  o.per_vm_inbound_half_open = 1u << 20;
  o.max_vm_ids = 16;
  for (auto& v : o.timeouts.by_state) v = timeout;
  auto t = flow::FlowTable::create(o, "lr" + std::to_string(n++), nullptr);
  if (!t) BOOST_FAIL("FlowTable::create: " << t.error().message);
  return std::move(*t);
}

std::unique_ptr<logs::LogRing> make_ring(unsigned size) {
  static unsigned n = 0;
  auto r = logs::LogRing::create("lring" + std::to_string(n++), size);
  if (!r) BOOST_FAIL("LogRing::create: " << r.error().message);
  return std::move(*r);
}

flow::NewConnection udp(uint32_t i, ConnState s = ConnState::kUdpOneWay) {
  flow::NewConnection c;
  bool lo = true;
  c.key = flow::make_flow_key(17, htonl(0x0a000000u + i), htons(1000), htonl(0xc0a80001u), htons(53), &lo);
  c.orig_is_lo = lo;
  c.state = s;
  c.orig_vm = 1;
  c.generation = 4;
  c.egress_rule = 3;
  c.first_len = 100;
  return c;
}

std::vector<logs::Record> drain(logs::LogRing& r) {
  std::vector<logs::Record> out;
  logs::Record b[16];
  for (unsigned n; (n = r.pop_burst(b, 16)) != 0;) out.insert(out.end(), b, b + n);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(one_end_record_per_connection_whatever_removes_it) {
  auto ring = make_ring(1024);
  const uint64_t hz = rte_get_tsc_hz();
  auto t = make_table(4, hz);  // 1 s timeouts, capacity 4
  logs::install_end_hook(*t, ring.get());
  const uint64_t now = rte_rdtsc();
  int32_t pos[8];
  for (uint32_t i = 0; i < 4; ++i) BOOST_REQUIRE(t->insert(udp(i), now, &pos[i]) == flow::InsertResult::kInserted);
  t->at(pos[0]).count(0, 60);
  t->at(pos[0]).count(1, 70);
  // Revoked, twice: one record.
  BOOST_TEST(t->remove(pos[0], EndReason::kRevoked));
  BOOST_TEST(!t->remove(pos[0], EndReason::kRevoked));
  // A TCP connection closed by RST, then expired: rst; one closed by FIN: fin.
  BOOST_REQUIRE(t->insert(udp(10, ConnState::kTcpClosed), now, &pos[4]) == flow::InsertResult::kInserted);
  // At capacity (4): the oldest half-open (connection 1) is evicted for connection 11.
  BOOST_REQUIRE(t->insert(udp(11), now, &pos[5]) == flow::InsertResult::kInserted);
  BOOST_TEST(t->size() == 4u);
  // Flush one VM's connections: none of VM 5; every connection of VM 1 (all).
  std::vector<bool> vm5(16, false);
  vm5[5] = true;
  BOOST_TEST(t->flush(&vm5) == 0u);
  // Expire what is left but connection 2 (kept live), then flush the rest.
  t->at(pos[2]).last_seen.store(now + 10 * hz);
  BOOST_TEST(t->reclaim(now + 2 * hz) == 3u);
  BOOST_TEST(t->flush() == 1u);
  std::vector<logs::Record> recs = drain(*ring);
  std::map<std::string, int> reasons;
  for (const auto& r : recs) {
    BOOST_TEST((r.kind == logs::Kind::kEnd));
    reasons[flow::to_string(static_cast<EndReason>(r.reason))]++;
  }
  // 6 connections created, 6 ended: revoked 0, evicted 1, rst 10, timeout 3 and 11, flushed 2.
  BOOST_TEST(recs.size() == 6u);
  BOOST_TEST(reasons["revoked"] == 1);
  BOOST_TEST(reasons["evicted"] == 1);
  BOOST_TEST(reasons["rst"] == 1);
  BOOST_TEST(reasons["timeout"] == 2);
  BOOST_TEST(reasons["flushed"] == 1);
  const logs::Record& first = recs[0];  // connection 0, revoked
  BOOST_TEST(first.packets[0] == 2u);    // the first packet (100 bytes) and one more
  BOOST_TEST(first.bytes[0] == 160u);
  BOOST_TEST(first.packets[1] == 1u);
  BOOST_TEST(first.bytes[1] == 70u);
  BOOST_TEST(first.vm[0] == 1u);
  BOOST_TEST(first.vm[1] == flow::kNoVmId);
  BOOST_TEST(first.rule[0] == 3u);
  BOOST_TEST(first.checks == 1u);
  BOOST_TEST(first.generation == 4u);
  BOOST_TEST(first.family == 4);
  BOOST_TEST(ntohs(first.sport_be) == 1000);
  BOOST_TEST(ntohs(first.dport_be) == 53);
  uint32_t src;
  std::memcpy(&src, first.src, 4);
  BOOST_TEST(ntohl(src) == 0x0a000000u);
  logs::install_end_hook(*t, nullptr);
}

BOOST_AUTO_TEST_CASE(full_ring_counts_losses_per_file) {
  auto ring = make_ring(8);
  logs::Record r{};
  r.kind = logs::Kind::kDrop;
  int ok = 0;
  for (int i = 0; i < 20; ++i) ok += ring->push(r);
  BOOST_TEST(ok == 8);
  BOOST_TEST(ring->lost(logs::File::kDrops) == 12u);
  BOOST_TEST(ring->lost(logs::File::kConnections) == 0u);
  r.kind = logs::Kind::kEnd;
  BOOST_TEST(!ring->push(r));
  BOOST_TEST(ring->lost(logs::File::kConnections) == 1u);
  BOOST_TEST(drain(*ring).size() == 8u);
}

namespace {
struct NoNames final : logs::Names {
  const std::string* vm(uint32_t) const override { return nullptr; }
  const std::string* rule(uint64_t, uint32_t) const override { return nullptr; }
};
size_t lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}
}  // namespace

BOOST_AUTO_TEST_CASE(writer_consumer_drains_a_full_ring_and_rate_limits) {
  auto ring = make_ring(8);
  NoNames names;
  const std::string dir = "/tmp/sgfw-test-logs-" + std::to_string(getpid());
  std::remove((dir + "-c").c_str());
  std::remove((dir + "-d").c_str());
  logs::LogWriterOptions o;
  o.connections = dir + "-c";
  o.drops = dir + "-d";
  o.rate_limit_per_s = 5;
  o.time.tsc_hz = 1000;
  o.time.tsc0 = 0;
  o.time.unix_ns0 = 0;
  auto w = logs::LogWriter::open(o, ring.get(), &names);
  BOOST_REQUIRE(w.has_value());
  // 30 connection records, all of second 0, from the consumer thread: the ring (8)
  // is drained when full, nothing is lost; 5 are written, 25 suppressed.
  logs::Record r{};
  r.kind = logs::Kind::kAdmit;
  r.family = 4;
  for (int i = 0; i < 30; ++i) BOOST_TEST(ring->push(r));
  (*w)->drain(500);
  logs::FileCounters c = (*w)->counters(logs::File::kConnections);
  BOOST_TEST(c.lost == 0u);
  BOOST_TEST(c.written == 5u);
  BOOST_TEST(c.suppressed == 25u);
  BOOST_TEST(lines(o.connections) == 5u);
  // The second is over: one summary line.
  (*w)->drain(1500);
  BOOST_TEST(lines(o.connections) == 6u);
  // Reopen after a rename: the next line goes to a new file.
  BOOST_REQUIRE(std::rename(o.connections.c_str(), (o.connections + ".1").c_str()) == 0);
  BOOST_TEST((*w)->reopen().has_value());
  r.tsc = 2000;
  BOOST_TEST(ring->push(r));
  (*w)->drain(2000);
  BOOST_TEST(lines(o.connections) == 1u);
  BOOST_TEST(lines(o.connections + ".1") == 6u);
  BOOST_TEST(lines(o.drops) == 0u);
  std::remove(o.connections.c_str());
  std::remove((o.connections + ".1").c_str());
  std::remove(o.drops.c_str());
}

BOOST_AUTO_TEST_CASE(writer_refuses_a_file_it_cannot_open) {
  auto ring = make_ring(8);
  NoNames names;
  logs::LogWriterOptions o;
  o.drops = "/nonexistent-dir-sgfw/drops.jsonl";
  auto w = logs::LogWriter::open(o, ring.get(), &names);
  BOOST_REQUIRE(!w.has_value());
  BOOST_TEST(w.error().message.find("cannot open log file /nonexistent-dir-sgfw/drops.jsonl") != std::string::npos);
}
