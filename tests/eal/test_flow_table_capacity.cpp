// The connection table: exact capacity and eviction order, per-VM quotas, flush and
// position recycling (docs/design/flow-table.md; catalogue L01, L02, L03, L05).
#include <boost/test/unit_test.hpp>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <chrono>
#include <set>
#include <thread>
#include "flow_table_helpers.hpp"

using namespace sgfw::flow;
using namespace flow_test;

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

// Sweeping (docs/design/flow-table.md): a block of 64 positions is marked while it may
// hold a connection and unmarked by the first sweep that finds it wholly free; a
// sliced reclaim covers the whole table in `slices` calls.
BOOST_AUTO_TEST_CASE(sweeps_mark_exactly_the_blocks_in_use) {
  constexpr uint32_t kN = 300;
  Timeouts to = uniform(kForever);
  to.by_state[static_cast<size_t>(ConnState::kUdpOneWay)] = 10;
  auto t = make_table(4 * kN, kNoQuota, to);
  BOOST_TEST(t->occupied_blocks() == 0u);
  for (uint32_t round = 0; round < 3; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      std::set<int32_t> blocks;
      for (uint32_t i = round * kN; i < (round + 1) * kN; ++i) {
        int32_t pos = -1;
        BOOST_REQUIRE((ins(*t, i, ConnState::kUdpOneWay, 1, 0, &pos) == InsertResult::kInserted));
        blocks.insert(pos >> 6);
      }
      BOOST_TEST(t->occupied_blocks() == blocks.size());
      BOOST_TEST(for_each_count(*t) == kN);
      BOOST_TEST(t->reclaim(5) == 0u);  // nothing expired yet: every block stays marked
      BOOST_TEST(t->occupied_blocks() == blocks.size());
      // Expired: a sliced sweep finds every one of them over `slices` calls, no more.
      const uint32_t slices = round + 2;
      size_t expired = 0;
      for (uint32_t c = 0; c < slices; ++c) expired += t->reclaim(100, slices);
      BOOST_TEST(expired == kN);
      BOOST_TEST(t->size() == 0u);
      // The positions were recycled at the end of each call; the next sweep finds the
      // blocks free and unmarks them.
      BOOST_TEST(t->reclaim(100) == 0u);
      BOOST_TEST(t->occupied_blocks() == 0u);
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
