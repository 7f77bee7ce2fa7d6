// The connection table's deferred half-open listing (insert with a LinkLater, then
// link_half_open: a worker lists a burst's new connections under one lock at the end of
// the burst; docs/design/flow-table.md, "Half-open lists"). What a full table reclaims
// must be exactly what it would be with immediate listing, in the same order, whatever
// happened to a connection between its insert and its listing; and no position is ever
// linked twice.
#include <boost/test/unit_test.hpp>

#include "flow_table_helpers.hpp"

using namespace sgfw::flow;
using namespace flow_test;

BOOST_AUTO_TEST_SUITE(link_later)

namespace {

InsertResult ins_later(FlowTable& t, uint32_t i, ConnState s, uint64_t now, LinkLater& later, int32_t* pos = nullptr) {
  return ins(t, i, s, 1, now, pos, &later);
}

// What the packet path does when a packet moves a connection to state `to`.
void move_to(FlowTable& t, int32_t pos, ConnState to) {
  ConnState s = t.at(pos).state.load();
  BOOST_REQUIRE(t.at(pos).state.compare_exchange_strong(s, to));
  if (!is_established(s) && is_established(to)) t.mark_answered(pos);
  else if (is_established(s) && !is_established(to)) t.mark_closed(pos);
}

}  // namespace

// Until they are listed, a burst's new connections cannot be reclaimed; once listed,
// the oldest goes first.
BOOST_AUTO_TEST_CASE(listed_at_the_end_of_the_burst_in_creation_order) {
  auto t = make_table(4, kNoQuota, uniform(kForever));
  LinkLater later;
  for (uint32_t i = 0; i < 4; ++i)
    BOOST_REQUIRE((ins_later(*t, i, ConnState::kUdpOneWay, 10, later) == InsertResult::kInserted));
  BOOST_TEST(later.n == 4u);
  BOOST_TEST((ins(*t, 4, ConnState::kUdpOneWay, 1, 11) == InsertResult::kTableFull));
  t->link_half_open(later);
  BOOST_TEST(later.n == 0u);
  for (uint32_t i = 4; i < 8; ++i) {
    BOOST_TEST_CONTEXT("insert " << i) {
      BOOST_TEST((ins(*t, i, ConnState::kUdpOneWay, 1, 12) == InsertResult::kInserted));
      BOOST_TEST(count_present(*t, 0, i - 3) == 0u);  // 0 .. i-4 reclaimed, oldest first
      BOOST_TEST(count_present(*t, i - 3, i + 1) == 4u);
    }
  }
  BOOST_TEST(t->half_open_reclaimed() == 4u);
}

// Closed (a TCP reset in the same burst lists it at once) before the deferred listing:
// listed once, so every later reclaim finds the list intact.
BOOST_AUTO_TEST_CASE(closed_before_its_listing_is_listed_once) {
  auto t = make_table(3, kNoQuota, uniform(kForever));
  LinkLater later;
  int32_t p = -1;
  BOOST_REQUIRE((ins_later(*t, 0, ConnState::kTcpSynSent, 10, later, &p) == InsertResult::kInserted));
  move_to(*t, p, ConnState::kTcpEstablished);
  move_to(*t, p, ConnState::kTcpClosed);  // joins the list now
  t->link_half_open(later);               // already there: not linked again
  for (uint32_t i = 1; i < 3; ++i) BOOST_REQUIRE((ins(*t, i, ConnState::kTcpSynSent, 1, 11) == InsertResult::kInserted));
  for (uint32_t i = 3; i < 9; ++i) {
    BOOST_TEST_CONTEXT("insert " << i) {
      BOOST_TEST((ins(*t, i, ConnState::kTcpSynSent, 1, 12) == InsertResult::kInserted));
      BOOST_TEST(t->lookup(key(i - 3)) < 0);  // the oldest listed one went
      BOOST_TEST(count_present(*t, i - 2, i + 1) == 3u);
    }
  }
  BOOST_TEST(t->size() == 3u);
}

// Answered or removed before the listing: not listed at all (an established connection
// is never reclaimed; a removed one's position is not linked).
BOOST_AUTO_TEST_CASE(answered_or_removed_before_its_listing_is_not_listed) {
  auto t = make_table(2, kNoQuota, uniform(kForever));
  LinkLater later;
  int32_t answered = -1, removed = -1;
  BOOST_REQUIRE((ins_later(*t, 0, ConnState::kUdpOneWay, 10, later, &answered) == InsertResult::kInserted));
  BOOST_REQUIRE((ins_later(*t, 1, ConnState::kUdpOneWay, 10, later, &removed) == InsertResult::kInserted));
  move_to(*t, answered, ConnState::kUdpTwoWay);
  BOOST_REQUIRE(t->remove(removed));
  t->link_half_open(later);
  BOOST_TEST((ins(*t, 2, ConnState::kUdpOneWay, 1, 11) == InsertResult::kInserted));
  // Full: the only half-open one is 2; the answered one stays.
  BOOST_TEST((ins(*t, 3, ConnState::kUdpOneWay, 1, 12) == InsertResult::kInserted));
  BOOST_TEST(t->lookup(key(0)) >= 0);
  BOOST_TEST(t->lookup(key(2)) < 0);
  BOOST_TEST(t->lookup(key(3)) >= 0);
  BOOST_TEST(t->half_open_reclaimed() == 1u);
}

// Two workers: A's compare-exchange answers a connection, then B's closes it before A
// has taken it off the half-open list. B's listing must not link it a second time (the
// list would loop on itself); A then takes it off, and the list stays whole.
BOOST_AUTO_TEST_CASE(closed_by_another_worker_before_its_answerer_unlisted_it) {
  auto t = make_table(3, kNoQuota, uniform(kForever));
  int32_t p = -1;
  BOOST_REQUIRE((ins(*t, 0, ConnState::kTcpSynSent, 1, 10, &p) == InsertResult::kInserted));  // listed
  ConnState s = ConnState::kTcpSynSent;
  BOOST_REQUIRE(t->at(p).state.compare_exchange_strong(s, ConnState::kTcpEstablished));  // A, not yet unlisted
  s = ConnState::kTcpEstablished;
  BOOST_REQUIRE(t->at(p).state.compare_exchange_strong(s, ConnState::kTcpClosed));  // B
  t->mark_closed(p);    // B: still listed, so not linked again
  t->mark_answered(p);  // A: off the list
  for (uint32_t i = 1; i < 3; ++i) BOOST_REQUIRE((ins(*t, i, ConnState::kTcpSynSent, 1, 11) == InsertResult::kInserted));
  for (uint32_t i = 3; i < 7; ++i) {
    BOOST_TEST_CONTEXT("insert " << i) {
      BOOST_TEST((ins(*t, i, ConnState::kTcpSynSent, 1, 12) == InsertResult::kInserted));
      BOOST_TEST(t->lookup(key(0)) >= 0);  // closed but unlisted: it expires, it is not reclaimed
      BOOST_TEST(t->lookup(key(i - 2)) < 0);
      BOOST_TEST(t->size() == 3u);
    }
  }
}

// More new connections than a LinkLater holds: the rest are listed at once, and the
// order of the list is still creation order for the ones that waited.
BOOST_AUTO_TEST_CASE(a_full_batch_lists_the_rest_at_once) {
  constexpr uint32_t kN = LinkLater::kMax + 8;
  auto t = make_table(kN, kNoQuota, uniform(kForever));
  LinkLater later;
  for (uint32_t i = 0; i < kN; ++i)
    BOOST_REQUIRE((ins_later(*t, i, ConnState::kUdpOneWay, 10, later) == InsertResult::kInserted));
  BOOST_TEST(later.n == LinkLater::kMax);
  // The 8 listed at once are the only reclaimable ones before the batch is listed.
  for (uint32_t i = kN; i < kN + 8; ++i) BOOST_TEST((ins(*t, i, ConnState::kTcpEstablished, 1, 11) == InsertResult::kInserted));
  BOOST_TEST(count_present(*t, LinkLater::kMax, kN) == 0u);
  BOOST_TEST((ins(*t, kN + 8, ConnState::kTcpEstablished, 1, 11) == InsertResult::kTableFull));
  t->link_half_open(later);
  BOOST_TEST((ins(*t, kN + 8, ConnState::kTcpEstablished, 1, 12) == InsertResult::kInserted));
  BOOST_TEST(t->lookup(key(0)) < 0);
  BOOST_TEST(count_present(*t, 1, LinkLater::kMax) == LinkLater::kMax - 1);
}

BOOST_AUTO_TEST_SUITE_END()
