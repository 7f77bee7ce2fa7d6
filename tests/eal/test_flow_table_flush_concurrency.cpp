// The connection table while the control thread flushes, lists and expires under two
// writers (catalogue L06: test_flow_table_concurrency.cpp flushes and lists only after
// its concurrent phase). The writers insert more connections than the table holds, so
// only the flushes, the expiry and the capacity rule make room.
#include <boost/test/unit_test.hpp>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "flow_table_helpers.hpp"

using namespace sgfw::flow;
using namespace flow_test;

namespace {

constexpr unsigned kWriters = 2;
constexpr uint32_t kPerWriter = 30000;    // writer w's connections: w * kPerWriter + [0, kPerWriter)
constexpr uint32_t kCapacity = 1u << 13;  // a quarter of what the writers insert
constexpr uint64_t kNow = 1000;           // logical clock: UDP one-way expires, nothing else does

// Every fifth connection is UDP one-way (half-open, expires at kNow); the rest TCP
// established (never expires).
ConnState state_of(uint32_t i) { return i % 5 == 0 ? ConnState::kUdpOneWay : ConnState::kTcpEstablished; }

// The index of connection `c` (conn(i)'s source address holds i), or -1 if it is none.
int64_t index_of(const FlowCold& c) {
  const uint32_t a = ntohl(c.key.addr_lo == htonl(0xc0a80001u) ? c.key.addr_hi : c.key.addr_lo);
  const uint32_t i = a & 0xffffffu;
  return i < kWriters * kPerWriter && same(c.key, key(i)) ? int64_t{i} : -1;
}

void flush_round(unsigned iteration) {
  size_t sz = rte_rcu_qsbr_get_memsize(kWriters);
  auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, sz, RTE_CACHE_LINE_SIZE));
  BOOST_REQUIRE(qs);
  BOOST_REQUIRE(rte_rcu_qsbr_init(qs, kWriters) == 0);
  Timeouts to = uniform(kForever);
  to.by_state[static_cast<size_t>(ConnState::kUdpOneWay)] = 10;
  auto t = make_table(kCapacity, kNoQuota, to, qs);

  std::atomic<uint32_t> inserted{0}, errors{0}, unregistered{0};
  std::atomic<uint32_t> writers_left{kWriters};
  auto writer = [&](unsigned w) {
    if (rte_thread_register() != 0 || rte_lcore_id() == LCORE_ID_ANY) {
      ++unregistered;
      --writers_left;
      return;
    }
    rte_rcu_qsbr_thread_register(qs, w);
    rte_rcu_qsbr_thread_online(qs, w);
    for (uint32_t j = 0; j < kPerWriter; ++j) {
      const uint32_t i = w * kPerWriter + j;
      const Conn c = conn(i);
      for (;;) {
        int32_t p = -1;
        InsertResult r = insert_conn(*t, c.fwd(), c.src, c.sport, state_of(i), 1 + w, 0, 0, 0, 0, &p);
        if (r == InsertResult::kTableFull) {  // positions wait for a flush or a grace period
          rte_rcu_qsbr_quiescent(qs, w);
          std::this_thread::yield();
          continue;
        }
        if (r == InsertResult::kInserted && same(t->cold(p).key, key(i))) ++inserted;
        else ++errors;  // each connection is new exactly once
        break;
      }
      if (j % 16 == 0) rte_rcu_qsbr_quiescent(qs, w);
    }
    rte_rcu_qsbr_thread_offline(qs, w);
    rte_rcu_qsbr_thread_unregister(qs, w);
    --writers_left;
  };

  // A listing: every connection in it is one of the writers', listed once, at most
  // kCapacity. Returns how many it listed.
  uint32_t bad_listings = 0;
  auto list = [&] {
    std::vector<uint32_t> seen;
    bool stranger = false;
    t->for_each([&](int32_t, const FlowEntry&, const FlowCold& c) {
      int64_t i = index_of(c);
      if (i < 0) stranger = true;
      else seen.push_back(static_cast<uint32_t>(i));
    });
    std::sort(seen.begin(), seen.end());
    const bool dup = std::adjacent_find(seen.begin(), seen.end()) != seen.end();
    if (stranger || dup || seen.size() > kCapacity) ++bad_listings;
    return static_cast<uint32_t>(seen.size());
  };

  std::vector<std::thread> writers;
  for (unsigned w = 0; w < kWriters; ++w) writers.emplace_back(writer, w);
  // Control thread (this one, not an RCU reader): list, expire, and flush every third
  // pass, without pause.
  size_t flushed = 0, expired = 0, passes = 0;
  while (writers_left.load() != 0) {
    list();
    expired += t->reclaim(kNow, passes % 2 == 0 ? 1 : 4);
    if (passes % 3 == 0) flushed += t->flush();
    ++passes;
  }
  for (auto& th : writers) th.join();
  expired += t->reclaim(kNow);
  BOOST_TEST_MESSAGE("flush round " << iteration << ": " << passes << " passes, " << flushed << " flushed, "
                                    << expired << " expired, " << t->half_open_reclaimed() << " half-open reclaimed");

  BOOST_REQUIRE(unregistered.load() == 0u);
  BOOST_TEST(errors.load() == 0u);
  BOOST_TEST(bad_listings == 0u);
  BOOST_TEST(passes > 3u);
  BOOST_TEST(inserted.load() == kWriters * kPerWriter);
  // Every connection inserted is either still there or left exactly once: flushed,
  // expired, or reclaimed as the oldest half-open one at capacity.
  const uint32_t listed = list();
  BOOST_TEST(listed == t->size());
  BOOST_TEST(t->vm_count(1) + t->vm_count(2) == t->size());
  BOOST_TEST(inserted.load() == flushed + expired + t->half_open_reclaimed() + t->size());
  // What is left is TCP (the UDP ones expired at kNow) and a flush empties the table.
  uint32_t udp_left = 0;
  t->for_each([&](int32_t, const FlowEntry& e, const FlowCold&) {
    udp_left += e.state.load() == ConnState::kUdpOneWay;
  });
  BOOST_TEST(udp_left == 0u);
  BOOST_TEST(t->flush() == listed);
  BOOST_TEST(t->size() == 0u);
  t.reset();
  rte_free(qs);
}

}  // namespace

BOOST_AUTO_TEST_CASE(flush_list_and_expiry_beside_two_writers) {
  for (unsigned i = 0; i < 5; ++i) {
    BOOST_TEST_CONTEXT("round " << i) { flush_round(i); }
  }
}
