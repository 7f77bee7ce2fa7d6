// The connection table under two writers, two readers and reclaim (catalogue L06).
#include <boost/test/unit_test.hpp>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <random>
#include <set>
#include <thread>
#include "flow_table_helpers.hpp"

using namespace sgfw::flow;
using namespace flow_test;

// L06: two writers and two readers on the table while the control thread reclaims
// (expires and recycles) without pause. Writers: disjoint and overlapping keys (the
// overlap from the reply direction), insert/remove churn, and lockstep batches where
// both insert and then both remove the very same keys at the same moment. Readers:
// bulk lookups holding the positions for a while before reporting quiescent.
// The lockstep batches go through the burst inserts (insert_begin, insert_finish), as
// a worker's stage 4 does: both writers begin the same keys at once. Writers are
// registered as EAL threads (rte_thread_register), as the workers are; the table needs
// no lcore id (test_flow_table_burst.cpp).
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
    // Keys [from, to) in bursts of 32 (the worker's stage 4); a key the full table
    // refused is retried alone once a grace period may have freed slots.
    auto insert_bursts = [&](uint32_t from, uint32_t to, ConnState s, bool reply_side) {
      for (uint32_t lo = from; lo < to; lo += 32) {
        FlowTable::PendingInsert burst[32];
        FlowTable::PendingInsert* ptrs[32];
        const uint32_t n = std::min<uint32_t>(32, to - lo);
        for (uint32_t j = 0; j < n; ++j) {
          Conn c = conn(lo + j);
          NewConnection& nc = burst[j].c;
          nc.key = reply_side ? c.rev() : c.fwd();
          const uint32_t orig = reply_side ? c.dst : c.src;
          const uint16_t orig_port = reply_side ? c.dport : c.sport;
          nc.orig_is_lo = nc.key.addr_lo == orig && nc.key.port_lo == orig_port;
          nc.state = s;
          nc.orig_vm = vm_of(lo + j);
          nc.generation = w;
          ptrs[j] = &burst[j];
        }
        LinkLater later;
        t->insert_begin(ptrs, n, 0);
        std::vector<uint32_t> refused;  // retried once the burst is finished and listed
        for (uint32_t j = 0; j < n; ++j) {
          const uint32_t i = lo + j;
          const InsertResult r = burst[j].result;
          if (r == InsertResult::kInserted) t->insert_finish(burst[j], 0, later);
          if (r == InsertResult::kTableFull) refused.push_back(i);
          else if (r == InsertResult::kInserted) ++inserted[i];
          else if (r == InsertResult::kExists) ++existed[i];
          else ++errors;
          if (r == InsertResult::kInserted && !same(t->cold(burst[j].pos).key, keys[i])) ++errors;
        }
        t->link_half_open(later);
        tick();
        for (uint32_t i : refused) insert(i, s, reply_side);
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
      insert_bursts(base, base + kBatch, ConnState::kTcpSynSent, reply_side);
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
  // Control thread (this one, lcore 0, not an RCU reader): reclaim without pause, whole
  // sweeps and sliced ones in turn (each unmarks the blocks it finds free while the
  // writers take positions in them: for_each below finds every connection only if no
  // block holding one was left unmarked).
  size_t expired = 0, passes = 0;
  bool over_capacity = false;
  while (!writers_done.load(std::memory_order_acquire)) {
    expired += t->reclaim(kNow, passes % 3 == 0 ? 1 : 3);
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

