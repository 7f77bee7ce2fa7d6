// The connection table's burst inserts (insert_begin, then insert_finish for each:
// docs/design/flow-table.md, "Burst inserts"): a burst of new connections must end
// exactly as inserting them one at a time would (results, connections present, counts,
// quotas, inbound budgets, recycling), and no insert needs an lcore id.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "flow_table_helpers.hpp"

using namespace sgfw::flow;
using namespace flow_test;

BOOST_AUTO_TEST_SUITE(burst_insert)

namespace {

constexpr uint32_t kVms = 4;

std::unique_ptr<FlowTable> make(uint32_t capacity, uint32_t per_vm_limit, uint32_t inbound_budget) {
  static unsigned n = 0;
  FlowTableOptions o;
  o.capacity = capacity;
  o.per_vm_limit = per_vm_limit;
  o.per_vm_inbound_half_open = inbound_budget;
  o.max_vm_ids = kVms;
  o.timeouts = uniform(kForever);
  auto t = FlowTable::create(o, "ftb" + std::to_string(n++), nullptr);
  if (!t) BOOST_FAIL("FlowTable::create: " << t.error().message);
  return std::move(*t);
}

NewConnection new_conn(uint32_t i, uint32_t orig_vm, uint32_t resp_vm, ConnState s) {
  Conn k = conn(i);
  NewConnection c;
  c.key = k.fwd();
  c.orig_is_lo = c.key.addr_lo == k.src && c.key.port_lo == k.sport;
  c.state = s;
  c.orig_vm = orig_vm;
  c.resp_vm = resp_vm;
  c.generation = 1;
  return c;
}

// The burst through insert_begin / insert_finish, as a worker's stage 4 does.
std::vector<InsertResult> insert_burst(FlowTable& t, const std::vector<NewConnection>& cs, uint64_t now,
                                       std::vector<int32_t>* pos = nullptr) {
  std::vector<FlowTable::PendingInsert> burst(cs.size());
  std::vector<FlowTable::PendingInsert*> ptrs;
  for (size_t i = 0; i < cs.size(); ++i) {
    burst[i].c = cs[i];
    ptrs.push_back(&burst[i]);
  }
  LinkLater later;
  t.insert_begin(ptrs.data(), static_cast<uint32_t>(ptrs.size()), now);
  std::vector<InsertResult> r;
  for (auto& p : burst) {
    if (p.result == InsertResult::kInserted) t.insert_finish(p, now, later);
    r.push_back(p.result);
    if (pos) pos->push_back(p.pos);
  }
  t.link_half_open(later);
  return r;
}

// The same burst one insert at a time (deferred listing, as before burst inserts).
std::vector<InsertResult> insert_one_by_one(FlowTable& t, const std::vector<NewConnection>& cs, uint64_t now) {
  LinkLater later;
  std::vector<InsertResult> r;
  for (const auto& c : cs) {
    int32_t p = -1;
    r.push_back(t.insert(c, now, &p, later));
  }
  t.link_half_open(later);
  return r;
}

// What a packet answering the connection of key `k` does (half-open -> established).
void answer(FlowTable& t, const FlowKey& k) {
  int32_t p = t.lookup(k);
  if (p < 0) return;
  ConnState s = t.at(p).state.load();
  if (is_established(s) || s == ConnState::kDead || s == ConnState::kFree) return;
  ConnState to = s == ConnState::kUdpOneWay ? ConnState::kUdpTwoWay : ConnState::kTcpEstablished;
  if (t.at(p).state.compare_exchange_strong(s, to)) t.mark_answered(p);
}

void remove_key(FlowTable& t, const FlowKey& k) {
  int32_t p = t.lookup(k);
  if (p >= 0) t.remove(p, EndReason::kRevoked);
}

void expect_same_tables(const FlowTable& a, const FlowTable& b, uint32_t keys) {
  BOOST_TEST(a.size() == b.size());
  for (uint32_t vm = 0; vm < kVms; ++vm) {
    BOOST_TEST_CONTEXT("vm " << vm) {
      BOOST_TEST(a.vm_count(vm) == b.vm_count(vm));
      BOOST_TEST(a.inbound_half_open(vm) == b.inbound_half_open(vm));
    }
  }
  BOOST_TEST(a.inbound_half_open_recycled() == b.inbound_half_open_recycled());
  BOOST_TEST(a.half_open_reclaimed() == b.half_open_reclaimed());
  size_t differ = 0;
  for (uint32_t i = 0; i < keys; ++i) {
    int32_t pa = a.lookup(key(i)), pb = b.lookup(key(i));
    if ((pa >= 0) != (pb >= 0)) ++differ;
    else if (pa >= 0 && a.at(pa).state.load() != b.at(pb).state.load()) ++differ;
  }
  BOOST_TEST(differ == 0u);
}

}  // namespace

// Random bursts of connections that do not exist (some twice in a burst; keys reused
// once removed) against small limits, with answers and removals between bursts: the
// two tables never differ.
BOOST_AUTO_TEST_CASE(burst_matches_one_at_a_time) {
  const uint32_t kKeys = 400;
  uint64_t checked = 0, recycled = 0, full = 0, over_quota = 0;
  for (uint32_t budget : {2u, 5u, 40u}) {
    for (unsigned seed = 1; seed <= 6; ++seed) {
      std::mt19937 rng(seed * 7919 + budget);
      auto a = make(120, 40, budget), b = make(120, 40, budget);
      for (int round = 0; round < 60; ++round) {
        BOOST_TEST_CONTEXT("budget " << budget << " seed " << seed << " round " << round) {
          std::set<uint32_t> used;
          std::vector<NewConnection> cs;
          const size_t n = 1 + rng() % 32;
          while (cs.size() < n) {
            uint32_t i = static_cast<uint32_t>(rng() % kKeys);
            // As on the packet path, new connections are those without one; a burst may
            // carry one twice (its first packets).
            if (a->lookup(key(i)) >= 0) continue;
            if (!used.insert(i).second && rng() % 4 != 0) continue;
            uint32_t orig = rng() % 3 == 0 ? kNoVmId : static_cast<uint32_t>(rng() % kVms);
            uint32_t resp = rng() % 2 == 0 ? kNoVmId : static_cast<uint32_t>(rng() % kVms);
            if (resp == orig) resp = kNoVmId;
            cs.push_back(new_conn(i, orig, resp, rng() % 2 ? ConnState::kTcpSynSent : ConnState::kUdpOneWay));
          }
          const uint64_t now = 100 + static_cast<uint64_t>(round);
          std::vector<InsertResult> ra = insert_one_by_one(*a, cs, now), rb = insert_burst(*b, cs, now);
          BOOST_TEST(ra == rb, boost::test_tools::per_element());
          for (InsertResult r : ra) {
            full += r == InsertResult::kTableFull;
            over_quota += r == InsertResult::kQuotaExceeded;
          }
          expect_same_tables(*a, *b, kKeys);
          // Between bursts: some connections answered, some removed, on both tables.
          for (int k = 0; k < 24; ++k) {
            uint32_t i = static_cast<uint32_t>(rng() % kKeys);
            if (rng() % 6 != 0) {
              answer(*a, key(i));
              answer(*b, key(i));
            } else {
              remove_key(*a, key(i));
              remove_key(*b, key(i));
            }
          }
          ++checked;
        }
      }
      recycled += a->inbound_half_open_recycled();
    }
  }
  // The cases exercised every limit.
  BOOST_TEST_MESSAGE("recycled " << recycled << " table-full " << full << " quota " << over_quota);
  BOOST_TEST(checked == 3u * 6u * 60u);
  BOOST_TEST(recycled > 100u);
  BOOST_TEST(full > 100u);
  BOOST_TEST(over_quota > 100u);
}

// A flood burst larger than the VM's inbound budget: the burst's own oldest are
// recycled, so exactly the budget's newest remain (each created, then recycled).
BOOST_AUTO_TEST_CASE(inbound_budget_smaller_than_a_burst_holds_exactly) {
  auto t = make(1000, 1000, 3);
  std::vector<NewConnection> cs;
  for (uint32_t i = 0; i < 32; ++i) cs.push_back(new_conn(i, kNoVmId, 1, ConnState::kTcpSynSent));
  std::vector<InsertResult> r = insert_burst(*t, cs, 10);
  BOOST_TEST(std::count(r.begin(), r.end(), InsertResult::kInserted) == 32);
  BOOST_TEST(t->size() == 3u);
  BOOST_TEST(t->inbound_half_open(1) == 3u);
  BOOST_TEST(t->vm_count(1) == 3u);
  BOOST_TEST(t->inbound_half_open_recycled() == 29u);
  BOOST_TEST(count_present(*t, 0, 29) == 0u);
  BOOST_TEST(count_present(*t, 29, 32) == 3u);
  BOOST_TEST(for_each_count(*t) == 3u);
}

// The same connection twice in one burst: created once, the second finds it.
BOOST_AUTO_TEST_CASE(a_connection_twice_in_a_burst_exists_the_second_time) {
  auto t = make(100, 100, 100);
  std::vector<NewConnection> cs = {new_conn(7, 0, 1, ConnState::kUdpOneWay), new_conn(8, 0, 1, ConnState::kUdpOneWay),
                                   new_conn(7, 0, 1, ConnState::kUdpOneWay)};
  std::vector<int32_t> pos;
  std::vector<InsertResult> r = insert_burst(*t, cs, 10, &pos);
  BOOST_TEST((r[0] == InsertResult::kInserted && r[1] == InsertResult::kInserted && r[2] == InsertResult::kExists));
  BOOST_TEST(pos[2] == pos[0]);
  // Then both again, in another burst: they exist.
  pos.clear();
  r = insert_burst(*t, {cs[1], cs[0]}, 11, &pos);
  BOOST_TEST((r[0] == InsertResult::kExists && r[1] == InsertResult::kExists));
  BOOST_TEST(pos[1] == t->lookup(key(7)));
  // What the second and later tries reserved was given back.
  BOOST_TEST(t->size() == 2u);
  BOOST_TEST(t->vm_count(0) == 2u);
  BOOST_TEST(t->vm_count(1) == 2u);
  BOOST_TEST(t->inbound_half_open(1) == 2u);
  BOOST_TEST(for_each_count(*t) == 2u);
}

// A connection's two first packets in one burst at a limit: the second finds the
// first, as one-at-a-time inserts do, instead of being refused or reclaiming room.
BOOST_AUTO_TEST_CASE(a_connection_twice_in_a_burst_at_a_limit_exists) {
  // The VM's quota: one connection left.
  auto q = make(100, 3, 100);
  BOOST_REQUIRE(insert_burst(*q, {new_conn(1, 0, kNoVmId, ConnState::kUdpOneWay),
                                  new_conn(2, 0, kNoVmId, ConnState::kUdpOneWay)}, 10) ==
                std::vector<InsertResult>(2, InsertResult::kInserted));
  NewConnection k = new_conn(3, 0, kNoVmId, ConnState::kUdpOneWay);
  BOOST_TEST((insert_burst(*q, {k, k}, 11) ==
              std::vector<InsertResult>{InsertResult::kInserted, InsertResult::kExists}));
  BOOST_TEST(q->vm_count(0) == 3u);
  // The table's capacity: one place left, one half-open connection that room could be
  // made from.
  auto c = make(3, 100, 100);
  BOOST_REQUIRE(insert_burst(*c, {new_conn(1, 0, kNoVmId, ConnState::kUdpOneWay),
                                  new_conn(2, 0, kNoVmId, ConnState::kUdpOneWay)}, 10) ==
                std::vector<InsertResult>(2, InsertResult::kInserted));
  k = new_conn(3, 0, kNoVmId, ConnState::kUdpOneWay);
  BOOST_TEST((insert_burst(*c, {k, k}, 11) ==
              std::vector<InsertResult>{InsertResult::kInserted, InsertResult::kExists}));
  BOOST_TEST(c->half_open_reclaimed() == 0u);
  BOOST_TEST(count_present(*c, 1, 4) == 3u);
  // The responder VM's inbound budget: one place left.
  auto b = make(100, 100, 2);
  BOOST_REQUIRE(insert_burst(*b, {new_conn(1, kNoVmId, 1, ConnState::kTcpSynSent)}, 10) ==
                std::vector<InsertResult>(1, InsertResult::kInserted));
  k = new_conn(3, kNoVmId, 1, ConnState::kTcpSynSent);
  BOOST_TEST((insert_burst(*b, {k, k}, 11) ==
              std::vector<InsertResult>{InsertResult::kInserted, InsertResult::kExists}));
  BOOST_TEST(b->inbound_half_open_recycled() == 0u);
  BOOST_TEST(b->inbound_half_open(1) == 2u);
  BOOST_TEST(count_present(*b, 1, 4) == 2u);
}

// A VM's quota binds inside a burst: its first connections in order, then refusals.
BOOST_AUTO_TEST_CASE(quota_binds_inside_a_burst_in_order) {
  auto t = make(1000, 10, 1000);
  std::vector<NewConnection> cs;
  for (uint32_t i = 0; i < 32; ++i) cs.push_back(new_conn(i, 2, kNoVmId, ConnState::kUdpOneWay));
  std::vector<InsertResult> r = insert_burst(*t, cs, 10);
  for (uint32_t i = 0; i < 32; ++i)
    BOOST_TEST((r[i] == (i < 10 ? InsertResult::kInserted : InsertResult::kQuotaExceeded)), "insert " << i);
  BOOST_TEST(t->vm_count(2) == 10u);
  BOOST_TEST(count_present(*t, 0, 10) == 10u);
}

// rte_hash's multi-writer option indexed a per-lcore cache with rte_lcore_id(), so a
// thread that was not an EAL lcore crashed on its first insert. The table's own
// writer lock needs no lcore id.
BOOST_AUTO_TEST_CASE(a_thread_without_an_lcore_id_inserts_and_removes) {
  auto t = make(5000, 5000, 5000);
  uint32_t inserted = 0, removed = 0;
  unsigned lcore = 0;
  std::thread th([&] {
    lcore = rte_lcore_id();
    for (uint32_t i = 0; i < 1000; ++i) {
      int32_t p = -1;
      inserted += t->insert(new_conn(i, 0, kNoVmId, ConnState::kUdpOneWay), 10, &p) == InsertResult::kInserted;
    }
    std::vector<NewConnection> cs;
    for (uint32_t i = 1000; i < 1032; ++i) cs.push_back(new_conn(i, 0, kNoVmId, ConnState::kUdpOneWay));
    std::vector<InsertResult> r = insert_burst(*t, cs, 10);
    inserted += static_cast<uint32_t>(std::count(r.begin(), r.end(), InsertResult::kInserted));
    for (uint32_t i = 0; i < 1032; i += 2) removed += t->remove(t->lookup(key(i)));
  });
  th.join();
  BOOST_TEST(lcore == LCORE_ID_ANY);
  BOOST_TEST(inserted == 1032u);
  BOOST_TEST(removed == 516u);
  BOOST_TEST(t->size() == 516u);
}

BOOST_AUTO_TEST_SUITE_END()
