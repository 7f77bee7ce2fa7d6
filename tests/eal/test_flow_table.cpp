// The connection table (lib/flow/flow_table.*, docs/design/flow-table.md) with its own
// index: insert/lookup/remove, expiry and reclaim, exact capacity and eviction order,
// per-VM quotas, flush and position recycling (test_flow_table_capacity.cpp),
// concurrent writers, readers and reclaim under rte_rcu_qsbr
// (test_flow_table_concurrency.cpp). docs/enforcement.md §4; catalogue L01, L02, L03,
// L05, and L06 in part (flush and listing run after the concurrent phase, not during it).
#define BOOST_TEST_MODULE flow_table
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <set>
#include <thread>

#include "eal_fixture.hpp"
#include "flow_table_helpers.hpp"

using namespace sgfw::flow;
using namespace flow_test;

BOOST_TEST_GLOBAL_FIXTURE(EalFixture);

BOOST_AUTO_TEST_SUITE(basics)

BOOST_AUTO_TEST_CASE(insert_lookup_remove_both_directions) {
  auto t = make_table(100, 100, uniform(kForever));
  Conn a = conn(1);
  int32_t pa = -1;
  BOOST_TEST((insert_conn(*t, a.fwd(), a.src, a.sport, ConnState::kTcpSynSent, 3, 7, 11, 12, 1000, &pa) ==
              InsertResult::kInserted));
  BOOST_REQUIRE(pa >= 0);
  BOOST_TEST(t->lookup(a.fwd()) == pa);
  BOOST_TEST(t->lookup(a.rev()) == pa);  // the reply direction finds the same entry
  const FlowEntry& e = t->at(pa);
  const FlowCold& c = t->cold(pa);
  BOOST_TEST(same(c.key, a.fwd()));
  BOOST_TEST(c.orig_addr_be(e.orig_is_lo()) == a.src);
  BOOST_TEST(c.orig_port_be(e.orig_is_lo()) == a.sport);
  BOOST_TEST((e.state.load() == ConnState::kTcpSynSent));
  BOOST_TEST(c.vm_id[0] == 3u);
  BOOST_TEST(e.generation.load() == 7u);
  BOOST_TEST(c.egress_rule.load() == 11u);
  BOOST_TEST(c.ingress_rule.load() == 12u);
  BOOST_TEST(e.express.load() == ((7ull << 32) | 0x10002u));
  BOOST_TEST(e.age(1000) == 0u);  // creation time at kCreatedShift resolution
  BOOST_TEST(e.age(1000 + (3ull << kCreatedShift)) == (3ull << kCreatedShift));
  BOOST_TEST(e.last_seen.load() == 1000u);
  BOOST_TEST(t->size() == 1u);
  BOOST_TEST(t->vm_count(3) == 1u);
  BOOST_TEST(t->live(e, 1000));

  // A duplicate, from either direction: kExists, same position, nothing counted twice.
  int32_t pd = -1;
  BOOST_TEST((insert_conn(*t, a.rev(), a.dst, a.dport, ConnState::kTcpSynSent, 3, 7, 0, 0, 2000, &pd) ==
              InsertResult::kExists));
  BOOST_TEST(pd == pa);
  BOOST_TEST(c.orig_addr_be(e.orig_is_lo()) == a.src);  // the first insert's originator stays
  BOOST_TEST(t->size() == 1u);
  BOOST_TEST(t->vm_count(3) == 1u);

  int32_t pb = -1;
  BOOST_TEST((ins(*t, 2, ConnState::kUdpOneWay, 4, 1000, &pb) == InsertResult::kInserted));
  BOOST_TEST(pb != pa);
  BOOST_TEST(t->size() == 2u);

  // Bulk lookup: hits give the positions, misses a negative value.
  FlowKey ka = a.fwd(), kb = key(2), kc = key(3), kra = a.rev();
  const FlowKey* keys[] = {&ka, &kb, &kc, &kra};
  int32_t pos[4] = {99, 99, 99, 99};
  t->lookup_bulk(keys, 4, pos);
  BOOST_TEST(pos[0] == pa);
  BOOST_TEST(pos[1] == pb);
  BOOST_TEST(pos[2] < 0);
  BOOST_TEST(pos[3] == pa);
  BOOST_TEST(t->lookup(kc) == -1);

  // Remove: once, idempotent, counters follow, the slot is dead until recycled.
  BOOST_TEST(t->remove(pa));
  BOOST_TEST(!t->remove(pa));
  BOOST_TEST(t->lookup(a.fwd()) == -1);
  BOOST_TEST(t->lookup(a.rev()) == -1);
  BOOST_TEST(t->size() == 1u);
  BOOST_TEST(t->vm_count(3) == 0u);
  BOOST_TEST(t->vm_count(4) == 1u);
  BOOST_TEST((t->at(pa).state.load() == ConnState::kDead));
  BOOST_TEST(!t->live(t->at(pa), 1000));
  BOOST_TEST(t->reclaim(1000) == 0u);  // nothing expired; the removed position recycled
  BOOST_TEST((t->at(pa).state.load() == ConnState::kFree));
  BOOST_TEST(for_each_count(*t) == 1u);

  // The connection can be created again.
  BOOST_TEST((ins(*t, 1, ConnState::kTcpSynSent, 3, 3000) == InsertResult::kInserted));
  BOOST_TEST(t->size() == 2u);
  BOOST_TEST(t->lookup(a.rev()) >= 0);
}

BOOST_AUTO_TEST_CASE(for_each_visits_live_entries_once) {
  auto t = make_table(1000, 1000, uniform(kForever));
  for (uint32_t i = 0; i < 500; ++i) BOOST_REQUIRE((ins(*t, i, ConnState::kTcpEstablished, i % 5, 1) == InsertResult::kInserted));
  for (uint32_t i = 0; i < 500; i += 2) BOOST_REQUIRE(t->remove(t->lookup(key(i))));
  std::set<uint32_t> seen;
  size_t n = 0;
  t->for_each([&](int32_t p, const FlowEntry& e, const FlowCold& c) {
    ++n;
    BOOST_TEST(t->lookup(c.key) == p);
    seen.insert(ntohl(c.orig_addr_be(e.orig_is_lo())) & 0xffffffu);
  });
  BOOST_TEST(n == 250u);
  BOOST_TEST(seen.size() == 250u);
  for (uint32_t i : seen) BOOST_TEST(i % 2 == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(expiry)

BOOST_AUTO_TEST_CASE(make_timeouts_scales_seconds_to_ticks) {
  Timeouts t = make_timeouts(1000, 30, 432000, 120, 31, 180, 32, 600);
  auto at = [&](ConnState s) { return t.by_state[static_cast<size_t>(s)]; };
  BOOST_TEST(at(ConnState::kTcpSynSent) == 30000u);
  BOOST_TEST(at(ConnState::kTcpSynRecv) == 30000u);
  BOOST_TEST(at(ConnState::kTcpEstablished) == 432000000u);
  BOOST_TEST(at(ConnState::kTcpFinWait) == 120000u);
  BOOST_TEST(at(ConnState::kTcpClosing) == 120000u);
  BOOST_TEST(at(ConnState::kTcpTimeWait) == 120000u);
  BOOST_TEST(at(ConnState::kTcpClosed) == 120000u);
  BOOST_TEST(at(ConnState::kUdpOneWay) == 31000u);
  BOOST_TEST(at(ConnState::kUdpTwoWay) == 180000u);
  BOOST_TEST(at(ConnState::kIcmpEcho) == 32000u);
  BOOST_TEST(at(ConnState::kIcmpEchoReplied) == 32000u);
  BOOST_TEST(at(ConnState::kOtherOneWay) == 600000u);
  BOOST_TEST(at(ConnState::kOtherTwoWay) == 600000u);
  BOOST_TEST(at(ConnState::kFragmentTrain) == uint64_t{kFragmentSeconds} * 1000u);
  // Large TSC rates do not overflow (432000 s at 5 GHz).
  BOOST_TEST(make_timeouts(5'000'000'000ull, 1, 432000, 1, 1, 1, 1, 1)
                 .by_state[static_cast<size_t>(ConnState::kTcpEstablished)] == 2'160'000'000'000'000ull);
}

BOOST_AUTO_TEST_CASE(per_state_timeouts_in_ticks) {
  Timeouts to = uniform(kForever);
  to.by_state[static_cast<size_t>(ConnState::kTcpSynSent)] = 100;
  to.by_state[static_cast<size_t>(ConnState::kTcpEstablished)] = 1000;
  to.by_state[static_cast<size_t>(ConnState::kUdpOneWay)] = 50;
  auto t = make_table(100, 100, to);
  for (uint32_t i = 0; i < 3; ++i) BOOST_REQUIRE((ins(*t, i, ConnState::kTcpSynSent, 1, 0) == InsertResult::kInserted));
  for (uint32_t i = 3; i < 5; ++i) BOOST_REQUIRE((ins(*t, i, ConnState::kTcpEstablished, 1, 0) == InsertResult::kInserted));
  for (uint32_t i = 5; i < 9; ++i) BOOST_REQUIRE((ins(*t, i, ConnState::kUdpOneWay, 2, 0) == InsertResult::kInserted));
  BOOST_TEST(t->size() == 9u);
  const FlowEntry& syn = t->at(t->lookup(key(0)));
  const FlowEntry& est = t->at(t->lookup(key(3)));
  const FlowEntry& udp = t->at(t->lookup(key(5)));
  BOOST_TEST(t->live(udp, 50));  // the timeout itself is still live
  BOOST_TEST(!t->live(udp, 51));
  BOOST_TEST(t->live(syn, 100));
  BOOST_TEST(!t->live(syn, 101));
  BOOST_TEST(t->live(est, 1000));
  BOOST_TEST(!t->live(est, 1001));

  BOOST_TEST(t->reclaim(50) == 0u);
  BOOST_TEST(t->reclaim(60) == 4u);  // exactly the UDP ones
  BOOST_TEST(t->size() == 5u);
  BOOST_TEST(t->vm_count(2) == 0u);
  BOOST_TEST(count_present(*t, 5, 9) == 0u);
  BOOST_TEST(t->reclaim(60) == 0u);
  BOOST_TEST(t->reclaim(200) == 3u);
  BOOST_TEST(t->size() == 2u);
  BOOST_TEST(count_present(*t, 0, 3) == 0u);
  BOOST_TEST(count_present(*t, 3, 5) == 2u);

  // A packet refreshes last_seen: only the idle connection expires (S28).
  t->at(t->lookup(key(4))).last_seen.store(900);
  BOOST_TEST(t->reclaim(1500) == 1u);
  BOOST_TEST(t->lookup(key(3)) == -1);
  BOOST_TEST(t->lookup(key(4)) >= 0);
  BOOST_TEST(t->reclaim(1901) == 1u);
  BOOST_TEST(t->size() == 0u);
  BOOST_TEST(t->vm_count(1) == 0u);
  BOOST_TEST(for_each_count(*t) == 0u);
}

// A worker reads `now` once per burst; another worker may store a later last_seen in
// between (and TSCs of two cores may differ slightly). That connection is busy, not idle.
BOOST_AUTO_TEST_CASE(last_seen_after_now_is_live) {
  Timeouts to = uniform(100);
  auto t = make_table(100, 100, to);
  int32_t p = -1;
  BOOST_REQUIRE((ins(*t, 1, ConnState::kTcpEstablished, 1, 1'000'000, &p) == InsertResult::kInserted));
  BOOST_TEST(t->live(t->at(p), 999'999));
  BOOST_TEST(t->live(t->at(p), 0));
  BOOST_TEST(t->reclaim(999'000) == 0u);
  BOOST_TEST(t->lookup(key(1)) == p);
  BOOST_TEST(t->reclaim(1'000'101) == 1u);
}

BOOST_AUTO_TEST_CASE(real_clock_with_scaled_timeouts) {
  // One "second" = 10 ms of TSC.
  const uint64_t hz = rte_get_tsc_hz() / 100;
  auto t = make_table(100, 100, make_timeouts(hz, 1, 100, 1, 1, 1, 1, 1));
  uint64_t t0 = rte_rdtsc();
  int32_t pu = -1, pe = -1;
  BOOST_REQUIRE((ins(*t, 1, ConnState::kUdpOneWay, 1, t0, &pu) == InsertResult::kInserted));
  BOOST_REQUIRE((ins(*t, 2, ConnState::kTcpEstablished, 1, t0, &pe) == InsertResult::kInserted));
  BOOST_TEST(t->live(t->at(pu), rte_rdtsc()));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  uint64_t now = rte_rdtsc();
  BOOST_TEST(!t->live(t->at(pu), now));
  BOOST_TEST(t->live(t->at(pe), now));
  BOOST_TEST(t->reclaim(now) == 1u);
  BOOST_TEST(t->size() == 1u);
  BOOST_TEST(t->lookup(key(1)) == -1);
  BOOST_TEST(t->lookup(key(2)) == pe);
}

BOOST_AUTO_TEST_SUITE_END()
