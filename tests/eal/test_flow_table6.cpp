// The connection table for both address families (lib/flow/flow_table.*,
// docs/design/flow-table.md): the IPv6 table (FlowTable6, FlowKey6) passes the same
// behaviours as the IPv4 one, checked by the same templated cases for both: insert and
// lookup in both directions, quotas, the inbound half-open budget, a full table's
// reclaim, expiry, flush by VM and RCU recycling. Then what is IPv6's own: canonical
// IPv6 keys, and a VmQuota shared by both tables (docs/enforcement.md §4.6: a VM's
// quota counts its connections of both families together).
#define BOOST_TEST_MODULE flow_table6
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
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

// Address n of a family, network order: IPv4 n itself; IPv6 2001:db8::n (n in the
// last four bytes), so both families order their endpoints the same way.
struct V4 {
  using Table = FlowTable;
  using Key = FlowKey;
  using Addr = uint32_t;
  static Addr addr(uint32_t n) { return htonl(n); }
  static Key make(uint8_t proto, const Addr& s, uint16_t sp, const Addr& d, uint16_t dp, bool* lo = nullptr) {
    return make_flow_key(proto, s, sp, d, dp, lo);
  }
};
struct V6 {
  using Table = FlowTable6;
  using Key = FlowKey6;
  using Addr = Addr6;
  static Addr addr(uint32_t n) {
    Addr6 a{0x20, 0x01, 0x0d, 0xb8};
    uint32_t be = htonl(n);
    std::memcpy(&a[12], &be, 4);
    return a;
  }
  static Key make(uint8_t proto, const Addr& s, uint16_t sp, const Addr& d, uint16_t dp, bool* lo = nullptr) {
    return make_flow_key6(proto, s.data(), sp, d.data(), dp, lo);
  }
};
using Families = boost::mpl::list<V4, V6>;

static_assert(std::is_same_v<decltype(std::declval<const FlowCold&>().orig_addr_be(true)), uint32_t>);
static_assert(std::is_same_v<decltype(std::declval<const FlowCold6&>().orig_addr_be(true)), Addr6>);
static_assert(std::is_same_v<decltype(std::declval<const FlowCold6&>().resp_addr_be(true)), Addr6>);

template <class Key>
bool same(const Key& a, const Key& b) {
  return std::memcmp(&a, &b, sizeof(Key)) == 0;
}

// Connection i: 10.(i>>16).(i>>8).(i) port 1024+(i%7) -> 192.168.0.1:443 (for IPv6
// the same numbers in 2001:db8::/96).
template <class F>
struct Conn {
  typename F::Addr src, dst;
  uint16_t sport, dport;
  typename F::Key fwd() const { return F::make(6, src, sport, dst, dport); }
  typename F::Key rev() const { return F::make(6, dst, dport, src, sport); }
};
template <class F>
Conn<F> conn(uint32_t i) {
  return {F::addr(0x0a000000u | (i & 0xffffffu)), F::addr(0xc0a80001u), htons(static_cast<uint16_t>(1024 + i % 7)),
          htons(443)};
}
template <class F>
typename F::Key key(uint32_t i) {
  return conn<F>(i).fwd();
}

Timeouts uniform(uint64_t ticks) {
  Timeouts t;
  for (auto& v : t.by_state) v = ticks;
  return t;
}

FlowTableOptions options(uint32_t capacity, uint32_t per_vm_limit, const Timeouts& to) {
  FlowTableOptions o;
  o.capacity = capacity;
  o.per_vm_limit = per_vm_limit;
  o.max_vm_ids = 16;
  o.timeouts = to;
  return o;
}

template <class F>
std::unique_ptr<typename F::Table> make_table(const FlowTableOptions& o, rte_rcu_qsbr* qs = nullptr,
                                              std::shared_ptr<VmQuota> quota = nullptr) {
  static unsigned n = 0;
  auto t = F::Table::create(o, "ft6-" + std::to_string(sizeof(typename F::Key)) + "-" + std::to_string(n++), qs,
                            std::move(quota));
  if (!t) BOOST_FAIL("create: " << t.error().message);
  return std::move(*t);
}
template <class F>
std::unique_ptr<typename F::Table> make_table(uint32_t capacity, uint32_t per_vm_limit, const Timeouts& to,
                                              rte_rcu_qsbr* qs = nullptr) {
  return make_table<F>(options(capacity, per_vm_limit, to), qs);
}

// Connection i, opened by its source (local VM `vm`, or none) to its destination
// (local VM `resp`, or none).
template <class F>
InsertResult ins(typename F::Table& t, uint32_t i, ConnState s, uint32_t vm, uint64_t now, int32_t* pos = nullptr,
                 uint32_t resp = kNoVmId) {
  Conn<F> c = conn<F>(i);
  BasicNewConnection<typename F::Key> n;
  n.key = c.fwd();
  n.orig_is_lo = n.key.addr_lo == c.src && n.key.port_lo == c.sport;
  n.state = s;
  n.orig_vm = vm;
  n.resp_vm = resp;
  n.generation = 1;
  int32_t p = -1;
  InsertResult r = t.insert(n, now, &p);
  if (pos) *pos = p;
  return r;
}

template <class F>
size_t count_present(const typename F::Table& t, uint32_t from, uint32_t to) {
  size_t n = 0;
  for (uint32_t i = from; i < to; ++i) n += t.lookup(key<F>(i)) >= 0;
  return n;
}

template <class Table>
size_t for_each_count(const Table& t) {
  size_t n = 0;
  t.for_each([&](int32_t, const typename Table::FlowEntry&, const typename Table::FlowCold&) { ++n; });
  return n;
}

std::vector<bool> vm_set(std::initializer_list<uint32_t> ids) {
  std::vector<bool> b(16);
  for (uint32_t i : ids) b[i] = true;
  return b;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(both_families)

BOOST_AUTO_TEST_CASE_TEMPLATE(insert_lookup_remove_both_directions, F, Families) {
  auto t = make_table<F>(100, 100, uniform(kForever));
  Conn<F> a = conn<F>(1);
  int32_t pa = -1;
  BOOST_TEST((ins<F>(*t, 1, ConnState::kTcpSynSent, 3, 1000, &pa) == InsertResult::kInserted));
  BOOST_REQUIRE(pa >= 0);
  BOOST_TEST(t->lookup(a.fwd()) == pa);
  BOOST_TEST(t->lookup(a.rev()) == pa);  // the reply direction finds the same entry
  const auto& e = t->at(pa);
  const auto& c = t->cold(pa);
  BOOST_TEST(same(c.key, a.fwd()));
  BOOST_TEST((c.orig_addr_be(e.orig_is_lo()) == a.src));
  BOOST_TEST((c.resp_addr_be(e.orig_is_lo()) == a.dst));
  BOOST_TEST(c.orig_port_be(e.orig_is_lo()) == a.sport);
  BOOST_TEST(c.resp_port_be(e.orig_is_lo()) == a.dport);
  BOOST_TEST((e.state.load() == ConnState::kTcpSynSent));
  BOOST_TEST(c.vm_id[0] == 3u);
  BOOST_TEST(e.age(1000) == 0u);  // creation time at kCreatedShift resolution
  BOOST_TEST(e.age(1000 + (3ull << kCreatedShift)) == (3ull << kCreatedShift));
  BOOST_TEST(t->size() == 1u);
  BOOST_TEST(t->vm_count(3) == 1u);

  // The reply direction as a first packet: kExists, same position, the originator stays.
  BasicNewConnection<typename F::Key> r;
  r.key = a.rev();
  r.orig_is_lo = !e.orig_is_lo();
  r.state = ConnState::kTcpSynSent;
  r.orig_vm = 3;
  int32_t pd = -1;
  BOOST_TEST((t->insert(r, 2000, &pd) == InsertResult::kExists));
  BOOST_TEST(pd == pa);
  BOOST_TEST((c.orig_addr_be(e.orig_is_lo()) == a.src));
  BOOST_TEST(t->size() == 1u);
  BOOST_TEST(t->vm_count(3) == 1u);

  int32_t pb = -1;
  BOOST_TEST((ins<F>(*t, 2, ConnState::kUdpOneWay, 4, 1000, &pb) == InsertResult::kInserted));
  BOOST_TEST(pb != pa);
  auto ka = a.fwd(), kb = key<F>(2), kc = key<F>(3), kra = a.rev();
  const typename F::Key* keys[] = {&ka, &kb, &kc, &kra};
  int32_t pos[4] = {99, 99, 99, 99};
  t->lookup_bulk(keys, 4, pos);
  BOOST_TEST(pos[0] == pa);
  BOOST_TEST(pos[1] == pb);
  BOOST_TEST(pos[2] < 0);
  BOOST_TEST(pos[3] == pa);

  BOOST_TEST(t->remove(pa));
  BOOST_TEST(!t->remove(pa));
  BOOST_TEST(t->lookup(a.rev()) == -1);
  BOOST_TEST(t->size() == 1u);
  BOOST_TEST(t->vm_count(3) == 0u);
  BOOST_TEST((t->at(pa).state.load() == ConnState::kDead));
  BOOST_TEST(t->reclaim(1000) == 0u);
  BOOST_TEST((t->at(pa).state.load() == ConnState::kFree));
  BOOST_TEST(for_each_count(*t) == 1u);
  BOOST_TEST((ins<F>(*t, 1, ConnState::kTcpSynSent, 3, 3000) == InsertResult::kInserted));
  BOOST_TEST(t->lookup(a.rev()) >= 0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(per_vm_limit_is_exact_and_independent, F, Families) {
  constexpr uint32_t kL = 5, kA = 1, kB = 2;
  auto t = make_table<F>(100, kL, uniform(kForever));
  for (uint32_t i = 0; i < kL; ++i) BOOST_TEST((ins<F>(*t, i, ConnState::kTcpEstablished, kA, 1) == InsertResult::kInserted));
  BOOST_TEST((ins<F>(*t, 10, ConnState::kTcpSynSent, kA, 1) == InsertResult::kQuotaExceeded));
  // As the responder too: a connection to A counts against A.
  BOOST_TEST((ins<F>(*t, 11, ConnState::kTcpSynSent, kNoVmId, 1, nullptr, kA) == InsertResult::kQuotaExceeded));
  for (uint32_t i = 20; i < 20 + kL; ++i)
    BOOST_TEST((ins<F>(*t, i, ConnState::kTcpEstablished, kB, 1) == InsertResult::kInserted));
  BOOST_TEST(t->vm_count(kA) == kL);
  BOOST_TEST(t->vm_count(kB) == kL);
  BOOST_TEST((ins<F>(*t, 0, ConnState::kTcpEstablished, kA, 2) == InsertResult::kExists));
  BOOST_REQUIRE(t->remove(t->lookup(key<F>(2))));
  BOOST_TEST((ins<F>(*t, 10, ConnState::kTcpEstablished, kA, 3) == InsertResult::kInserted));
  BOOST_TEST((ins<F>(*t, 12, ConnState::kTcpEstablished, kA, 3) == InsertResult::kQuotaExceeded));
  BOOST_TEST(t->size() == 2 * kL);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(inbound_half_open_budget, F, Families) {
  FlowTableOptions o = options(100, 100, uniform(kForever));
  o.per_vm_inbound_half_open = 4;
  auto t = make_table<F>(o);
  constexpr uint32_t kVm = 5;
  for (uint32_t i = 0; i < 4; ++i)
    BOOST_REQUIRE((ins<F>(*t, i, ConnState::kTcpSynRecv, kNoVmId, 10 + i, nullptr, kVm) == InsertResult::kInserted));
  BOOST_TEST(t->inbound_half_open(kVm) == 4u);
  // The VM's own outbound connection is not inbound.
  BOOST_TEST((ins<F>(*t, 50, ConnState::kTcpSynSent, kVm, 20) == InsertResult::kInserted));
  BOOST_TEST(t->inbound_half_open(kVm) == 4u);
  // One more inbound: the oldest inbound one (0) is recycled.
  BOOST_TEST((ins<F>(*t, 4, ConnState::kTcpSynRecv, kNoVmId, 30, nullptr, kVm) == InsertResult::kInserted));
  BOOST_TEST(t->inbound_half_open_recycled() == 1u);
  BOOST_TEST(t->lookup(key<F>(0)) == -1);
  BOOST_TEST(count_present<F>(*t, 1, 5) == 4u);
  BOOST_TEST(t->lookup(key<F>(50)) >= 0);
  BOOST_TEST(t->vm_count(kVm) == 5u);
  // Answered: it leaves the budget, and is never the one recycled.
  int32_t p1 = t->lookup(key<F>(1));
  t->at(p1).state.store(ConnState::kTcpEstablished);
  t->mark_answered(p1);
  BOOST_TEST(t->inbound_half_open(kVm) == 3u);
  BOOST_TEST((ins<F>(*t, 5, ConnState::kTcpSynRecv, kNoVmId, 40, nullptr, kVm) == InsertResult::kInserted));
  BOOST_TEST((ins<F>(*t, 6, ConnState::kTcpSynRecv, kNoVmId, 40, nullptr, kVm) == InsertResult::kInserted));
  BOOST_TEST(t->inbound_half_open(kVm) == 4u);
  BOOST_TEST(t->lookup(key<F>(1)) == p1);
  BOOST_TEST(t->lookup(key<F>(2)) == -1);
  BOOST_TEST(t->inbound_half_open_recycled() == 2u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(full_table_reclaims_half_open_never_established, F, Families) {
  for (uint32_t n : {1u, 48u, 1000u}) {
    BOOST_TEST_CONTEXT("capacity " << n) {
      auto t = make_table<F>(n, kNoQuota, uniform(kForever));
      for (uint32_t i = 0; i < n; ++i)
        BOOST_REQUIRE((ins<F>(*t, i, ConnState::kTcpSynSent, 1, 10) == InsertResult::kInserted));
      BOOST_TEST((ins<F>(*t, n, ConnState::kTcpEstablished, 1, 20) == InsertResult::kInserted));
      BOOST_TEST(t->size() == n);
      BOOST_TEST(count_present<F>(*t, 0, n) == n - 1);
      BOOST_TEST(t->half_open_reclaimed() == 1u);
    }
  }
  auto t = make_table<F>(48, kNoQuota, uniform(kForever));
  for (uint32_t i = 0; i < 48; ++i)
    BOOST_REQUIRE((ins<F>(*t, i, ConnState::kTcpEstablished, 1, 10) == InsertResult::kInserted));
  BOOST_TEST((ins<F>(*t, 48, ConnState::kTcpSynSent, 1, 20) == InsertResult::kTableFull));
  BOOST_TEST(count_present<F>(*t, 0, 48) == 48u);
  BOOST_TEST(t->vm_count(1) == 48u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(expiry_per_state, F, Families) {
  Timeouts to = uniform(kForever);
  to.by_state[static_cast<size_t>(ConnState::kTcpSynSent)] = 100;
  to.by_state[static_cast<size_t>(ConnState::kUdpOneWay)] = 50;
  auto t = make_table<F>(100, 100, to);
  for (uint32_t i = 0; i < 3; ++i) BOOST_REQUIRE((ins<F>(*t, i, ConnState::kTcpSynSent, 1, 0) == InsertResult::kInserted));
  for (uint32_t i = 3; i < 5; ++i) BOOST_REQUIRE((ins<F>(*t, i, ConnState::kTcpEstablished, 1, 0) == InsertResult::kInserted));
  for (uint32_t i = 5; i < 9; ++i) BOOST_REQUIRE((ins<F>(*t, i, ConnState::kUdpOneWay, 2, 0) == InsertResult::kInserted));
  const auto& udp = t->at(t->lookup(key<F>(5)));
  BOOST_TEST(t->live(udp, 50));
  BOOST_TEST(!t->live(udp, 51));
  BOOST_TEST(t->reclaim(50) == 0u);
  BOOST_TEST(t->reclaim(60) == 4u);
  BOOST_TEST(t->vm_count(2) == 0u);
  BOOST_TEST(t->reclaim(200) == 3u);
  BOOST_TEST(t->size() == 2u);
  BOOST_TEST(count_present<F>(*t, 3, 5) == 2u);
  BOOST_TEST(t->vm_count(1) == 2u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(flush_all_and_per_vm, F, Families) {
  auto t = make_table<F>(100, 100, uniform(kForever));
  for (uint32_t i = 0; i < 30; ++i)
    BOOST_REQUIRE((ins<F>(*t, i, ConnState::kTcpEstablished, 1 + i % 3, 1) == InsertResult::kInserted));
  const auto vm2 = vm_set({2});
  BOOST_TEST(t->flush(&vm2) == 10u);
  BOOST_TEST(t->size() == 20u);
  BOOST_TEST(t->vm_count(2) == 0u);
  for (uint32_t i = 0; i < 30; ++i) BOOST_TEST((t->lookup(key<F>(i)) >= 0) == (1 + i % 3 != 2), i);
  BOOST_TEST(t->flush() == 20u);
  BOOST_TEST(t->size() == 0u);
  BOOST_TEST(for_each_count(*t) == 0u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(positions_are_recycled, F, Families) {
  constexpr uint32_t kN = 1000;
  auto t = make_table<F>(kN, kN, uniform(kForever));
  for (uint32_t round = 0; round < 16; ++round) {  // far more insertions than key slots
    uint32_t inserted = 0;
    for (uint32_t i = round * kN; i < (round + 1) * kN; ++i)
      inserted += ins<F>(*t, i, ConnState::kTcpEstablished, round % 3, 0) == InsertResult::kInserted;
    BOOST_TEST(inserted == kN);
    BOOST_TEST(t->flush() == kN);
    BOOST_TEST(t->reclaim(0) == 0u);
    BOOST_TEST(t->size() == 0u);
  }
}

// A reader holding a position keeps its slot until it reports quiescent.
BOOST_AUTO_TEST_CASE_TEMPLATE(recycling_waits_for_the_grace_period, F, Families) {
  size_t sz = rte_rcu_qsbr_get_memsize(1);
  auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, sz, RTE_CACHE_LINE_SIZE));
  BOOST_REQUIRE(qs);
  BOOST_REQUIRE(rte_rcu_qsbr_init(qs, 1) == 0);
  {
    auto t = make_table<F>(100, 100, uniform(kForever), qs);
    int32_t p = -1;
    BOOST_REQUIRE((ins<F>(*t, 1, ConnState::kTcpEstablished, 1, 1, &p) == InsertResult::kInserted));
    std::atomic<int> stage{0};
    std::atomic<bool> held_ok{false};
    BOOST_REQUIRE(rte_rcu_qsbr_thread_register(qs, 0) == 0);
    std::thread reader([&] {
      rte_rcu_qsbr_thread_online(qs, 0);
      int32_t mine = t->lookup(key<F>(1));
      stage = 1;
      while (stage.load() < 2) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      held_ok = mine == p && t->at(mine).state.load() == ConnState::kDead && same(t->cold(mine).key, key<F>(1));
      rte_rcu_qsbr_quiescent(qs, 0);
      rte_rcu_qsbr_thread_offline(qs, 0);
    });
    while (stage.load() < 1) std::this_thread::yield();
    BOOST_REQUIRE(t->remove(p));
    stage = 2;
    auto t0 = std::chrono::steady_clock::now();
    t->reclaim(1);
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

BOOST_AUTO_TEST_SUITE(ipv6_keys)

Addr6 a6(std::initializer_list<uint8_t> head, uint8_t last) {
  Addr6 a{};
  size_t i = 0;
  for (uint8_t b : head) a[i++] = b;
  a[15] = last;
  return a;
}

BOOST_AUTO_TEST_CASE(both_directions_one_key) {
  Addr6 x = a6({0x20, 0x01, 0x0d, 0xb8}, 0x10), y = a6({0xfd, 0x00}, 0x01);
  bool lo_f = false, lo_r = true;
  FlowKey6 f = make_flow_key6(17, x.data(), htons(5000), y.data(), htons(53), &lo_f);
  FlowKey6 r = make_flow_key6(17, y.data(), htons(53), x.data(), htons(5000), &lo_r);
  BOOST_TEST(same(f, r));
  BOOST_TEST(lo_f);
  BOOST_TEST(!lo_r);
  BOOST_TEST((f.addr_lo == x));
  BOOST_TEST((f.addr_hi == y));
  BOOST_TEST(f.port_lo == htons(5000));
  BOOST_TEST(f.port_hi == htons(53));
  BOOST_TEST(f.proto == 17);
  for (uint8_t b : f.pad) BOOST_TEST(b == 0);  // hashed: padding is zero
  // Another protocol or port is another key.
  BOOST_TEST(!same(f, make_flow_key6(6, x.data(), htons(5000), y.data(), htons(53))));
  BOOST_TEST(!same(f, make_flow_key6(17, x.data(), htons(5001), y.data(), htons(53))));
}

// Addresses order as 128-bit numbers (byte by byte from the first), whatever the
// other bytes: differing only in the last byte, and only in the first byte with the
// last bytes ordered the other way.
BOOST_AUTO_TEST_CASE(address_order_is_byte_order) {
  struct Case {
    Addr6 lo, hi;
  } cases[] = {
      {a6({0x20, 0x01}, 0x01), a6({0x20, 0x01}, 0x02)},
      {a6({0x20, 0x01}, 0xfe), a6({0x20, 0x01}, 0xff)},
      {a6({0x20, 0x01}, 0xff), a6({0x21, 0x01}, 0x00)},
      {a6({0x7f}, 0x80), a6({0x80}, 0x7f)},
      {a6({0x00}, 0x01), a6({0xff}, 0x00)},
  };
  for (const auto& c : cases) {
    for (bool lo_sends : {true, false}) {
      // The lo address has the higher port: address decides before port.
      bool src_is_lo = !lo_sends;
      FlowKey6 k = lo_sends ? make_flow_key6(6, c.lo.data(), htons(9), c.hi.data(), htons(1), &src_is_lo)
                            : make_flow_key6(6, c.hi.data(), htons(1), c.lo.data(), htons(9), &src_is_lo);
      BOOST_TEST((k.addr_lo == c.lo));
      BOOST_TEST((k.addr_hi == c.hi));
      BOOST_TEST(k.port_lo == htons(9));
      BOOST_TEST(src_is_lo == lo_sends);
    }
  }
  // Equal addresses: by port, in network order as make_flow_key compares them.
  Addr6 s = a6({0xfe, 0x80}, 1);
  bool lo = true;
  FlowKey6 k = make_flow_key6(17, s.data(), htons(80), s.data(), htons(79), &lo);
  BOOST_TEST(!lo);
  BOOST_TEST(k.port_lo == htons(79));
  FlowKey k4 = make_flow_key(17, htonl(1), htons(80), htonl(1), htons(79), &lo);
  BOOST_TEST(k4.port_lo == k.port_lo);
}

BOOST_AUTO_TEST_CASE(fragment_key_keeps_direction_and_id) {
  Addr6 x = a6({0x20, 0x01}, 1), y = a6({0x20, 0x01}, 2);
  uint32_t id = htonl(0x12345678u);
  FlowKey6 k = make_fragment_key6(17, y.data(), x.data(), id);
  BOOST_TEST((k.addr_lo == y));  // source first, not sorted
  BOOST_TEST((k.addr_hi == x));
  uint32_t back = 0;
  std::memcpy(&back, &k.port_lo, 4);
  BOOST_TEST(back == id);
  BOOST_TEST(!same(k, make_fragment_key6(17, x.data(), y.data(), id)));
  BOOST_TEST(!same(k, make_fragment_key6(17, y.data(), x.data(), htonl(0x12345679u))));
  BOOST_TEST(same(k, make_fragment_key6(17, y.data(), x.data(), id)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(shared_quota)

struct Pair {
  std::shared_ptr<VmQuota> q;
  std::unique_ptr<FlowTable> t4;
  std::unique_ptr<FlowTable6> t6;
};
Pair make_tables(uint32_t limit, uint32_t capacity = 100) {
  Pair p;
  p.q = VmQuota::create(16, limit);
  p.t4 = make_table<V4>(options(capacity, limit, uniform(kForever)), nullptr, p.q);
  p.t6 = make_table<V6>(options(capacity, limit, uniform(kForever)), nullptr, p.q);
  return p;
}

// A VM at its limit with connections of one family gets quota-exceeded in the other.
BOOST_AUTO_TEST_CASE(a_vm_limit_counts_both_families) {
  constexpr uint32_t kL = 3, kA = 1, kB = 2;
  Pair p = make_tables(kL);
  BOOST_TEST((p.t4->quota() == p.t6->quota()));
  for (uint32_t i = 0; i < kL; ++i) BOOST_REQUIRE((ins<V4>(*p.t4, i, ConnState::kTcpEstablished, kA, 1) == InsertResult::kInserted));
  BOOST_TEST((ins<V6>(*p.t6, 0, ConnState::kTcpSynSent, kA, 1) == InsertResult::kQuotaExceeded));
  BOOST_TEST((ins<V6>(*p.t6, 1, ConnState::kTcpSynSent, kNoVmId, 1, nullptr, kA) == InsertResult::kQuotaExceeded));
  BOOST_TEST(p.t6->size() == 0u);
  BOOST_TEST(p.q->count(kA) == kL);
  BOOST_TEST(p.t6->vm_count(kA) == kL);  // both tables report the shared count
  // ... and the other way round.
  for (uint32_t i = 0; i < kL; ++i) BOOST_REQUIRE((ins<V6>(*p.t6, i, ConnState::kTcpEstablished, kB, 1) == InsertResult::kInserted));
  BOOST_TEST((ins<V4>(*p.t4, 10, ConnState::kTcpSynSent, kB, 1) == InsertResult::kQuotaExceeded));
  BOOST_TEST(p.t4->size() == kL);
  // Mixed: 2 + 1.
  constexpr uint32_t kC = 3;
  BOOST_TEST((ins<V4>(*p.t4, 20, ConnState::kTcpEstablished, kC, 1) == InsertResult::kInserted));
  BOOST_TEST((ins<V6>(*p.t6, 20, ConnState::kTcpEstablished, kC, 1) == InsertResult::kInserted));
  BOOST_TEST((ins<V4>(*p.t4, 21, ConnState::kTcpEstablished, kC, 1) == InsertResult::kInserted));
  BOOST_TEST((ins<V6>(*p.t6, 21, ConnState::kTcpEstablished, kC, 1) == InsertResult::kQuotaExceeded));
  BOOST_TEST((ins<V4>(*p.t4, 22, ConnState::kTcpEstablished, kC, 1) == InsertResult::kQuotaExceeded));
  // Room given back by one family is taken by the other: remove, expire, flush.
  BOOST_REQUIRE(p.t4->remove(p.t4->lookup(key<V4>(0))));
  BOOST_TEST(p.q->count(kA) == kL - 1);
  BOOST_TEST((ins<V6>(*p.t6, 40, ConnState::kTcpSynSent, kA, 2) == InsertResult::kInserted));
  BOOST_TEST((ins<V6>(*p.t6, 41, ConnState::kTcpSynSent, kA, 2) == InsertResult::kQuotaExceeded));
  const auto b = vm_set({kB});
  BOOST_TEST(p.t6->flush(&b) == kL);
  BOOST_TEST(p.q->count(kB) == 0u);
  for (uint32_t i = 10; i < 10 + kL; ++i) BOOST_TEST((ins<V4>(*p.t4, i, ConnState::kTcpEstablished, kB, 3) == InsertResult::kInserted));
  BOOST_TEST((ins<V6>(*p.t6, 30, ConnState::kTcpEstablished, kB, 3) == InsertResult::kQuotaExceeded));
  // Capacity and the half-open lists stay per table.
  BOOST_TEST(p.t4->size() == kL - 1 + 2 + kL);
  BOOST_TEST(p.t6->size() == 1u + 1u);
}

// Each table's capacity is its own: a full IPv4 table does not refuse IPv6.
BOOST_AUTO_TEST_CASE(capacity_is_per_table) {
  Pair p = make_tables(kNoQuota, 8);
  for (uint32_t i = 0; i < 8; ++i) BOOST_REQUIRE((ins<V4>(*p.t4, i, ConnState::kTcpEstablished, 1, 1) == InsertResult::kInserted));
  BOOST_TEST((ins<V4>(*p.t4, 8, ConnState::kTcpEstablished, 1, 1) == InsertResult::kTableFull));
  for (uint32_t i = 0; i < 8; ++i) BOOST_TEST((ins<V6>(*p.t6, i, ConnState::kTcpEstablished, 1, 1) == InsertResult::kInserted));
  BOOST_TEST(p.q->count(1) == 16u);
}

BOOST_AUTO_TEST_CASE(mismatched_quota_is_refused) {
  auto q = VmQuota::create(8, 10);
  auto more_ids = options(100, 10, uniform(kForever));  // 16 VM ids > 8
  BOOST_TEST(!FlowTable6::create(more_ids, "ft6-bad1", nullptr, q));
  auto o = options(100, 11, uniform(kForever));
  o.max_vm_ids = 8;
  BOOST_TEST(!FlowTable::create(o, "ft6-bad2", nullptr, q));
  o.per_vm_limit = 10;
  auto ok = FlowTable::create(o, "ft6-ok", nullptr, q);
  BOOST_TEST(static_cast<bool>(ok));
}

BOOST_AUTO_TEST_SUITE_END()
