// The worker's receive-ahead (lib/dataplane/rx_ahead.hpp): every packet is judged
// exactly once and in the order received; a burst that did not fill is judged in the
// poll that received it; a full burst is judged at the next poll together with what
// that poll received as its `next`; drain() judges what is still held; each poll
// reports what it received and what it judged (a poll that received nothing may judge
// a held burst: the worker counts it busy). Packets are fake pointers: never read.
#define BOOST_TEST_MODULE rx_ahead
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

#include "dataplane/rx_ahead.hpp"

using sgfw::dataplane::Polled;
using sgfw::dataplane::RxAhead;

namespace {

constexpr uint16_t kB = 8;

rte_mbuf* packet(uintptr_t id) { return reinterpret_cast<rte_mbuf*>(id); }
uintptr_t id_of(const rte_mbuf* m) { return reinterpret_cast<uintptr_t>(m); }

struct Judged {
  unsigned poll;                 // the poll (or drain: ~0u) that judged it
  std::vector<uintptr_t> pkts;   // ids
  std::vector<uintptr_t> next;   // ids passed as next
};

// Polls `sizes` (one rx result each), then drains. Packet ids count from 1.
struct Run {
  std::vector<unsigned> received_at;  // per packet id - 1: the poll that received it
  std::vector<Judged> judged;
  std::vector<uint16_t> held_after;   // held() after each poll
  std::vector<uint16_t> judged_by;    // Polled::judged of each poll

  explicit Run(const std::vector<uint16_t>& sizes) {
    RxAhead<kB> ahead;
    uintptr_t next_id = 1;
    unsigned poll = 0;
    auto judge = [&](rte_mbuf** pkts, uint16_t n, rte_mbuf* const* next, uint16_t next_n) {
      Judged j{poll, {}, {}};
      for (uint16_t i = 0; i < n; ++i) j.pkts.push_back(id_of(pkts[i]));
      for (uint16_t i = 0; i < next_n; ++i) j.next.push_back(id_of(next[i]));
      judged.push_back(j);
    };
    for (; poll < sizes.size(); ++poll) {
      const size_t judged_before = judged.size();
      const Polled did = ahead.poll(
          [&](rte_mbuf** bufs, uint16_t max) {
            BOOST_REQUIRE(sizes[poll] <= max);
            for (uint16_t i = 0; i < sizes[poll]; ++i) {
              bufs[i] = packet(next_id++);
              received_at.push_back(poll);
            }
            return sizes[poll];
          },
          judge);
      BOOST_TEST(did.received == sizes[poll]);
      size_t judged_now = 0;
      for (size_t k = judged_before; k < judged.size(); ++k) judged_now += judged[k].pkts.size();
      BOOST_TEST(did.judged == judged_now);
      judged_by.push_back(did.judged);
      held_after.push_back(ahead.held());
    }
    poll = ~0u;
    ahead.drain(judge);
    BOOST_TEST(ahead.held() == 0);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_packet_is_judged_once_in_order_and_only_full_bursts_wait_one_poll) {
  const std::vector<uint16_t> sizes = {kB, kB, 5, 0, kB, 0, 0, kB, kB, kB, 1, kB, 3, kB};
  Run run(sizes);
  uintptr_t expect = 1;
  for (const Judged& j : run.judged) {
    BOOST_TEST_REQUIRE(!j.pkts.empty());
    for (uintptr_t id : j.pkts) BOOST_TEST(id == expect++);  // order kept, none twice
    const unsigned got_at = run.received_at[j.pkts.front() - 1];
    for (uintptr_t id : j.pkts) BOOST_TEST(run.received_at[id - 1] == got_at);  // a burst stays whole
    if (j.pkts.size() < kB) {
      BOOST_TEST(j.poll == got_at);  // a burst that did not fill waits for nothing
      BOOST_TEST(j.next.empty());
    } else if (j.poll != ~0u) {
      BOOST_TEST(j.poll == got_at + 1);  // a full burst: judged at the queue's next poll
      // ... with that poll's packets as its next, which come right after it.
      BOOST_TEST(j.next.size() == sizes[j.poll]);
      for (size_t i = 0; i < j.next.size(); ++i) BOOST_TEST(j.next[i] == j.pkts.back() + 1 + i);
    } else {
      BOOST_TEST(got_at == sizes.size() - 1);  // only the last poll's full burst is left for drain
    }
  }
  BOOST_TEST(expect == run.received_at.size() + 1);  // all judged
  const std::vector<uint16_t> held = {kB, kB, 0, 0, kB, 0, 0, kB, kB, kB, 0, kB, 0, kB};
  BOOST_TEST(run.held_after == held, boost::test_tools::per_element());
  const std::vector<uint16_t> judged_by = {0, kB, kB + 5, 0, 0, kB, 0, 0, kB, kB, kB + 1, 0, kB + 3, 0};
  BOOST_TEST(run.judged_by == judged_by, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_full_burst_followed_by_a_short_one_goes_first_and_both_in_one_poll) {
  Run run({kB, 2});
  BOOST_TEST_REQUIRE(run.judged.size() == 2u);
  BOOST_TEST(run.judged[0].poll == 1u);
  BOOST_TEST(run.judged[0].pkts.size() == kB);
  BOOST_TEST(run.judged[0].next == (std::vector<uintptr_t>{kB + 1, kB + 2}), boost::test_tools::per_element());
  BOOST_TEST(run.judged[1].poll == 1u);
  BOOST_TEST(run.judged[1].pkts == (std::vector<uintptr_t>{kB + 1, kB + 2}), boost::test_tools::per_element());
  BOOST_TEST(run.held_after.back() == 0);
}

BOOST_AUTO_TEST_CASE(a_held_burst_is_judged_by_an_empty_poll_and_drain_is_then_a_no_op) {
  Run run({kB, 0, 0});
  BOOST_TEST_REQUIRE(run.judged.size() == 1u);
  BOOST_TEST(run.judged[0].poll == 1u);
  BOOST_TEST(run.judged[0].next.empty());
  BOOST_TEST(run.judged_by == (std::vector<uint16_t>{0, kB, 0}), boost::test_tools::per_element());
  Run drained({0, kB});
  BOOST_TEST_REQUIRE(drained.judged.size() == 1u);
  BOOST_TEST(drained.judged[0].poll == ~0u);  // judged by drain()
  BOOST_TEST(drained.judged[0].pkts.size() == kB);
}
