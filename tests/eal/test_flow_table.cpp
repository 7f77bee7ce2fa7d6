// The connection table (lib/flow/flow_table.*, docs/design/flow-table.md) on a real
// rte_hash: insert/lookup/remove, expiry and reclaim, exact capacity and eviction
// order, per-VM quotas, flush and position recycling, and concurrent writers, readers
// and reclaim under rte_rcu_qsbr. docs/enforcement.md §4; catalogue L01, L02, L03, L05, L06.
#define BOOST_TEST_MODULE flow_table
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "eal_fixture.hpp"
#include "flow/flow_table.hpp"

BOOST_TEST_GLOBAL_FIXTURE(EalFixture);

namespace sgfw::flow {
inline std::ostream& operator<<(std::ostream& o, ConnState s) { return o << to_string(s); }
inline std::ostream& operator<<(std::ostream& o, InsertResult r) {
  const char* names[] = {"inserted", "exists", "table-full", "quota-exceeded"};
  return o << names[static_cast<int>(r)];
}
}  // namespace sgfw::flow

using namespace sgfw::flow;

namespace {

constexpr uint64_t kForever = uint64_t{1} << 62;
constexpr uint32_t kNoQuota = 1u << 30;

// Connection i: 10.(i>>16).(i>>8).(i) port 1024+(i%7) -> 192.168.0.1:443 (network order).
struct Conn {
  uint32_t src, dst;
  uint16_t sport, dport;
  FlowKey fwd() const { return make_flow_key(6, src, sport, dst, dport); }
  FlowKey rev() const { return make_flow_key(6, dst, dport, src, sport); }
};
Conn conn(uint32_t i) {
  return {htonl(0x0a000000u | (i & 0xffffffu)), htonl(0xc0a80001u), htons(static_cast<uint16_t>(1024 + i % 7)),
          htons(443)};
}
FlowKey key(uint32_t i) { return conn(i).fwd(); }
bool same(const FlowKey& a, const FlowKey& b) { return std::memcmp(&a, &b, sizeof(FlowKey)) == 0; }

Timeouts uniform(uint64_t ticks) {
  Timeouts t;
  for (auto& v : t.by_state) v = ticks;
  return t;
}

std::unique_ptr<FlowTable> make_table(uint32_t capacity, uint32_t per_vm_limit, const Timeouts& to,
                                      rte_rcu_qsbr* qs = nullptr) {
  static unsigned n = 0;
  FlowTableOptions o;
  o.capacity = capacity;
  o.per_vm_limit = per_vm_limit;
  o.max_vm_ids = 16;
  o.timeouts = to;
  auto t = FlowTable::create(o, "ft" + std::to_string(n++), qs);
  if (!t) BOOST_FAIL("FlowTable::create: " << t.error().message);
  return std::move(*t);
}


// The insert of the earlier positional API, for these tests: `orig` is the first
// packet's source, charged to `vm` as the originating VM.
InsertResult insert_conn(FlowTable& t, const FlowKey& k, uint32_t orig_be, uint16_t orig_port_be, ConnState s,
                         uint32_t vm, uint64_t gen, uint32_t egress, uint32_t ingress, uint64_t now, int32_t* pos) {
  NewConnection c;
  c.key = k;
  c.orig_is_lo = k.addr_lo == orig_be && k.port_lo == orig_port_be;
  c.state = s;
  c.orig_vm = vm;
  c.generation = gen;
  c.egress_rule = egress;
  c.ingress_rule = ingress;
  c.express = (gen << 32) | 0x10002u;  // what the packet path would store: kept as given
  return t.insert(c, now, pos);
}

std::vector<bool> vm_set(std::initializer_list<uint32_t> ids) {
  std::vector<bool> b(16);
  for (uint32_t i : ids) b[i] = true;
  return b;
}

InsertResult ins(FlowTable& t, uint32_t i, ConnState s, uint32_t vm, uint64_t now, int32_t* pos = nullptr) {
  int32_t p = -1;
  Conn c = conn(i);
  InsertResult r = insert_conn(t, c.fwd(), c.src, c.sport, s, vm, 1, 0, 0, now, &p);
  if (pos) *pos = p;
  return r;
}

size_t count_present(const FlowTable& t, uint32_t from, uint32_t to) {
  size_t n = 0;
  for (uint32_t i = from; i < to; ++i) n += t.lookup(key(i)) >= 0;
  return n;
}

size_t for_each_count(const FlowTable& t) {
  size_t n = 0;
  t.for_each([&](int32_t, const FlowEntry&, const FlowCold&) { ++n; });
  return n;
}

}  // namespace

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

BOOST_AUTO_TEST_SUITE(capacity)

// L01/L02: capacity N, N+1 distinct established connections -> exactly N, none lost.
BOOST_AUTO_TEST_CASE(exact_limit_with_established_connections) {
  constexpr uint32_t kN = 1000;
  auto t = make_table(kN, kNoQuota, uniform(kForever));
  for (uint32_t i = 0; i < kN; ++i)
    BOOST_REQUIRE((ins(*t, i, ConnState::kTcpEstablished, i % 4, 10) == InsertResult::kInserted));
  BOOST_TEST(t->size() == kN);
  for (uint32_t i = kN; i < kN + 20; ++i) {
    BOOST_TEST((ins(*t, i, ConnState::kTcpSynSent, i % 4, 20) == InsertResult::kTableFull));
    BOOST_TEST((ins(*t, i, ConnState::kTcpEstablished, i % 4, 20) == InsertResult::kTableFull));
  }
  BOOST_TEST(t->size() == kN);
  BOOST_TEST(count_present(*t, 0, kN) == kN);
  BOOST_TEST(count_present(*t, kN, kN + 20) == 0u);
  BOOST_TEST(for_each_count(*t) == kN);
  uint32_t sum = 0;
  for (uint32_t v = 0; v < 4; ++v) sum += t->vm_count(v);
  BOOST_TEST(sum == kN);  // failed inserts give their quota back
  // Room again after one removal.
  BOOST_REQUIRE(t->remove(t->lookup(key(0))));
  BOOST_TEST((ins(*t, kN, ConnState::kTcpEstablished, 0, 30) == InsertResult::kInserted));
  BOOST_TEST((ins(*t, kN + 1, ConnState::kTcpEstablished, 0, 30) == InsertResult::kTableFull));
  BOOST_TEST(t->size() == kN);
}

// L03: a full table of half-open connections makes room for a new one.
BOOST_AUTO_TEST_CASE(full_of_half_open_evicts_one) {
  for (uint32_t n : {1u, 2u, 48u, 64u, 100u, 1000u}) {
    BOOST_TEST_CONTEXT("capacity " << n) {
      auto t = make_table(n, kNoQuota, uniform(kForever));
      for (uint32_t i = 0; i < n; ++i)
        BOOST_REQUIRE((ins(*t, i, ConnState::kTcpSynSent, 1, 10) == InsertResult::kInserted));
      BOOST_TEST((ins(*t, n, ConnState::kTcpEstablished, 1, 20) == InsertResult::kInserted));
      BOOST_TEST(t->size() == n);
      BOOST_TEST(count_present(*t, 0, n) == n - 1);  // exactly one half-open gone
      BOOST_TEST(t->lookup(key(n)) >= 0);
      BOOST_TEST(t->vm_count(1) == n);
      BOOST_TEST(for_each_count(*t) == n);
    }
  }
}

BOOST_AUTO_TEST_CASE(half_open_kinds_are_evicted_established_never) {
  constexpr uint32_t kN = 48;
  const ConnState half_open[] = {ConnState::kTcpSynSent, ConnState::kTcpSynRecv, ConnState::kUdpOneWay,
                                 ConnState::kIcmpEcho, ConnState::kOtherOneWay, ConnState::kTcpTimeWait};
  const ConnState established[] = {ConnState::kTcpEstablished, ConnState::kTcpFinWait, ConnState::kTcpClosing,
                                   ConnState::kUdpTwoWay, ConnState::kIcmpEchoReplied, ConnState::kOtherTwoWay};
  auto t = make_table(kN, kNoQuota, uniform(kForever));
  // Half established, half half-open, interleaved.
  for (uint32_t i = 0; i < kN; ++i) {
    ConnState s = i % 2 ? half_open[i / 2 % 6] : established[i / 2 % 6];
    BOOST_REQUIRE((ins(*t, i, s, 1, 10) == InsertResult::kInserted));
  }
  // kN/2 new connections take exactly the half-open ones' room.
  for (uint32_t i = kN; i < kN + kN / 2; ++i)
    BOOST_TEST((ins(*t, i, ConnState::kTcpEstablished, 1, 20) == InsertResult::kInserted), "insert " << i);
  BOOST_TEST(t->size() == kN);
  // Now everything is established: table-full, and nothing established was lost.
  BOOST_TEST((ins(*t, kN + kN / 2, ConnState::kTcpSynSent, 1, 30) == InsertResult::kTableFull));
  BOOST_TEST(t->size() == kN);
  for (uint32_t i = 0; i < kN; ++i) {
    int32_t p = t->lookup(key(i));
    if (i % 2 == 0) {
      BOOST_TEST(p >= 0, "established " << i << " evicted");
    } else {
      BOOST_TEST(p == -1, "half-open " << i << " kept");
    }
  }
  BOOST_TEST(count_present(*t, kN, kN + kN / 2) == kN / 2);
}

BOOST_AUTO_TEST_CASE(expired_evicted_before_half_open) {
  constexpr uint32_t kN = 48;
  Timeouts to = uniform(1000);
  to.by_state[static_cast<size_t>(ConnState::kTcpEstablished)] = 100;
  auto t = make_table(kN, kNoQuota, to);
  // One established connection idle since 0, the others half-open and fresh.
  BOOST_REQUIRE((ins(*t, 0, ConnState::kTcpEstablished, 1, 0) == InsertResult::kInserted));
  for (uint32_t i = 1; i < kN; ++i)
    BOOST_REQUIRE((ins(*t, i, ConnState::kTcpSynSent, 1, 500) == InsertResult::kInserted));
  BOOST_TEST((ins(*t, kN, ConnState::kTcpSynSent, 1, 600) == InsertResult::kInserted));
  BOOST_TEST(t->lookup(key(0)) == -1);  // the expired one went
  BOOST_TEST(count_present(*t, 1, kN + 1) == kN);
  BOOST_TEST(t->size() == kN);
  // An expired *established* connection is fair game; a live one is not.
  auto u = make_table(kN, kNoQuota, to);
  for (uint32_t i = 0; i < kN; ++i)
    BOOST_REQUIRE((ins(*u, i, ConnState::kTcpEstablished, 1, i < 2 ? 0 : 550) == InsertResult::kInserted));
  BOOST_TEST((ins(*u, kN, ConnState::kTcpEstablished, 1, 600) == InsertResult::kInserted));
  BOOST_TEST((ins(*u, kN + 1, ConnState::kTcpEstablished, 1, 600) == InsertResult::kInserted));
  BOOST_TEST((ins(*u, kN + 2, ConnState::kTcpEstablished, 1, 600) == InsertResult::kTableFull));
  BOOST_TEST(count_present(*u, 2, kN) == kN - 2);
  BOOST_TEST(count_present(*u, 0, 2) == 0u);
}

// Two packets of one new connection in one burst: the second insert finds the first,
// even when the first took the last place (no needless eviction, no false table-full).
BOOST_AUTO_TEST_CASE(duplicate_at_capacity_is_exists) {
  constexpr uint32_t kN = 48;
  auto t = make_table(kN, kNoQuota, uniform(kForever));
  for (uint32_t i = 0; i < kN - 1; ++i)
    BOOST_REQUIRE((ins(*t, i, ConnState::kTcpSynSent, 1, 10) == InsertResult::kInserted));
  int32_t p1 = -1, p2 = -1;
  BOOST_TEST((ins(*t, 100, ConnState::kUdpOneWay, 1, 10, &p1) == InsertResult::kInserted));
  BOOST_TEST((ins(*t, 100, ConnState::kUdpOneWay, 1, 10, &p2) == InsertResult::kExists));
  BOOST_TEST(p1 == p2);
  BOOST_TEST(t->size() == kN);
  BOOST_TEST(count_present(*t, 0, kN - 1) == kN - 1);  // no half-open evicted for it
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(quotas)

// L05: one VM filling its quota cannot starve another.
BOOST_AUTO_TEST_CASE(per_vm_limit_is_exact_and_independent) {
  constexpr uint32_t kL = 5;
  auto t = make_table(100, kL, uniform(kForever));
  constexpr uint32_t kA = 1, kB = 2;
  for (uint32_t i = 0; i < kL; ++i) BOOST_TEST((ins(*t, i, ConnState::kTcpEstablished, kA, 1) == InsertResult::kInserted));
  BOOST_TEST((ins(*t, 10, ConnState::kTcpEstablished, kA, 1) == InsertResult::kQuotaExceeded));
  BOOST_TEST((ins(*t, 11, ConnState::kTcpSynSent, kA, 1) == InsertResult::kQuotaExceeded));
  BOOST_TEST(t->vm_count(kA) == kL);
  for (uint32_t i = 20; i < 20 + kL; ++i)
    BOOST_TEST((ins(*t, i, ConnState::kTcpEstablished, kB, 1) == InsertResult::kInserted));
  BOOST_TEST((ins(*t, 30, ConnState::kTcpEstablished, kB, 1) == InsertResult::kQuotaExceeded));
  BOOST_TEST(t->vm_count(kA) == kL);
  BOOST_TEST(t->vm_count(kB) == kL);
  BOOST_TEST(t->size() == 2 * kL);
  // A duplicate of an existing connection of a VM at its quota is kExists.
  BOOST_TEST((ins(*t, 0, ConnState::kTcpEstablished, kA, 2) == InsertResult::kExists));
  // One of A's goes: A may open one more, and only one.
  BOOST_REQUIRE(t->remove(t->lookup(key(2))));
  BOOST_TEST(t->vm_count(kA) == kL - 1);
  BOOST_TEST((ins(*t, 10, ConnState::kTcpEstablished, kA, 3) == InsertResult::kInserted));
  BOOST_TEST((ins(*t, 11, ConnState::kTcpEstablished, kA, 3) == InsertResult::kQuotaExceeded));
  BOOST_TEST(t->vm_count(kA) == kL);
  BOOST_TEST(t->size() == 2 * kL);
  // A flush gives quota back too.
  auto only_b = vm_set({kB});
  BOOST_TEST(t->flush(&only_b) == kL);
  BOOST_TEST(t->vm_count(kB) == 0u);
  BOOST_TEST((ins(*t, 30, ConnState::kTcpEstablished, kB, 4) == InsertResult::kInserted));
}

// Quota is checked first: a VM at its quota gets quota-exceeded, and evicts nobody.
BOOST_AUTO_TEST_CASE(quota_before_capacity) {
  auto t = make_table(8, 5, uniform(kForever));
  for (uint32_t i = 0; i < 5; ++i) BOOST_REQUIRE((ins(*t, i, ConnState::kTcpSynSent, 1, 1) == InsertResult::kInserted));
  for (uint32_t i = 5; i < 8; ++i) BOOST_REQUIRE((ins(*t, i, ConnState::kTcpSynSent, 2, 1) == InsertResult::kInserted));
  BOOST_TEST((ins(*t, 8, ConnState::kTcpEstablished, 1, 2) == InsertResult::kQuotaExceeded));
  BOOST_TEST(count_present(*t, 0, 8) == 8u);  // nothing evicted for it
  // VM 2 is under its quota: the table is full of half-open ones, one is evicted.
  BOOST_TEST((ins(*t, 9, ConnState::kTcpEstablished, 2, 2) == InsertResult::kInserted));
  BOOST_TEST(t->size() == 8u);
  BOOST_TEST(t->vm_count(1) + t->vm_count(2) == 8u);
  BOOST_TEST(count_present(*t, 0, 8) == 7u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(flush_and_recycle)

BOOST_AUTO_TEST_CASE(flush_all_and_per_vm) {
  auto t = make_table(100, 100, uniform(kForever));
  for (uint32_t i = 0; i < 30; ++i) BOOST_REQUIRE((ins(*t, i, ConnState::kTcpEstablished, 1 + i % 3, 1) == InsertResult::kInserted));
  const auto vm2 = vm_set({2}), vm9 = vm_set({9});
  BOOST_TEST(t->flush(&vm9) == 0u);
  BOOST_TEST(t->flush(&vm2) == 10u);
  BOOST_TEST(t->size() == 20u);
  BOOST_TEST(t->vm_count(2) == 0u);
  BOOST_TEST(t->vm_count(1) == 10u);
  BOOST_TEST(t->vm_count(3) == 10u);
  for (uint32_t i = 0; i < 30; ++i) BOOST_TEST((t->lookup(key(i)) >= 0) == (1 + i % 3 != 2), i);
  BOOST_TEST(t->flush(&vm2) == 0u);
  BOOST_TEST(t->flush() == 20u);
  BOOST_TEST(t->size() == 0u);
  for (uint32_t v = 0; v < 4; ++v) BOOST_TEST(t->vm_count(v) == 0u);
  BOOST_TEST(for_each_count(*t) == 0u);
  BOOST_TEST(count_present(*t, 0, 30) == 0u);
}

// Positions come back: far more insertions over time than the hash has key slots.
BOOST_AUTO_TEST_CASE(positions_are_recycled) {
  constexpr uint32_t kN = 1000;
  Timeouts to = uniform(kForever);
  to.by_state[static_cast<size_t>(ConnState::kUdpOneWay)] = 10;
  auto t = make_table(kN, kN, to);
  for (uint32_t round = 0; round < 16; ++round) {  // 16,000 insertions; ~10,300 key slots
    BOOST_TEST_CONTEXT("round " << round) {
      uint32_t base = round * kN;
      ConnState s = round % 2 ? ConnState::kUdpOneWay : ConnState::kTcpEstablished;
      uint32_t inserted = 0;
      for (uint32_t i = base; i < base + kN; ++i) inserted += ins(*t, i, s, round % 3, 0) == InsertResult::kInserted;
      BOOST_TEST(inserted == kN);
      if (round % 2 == 0)  // full of established ones (UDP ones would be evicted); another VM
        BOOST_TEST((ins(*t, base + kN, ConnState::kTcpEstablished, (round + 1) % 3, 0) == InsertResult::kTableFull));
      BOOST_TEST(t->size() == kN);
      if (round % 2) {
        BOOST_TEST(t->reclaim(100) == kN);  // all expired
      } else {
        BOOST_TEST(t->flush() == kN);
        BOOST_TEST(t->reclaim(0) == 0u);
      }
      BOOST_TEST(t->size() == 0u);
      BOOST_TEST(for_each_count(*t) == 0u);
    }
  }
}

// A worker that looked a connection up keeps a valid slot until it reports quiescent:
// reclaim() waits for it before the position can be reused.
BOOST_AUTO_TEST_CASE(recycling_waits_for_the_grace_period) {
  size_t sz = rte_rcu_qsbr_get_memsize(1);
  auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc("ft-qs1", sz, RTE_CACHE_LINE_SIZE));
  BOOST_REQUIRE(qs);
  BOOST_REQUIRE(rte_rcu_qsbr_init(qs, 1) == 0);
  {
    auto t = make_table(100, 100, uniform(kForever), qs);
    int32_t p = -1;
    BOOST_REQUIRE((ins(*t, 1, ConnState::kTcpEstablished, 1, 1, &p) == InsertResult::kInserted));
    std::atomic<int> stage{0};
    std::atomic<bool> held_ok{false};
    BOOST_REQUIRE(rte_rcu_qsbr_thread_register(qs, 0) == 0);
    std::thread reader([&] {
      rte_rcu_qsbr_thread_online(qs, 0);
      int32_t mine = t->lookup(key(1));
      stage = 1;
      while (stage.load() < 2) std::this_thread::yield();  // the control thread removed it
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      // Still this connection's slot, dead, not recycled.
      held_ok = mine == p && t->at(mine).state.load() == ConnState::kDead && same(t->cold(mine).key, key(1));
      rte_rcu_qsbr_quiescent(qs, 0);
      rte_rcu_qsbr_thread_offline(qs, 0);
    });
    while (stage.load() < 1) std::this_thread::yield();
    BOOST_REQUIRE(t->remove(p));
    stage = 2;
    auto t0 = std::chrono::steady_clock::now();
    t->reclaim(1);  // blocks until the reader is quiescent
    auto waited = std::chrono::steady_clock::now() - t0;
    reader.join();
    BOOST_TEST(held_ok.load());
    BOOST_TEST((waited >= std::chrono::milliseconds(50)));
    BOOST_TEST((t->at(p).state.load() == ConnState::kFree));
    BOOST_REQUIRE(rte_rcu_qsbr_thread_unregister(qs, 0) == 0);
  }
  rte_free(qs);
}

BOOST_AUTO_TEST_SUITE_END()

// L06: two writers and two readers on the table while the control thread reclaims
// (expires and recycles) without pause. Writers: disjoint and overlapping keys (the
// overlap from the reply direction), insert/remove churn, and lockstep batches where
// both insert and then both remove the very same keys at the same moment. Readers:
// bulk lookups holding the positions for a while before reporting quiescent.
// Writers are registered as EAL threads (rte_thread_register): rte_hash's multi-writer
// path indexes a per-lcore cache with rte_lcore_id(), and DPDK 22.11 does not handle
// LCORE_ID_ANY there (an unregistered thread's insert crashes). Readers need none.
namespace {

void concurrency_round(unsigned iteration) {
  constexpr unsigned kWriters = 2, kReaders = 2, kThreads = kWriters + kReaders;
  // Keys: [0, 4000) writer 0 only, [4000, 8000) both, [8000, 12000) writer 1 only,
  // [20000, 22000) short-lived UDP, [30000, 30512) lockstep batches.
  constexpr uint32_t kOverlapLo = 4000, kOverlapHi = 8000, kHi = 12000, kEphLo = 20000, kEphHi = 22000;
  constexpr uint32_t kLockLo = 30000, kBatch = 64, kGroups = 8, kLockHi = kLockLo + kBatch * kGroups;
  constexpr uint32_t kUniverse = kLockHi;
  constexpr int kChurnRounds = 60, kBatches = 160;
  constexpr uint64_t kNow = 1000;  // logical clock: UDP one-way expires, nothing else does
  auto vm_of = [](uint32_t i) { return 1 + i % 4; };
  auto exclusive = [&](uint32_t i) { return i < kOverlapLo || (i >= kOverlapHi && i < kHi); };
  auto churned = [&](uint32_t i) { return exclusive(i) && i % 4 == 0; };  // insert/remove rounds
  auto expected_present = [&](uint32_t i) {
    if (i >= kHi) return false;                           // short-lived and lockstep: all gone
    if (churned(i)) return i % 8 == 4;                    // churn ends removed for i % 8 == 0
    if (!exclusive(i) && i % 8 == 1) return i % 16 == 1;  // removed by both, re-inserted if i % 16 == 1
    return true;
  };

  size_t sz = rte_rcu_qsbr_get_memsize(kThreads);
  auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, sz, RTE_CACHE_LINE_SIZE));
  BOOST_REQUIRE(qs);
  BOOST_REQUIRE(rte_rcu_qsbr_init(qs, kThreads) == 0);
  Timeouts to = uniform(kForever);
  to.by_state[static_cast<size_t>(ConnState::kUdpOneWay)] = 10;
  constexpr uint32_t kCapacity = 1u << 14;
  auto t = make_table(kCapacity, kCapacity, to, qs);

  std::vector<FlowKey> keys(kUniverse);
  for (uint32_t i = 0; i < kUniverse; ++i) keys[i] = key(i);
  std::vector<uint32_t> hot;  // keys whose positions keep changing
  for (uint32_t i = 0; i < kHi; ++i)
    if (churned(i)) hot.push_back(i);
  for (uint32_t i = kLockLo; i < kLockHi; ++i) hot.push_back(i);
  auto counters = [&] { return std::make_unique<std::atomic<uint32_t>[]>(kUniverse); };
  auto inserted = counters(), existed = counters(), removed = counters();
  std::atomic<uint32_t> errors{0}, full_retries{0}, unregistered{0}, reader_violations{0};
  std::atomic<uint64_t> lookups{0}, hits{0};
  std::atomic<bool> writers_done{false};
  std::barrier sync(kWriters);

  auto writer = [&](unsigned w) {
    if (rte_thread_register() != 0 || rte_lcore_id() == LCORE_ID_ANY) {
      ++unregistered;
      sync.arrive_and_drop();
      return;
    }
    rte_rcu_qsbr_thread_register(qs, w);
    rte_rcu_qsbr_thread_online(qs, w);
    unsigned ops = 0;
    auto tick = [&] {
      if (++ops % 16 == 0) rte_rcu_qsbr_quiescent(qs, w);
    };
    auto insert = [&](uint32_t i, ConnState s, bool reply_side) {
      Conn c = conn(i);
      FlowKey k = reply_side ? c.rev() : c.fwd();
      for (;;) {
        int32_t p = -1;
        InsertResult r = reply_side ? insert_conn(*t, k, c.dst, c.dport, s, vm_of(i), w, 0, 0, 0, &p)
                                    : insert_conn(*t, k, c.src, c.sport, s, vm_of(i), w, 0, 0, 0, &p);
        if (r == InsertResult::kTableFull) {  // key slots waiting for a grace period
          ++full_retries;
          rte_rcu_qsbr_quiescent(qs, w);
          std::this_thread::yield();
          continue;
        }
        if (r == InsertResult::kInserted) ++inserted[i];
        else if (r == InsertResult::kExists) ++existed[i];
        else ++errors;
        if (r == InsertResult::kInserted && !same(t->cold(p).key, keys[i])) ++errors;
        tick();
        return;
      }
    };
    auto remove = [&](uint32_t i) {
      int32_t p = t->lookup(keys[i]);
      bool ok = p >= 0 && t->remove(p);
      if (ok) ++removed[i];
      tick();
      return ok;
    };
    auto wait_for_the_other = [&] {  // offline: the control thread's grace periods go on
      rte_rcu_qsbr_thread_offline(qs, w);
      sync.arrive_and_wait();
      rte_rcu_qsbr_thread_online(qs, w);
    };
    bool reply_side = w == 1;
    std::vector<uint32_t> own;
    for (uint32_t i = kOverlapLo; i < kOverlapHi; ++i) own.push_back(i);  // both start here
    for (uint32_t i = w == 0 ? 0 : kOverlapHi; i < (w == 0 ? kOverlapLo : kHi); ++i) own.push_back(i);
    uint32_t eph = kEphLo + w * (kEphHi - kEphLo) / 2;

    // A: insert own keys (the overlap at the same time), short-lived ones interleaved.
    for (size_t n = 0; n < own.size(); ++n) {
      insert(own[n], ConnState::kTcpEstablished, reply_side);
      if (n % 8 == 0) insert(eph++, ConnState::kUdpOneWay, false);
    }
    wait_for_the_other();
    // B: both remove the same overlap keys: exactly one removal succeeds.
    for (uint32_t i = kOverlapLo; i < kOverlapHi; ++i)
      if (i % 8 == 1) remove(i);
    wait_for_the_other();
    // C: both re-insert some of them; then lockstep batches and churn, interleaved.
    for (uint32_t i = kOverlapLo; i < kOverlapHi; ++i)
      if (i % 16 == 1) insert(i, ConnState::kTcpSynSent, reply_side);
    std::vector<uint32_t> mine;
    for (uint32_t i : own)
      if (churned(i)) mine.push_back(i);
    size_t next_churn = 0;
    const size_t churn_total = mine.size() * kChurnRounds;
    for (int b = 0; b < kBatches; ++b) {
      uint32_t base = kLockLo + (b % kGroups) * kBatch;
      wait_for_the_other();
      for (uint32_t i = base; i < base + kBatch; ++i) insert(i, ConnState::kTcpSynSent, reply_side);
      wait_for_the_other();
      for (uint32_t i = base; i < base + kBatch; ++i) remove(i);
      // A share of the churn: remove and re-create own keys (new positions each time).
      for (size_t end = churn_total * (b + 1) / kBatches; next_churn < end; ++next_churn) {
        uint32_t i = mine[next_churn % mine.size()];
        if (!remove(i)) ++errors;  // only this writer touches it: must be there
        bool last = next_churn / mine.size() == kChurnRounds - 1;
        if (!(last && i % 8 == 0)) insert(i, ConnState::kTcpEstablished, reply_side);
      }
    }
    rte_rcu_qsbr_thread_offline(qs, w);
    rte_rcu_qsbr_thread_unregister(qs, w);
    rte_thread_unregister();
  };

  auto reader = [&](unsigned r) {
    unsigned id = kWriters + r;
    rte_rcu_qsbr_thread_register(qs, id);
    rte_rcu_qsbr_thread_online(qs, id);
    std::mt19937 rng(r + 1 + 16 * iteration);
    std::uniform_int_distribution<uint32_t> any(0, kUniverse - 1);
    std::uniform_int_distribution<size_t> pick_hot(0, hot.size() - 1);
    constexpr int kN = 32;
    const FlowKey* batch[kN];
    uint32_t idx[kN];
    int32_t pos[kN];
    ConnState first[kN];
    unsigned burst = 0;
    while (!writers_done.load(std::memory_order_acquire)) {
      for (int k = 0; k < kN; ++k) {
        idx[k] = k % 4 == 0 ? any(rng) : hot[pick_hot(rng)];
        batch[k] = &keys[idx[k]];
      }
      t->lookup_bulk(batch, kN, pos);
      uint64_t h = 0;
      // Until this reader reports quiescent, each position it got is still the slot of
      // the key it looked up: a live entry there has that key, and once seen in use the
      // slot is never seen free again (recycled) within the burst, however long it lasts.
      for (int pass = 0; pass < 2; ++pass) {
        for (int k = 0; k < kN; ++k) {
          if (pos[k] < 0) continue;
          const FlowEntry& e = t->at(pos[k]);
          ConnState s = e.state.load(std::memory_order_acquire);
          bool in_use = s != ConnState::kFree && s != ConnState::kDead;
          if (in_use && !same(t->cold(pos[k]).key, keys[idx[k]])) ++reader_violations;
          if (pass == 0) {
            first[k] = s;
            ++h;
          } else if (first[k] != ConnState::kFree && s == ConnState::kFree) {
            ++reader_violations;
          }
        }
        if (pass == 0) {  // hold the positions while the others work
          if (++burst % 4 == 0)
            std::this_thread::sleep_for(std::chrono::microseconds(100));
          else
            for (int spin = 0; spin < 500; ++spin) rte_pause();
        }
      }
      lookups += kN;
      hits += h;
      rte_rcu_qsbr_quiescent(qs, id);
    }
    rte_rcu_qsbr_thread_offline(qs, id);
    rte_rcu_qsbr_thread_unregister(qs, id);
  };

  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> readers;
  for (unsigned r = 0; r < kReaders; ++r) readers.emplace_back(reader, r);
  std::vector<std::thread> writers;
  for (unsigned w = 0; w < kWriters; ++w) writers.emplace_back(writer, w);
  std::thread joiner([&] {
    for (auto& th : writers) th.join();
    writers_done.store(true, std::memory_order_release);
  });
  // Control thread (this one, lcore 0, not an RCU reader): reclaim without pause.
  size_t expired = 0, passes = 0;
  bool over_capacity = false;
  while (!writers_done.load(std::memory_order_acquire)) {
    expired += t->reclaim(kNow);
    ++passes;
    over_capacity |= t->size() > kCapacity;
  }
  joiner.join();
  for (auto& th : readers) th.join();
  expired += t->reclaim(kNow);
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST_MESSAGE("concurrency round " << iteration << ": " << elapsed << " s, " << passes
                                          << " reclaim passes, " << lookups.load() << " lookups (" << hits.load()
                                          << " hits), " << full_retries.load() << " inserts retried for key slots");

  BOOST_REQUIRE(unregistered.load() == 0u);
  BOOST_TEST(errors.load() == 0u);
  BOOST_TEST(reader_violations.load() == 0u);
  BOOST_TEST(!over_capacity);
  BOOST_TEST(lookups.load() > 0u);
  BOOST_TEST(expired == size_t{kEphHi - kEphLo});  // each short-lived one expired exactly once

  // Per key: what the writers got back. Exactly one insert wins, one removal wins.
  uint32_t bad_keys = 0;
  for (uint32_t i = 0; i < kUniverse; ++i) {
    uint32_t ins_n = inserted[i].load(), ex_n = existed[i].load(), rm_n = removed[i].load();
    bool ok = true;
    if (i >= kLockLo) {
      uint32_t uses = kBatches / kGroups;  // both inserted and both removed, each time
      ok = ins_n == uses && ex_n == uses && rm_n == uses;
    } else if (i >= kEphLo) {
      ok = i >= kEphHi || (ins_n == 1 && ex_n == 0 && rm_n == 0);
    } else if (i >= kHi) {
      ok = ins_n + ex_n + rm_n == 0;
    } else if (churned(i)) {
      ok = ins_n == 1u + kChurnRounds - (i % 8 == 0 ? 1 : 0) && ex_n == 0 && rm_n == uint32_t(kChurnRounds);
    } else if (exclusive(i)) {
      ok = ins_n == 1 && ex_n == 0 && rm_n == 0;
    } else if (i % 8 == 1) {
      uint32_t times = i % 16 == 1 ? 2 : 1;  // inserted by both, removed by both, maybe again
      ok = ins_n == times && ex_n == times && rm_n == 1;
    } else {
      ok = ins_n == 1 && ex_n == 1 && rm_n == 0;
    }
    if (!ok && ++bad_keys <= 10)
      BOOST_ERROR("key " << i << ": inserted " << ins_n << ", existed " << ex_n << ", removed " << rm_n);
  }
  BOOST_TEST(bad_keys == 0u);

  // The table: no lost or duplicated entries, counts exact.
  uint32_t want = 0, want_vm[5] = {};
  for (uint32_t i = 0; i < kUniverse; ++i)
    if (expected_present(i)) {
      ++want;
      ++want_vm[vm_of(i)];
    }
  BOOST_TEST(t->size() == want);
  std::vector<uint32_t> seen(kUniverse, 0);
  uint32_t visited = 0, strangers = 0, got_vm[5] = {};
  t->for_each([&](int32_t p, const FlowEntry&, const FlowCold& c) {
    ++visited;
    uint32_t a = c.key.addr_lo == htonl(0xc0a80001u) ? c.key.addr_hi : c.key.addr_lo;
    uint32_t i = ntohl(a) & 0xffffffu;
    if (i >= kUniverse || !same(c.key, keys[i]) || t->lookup(c.key) != p) {
      ++strangers;
      return;
    }
    ++seen[i];
    if (c.vm_id[0] < 5) ++got_vm[c.vm_id[0]];
  });
  BOOST_TEST(visited == want);
  BOOST_TEST(strangers == 0u);
  uint32_t missing = 0, dup = 0, extra = 0, lookup_wrong = 0;
  for (uint32_t i = 0; i < kUniverse; ++i) {
    bool exp = expected_present(i);
    missing += exp && seen[i] == 0;
    dup += seen[i] > 1;
    extra += !exp && seen[i] != 0;
    lookup_wrong += (t->lookup(keys[i]) >= 0) != exp;
  }
  BOOST_TEST(missing == 0u);
  BOOST_TEST(dup == 0u);
  BOOST_TEST(extra == 0u);
  BOOST_TEST(lookup_wrong == 0u);
  for (uint32_t v = 1; v <= 4; ++v) {
    BOOST_TEST(t->vm_count(v) == want_vm[v], "vm " << v);
    BOOST_TEST(got_vm[v] == want_vm[v], "vm " << v);
  }
  BOOST_TEST(t->vm_count(0) == 0u);

  // Everything goes, and every position is reusable.
  BOOST_TEST(t->flush() == want);
  BOOST_TEST(t->size() == 0u);
  uint32_t again = 0;
  for (uint32_t i = 0; i < kCapacity; ++i)
    again += ins(*t, 100000 + i, ConnState::kTcpEstablished, 1, 0) == InsertResult::kInserted;
  BOOST_TEST(again == kCapacity);
  t.reset();
  rte_free(qs);
}

}  // namespace

BOOST_AUTO_TEST_CASE(concurrent_writers_readers_and_reclaim) {
  for (unsigned i = 0; i < 10; ++i) {
    BOOST_TEST_CONTEXT("round " << i) { concurrency_round(i); }
  }
}
