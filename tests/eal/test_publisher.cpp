// runtime::Publisher (docs/design/update-protocol.md): publish() hands back the old
// snapshot only after every online worker has reported a quiescent state following the
// swap; a worker still inside a burst that holds the old snapshot holds publish() back,
// an offline worker does not. The wait sleeps between checks after a short spin; these
// cases pin down that it still waits for exactly the grace period.
#define BOOST_TEST_MODULE publisher
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "config/policy_loader.hpp"
#include "eal_fixture.hpp"
#include "runtime/publisher.hpp"

BOOST_TEST_GLOBAL_FIXTURE(EalFixture);

using namespace sgfw;

namespace {

std::unique_ptr<runtime::Snapshot> snapshot(uint64_t generation) {
  auto policy = config::load_policy_text("vms:\n  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10]}\n",
                                         "publisher.yaml");
  BOOST_REQUIRE_MESSAGE(policy.has_value(), (policy ? "" : policy.error().message));
  runtime::PortLayout layout;
  layout.names = {"uplink", "vm-a"};
  layout.uplink = 0;
  auto s = runtime::Snapshot::build(std::move(*policy), layout, generation, 1, acl::BuildOptions{});
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().message));
  return std::move(*s);
}

}  // namespace

BOOST_AUTO_TEST_CASE(publish_returns_the_old_snapshot_only_after_the_worker_holding_it_is_quiescent) {
  auto pub = runtime::Publisher::create(1, snapshot(1));
  BOOST_REQUIRE(pub.has_value());
  runtime::Publisher& p = **pub;
  std::atomic<bool> holding{false}, released{false}, go{false};
  std::atomic<uint64_t> held_generation{0};
  std::thread worker([&] {
    p.online(0);
    const runtime::Snapshot* s = p.acquire();  // a burst in progress on generation 1
    held_generation = s->generation();
    holding = true;
    while (!go) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the burst goes on
    released = true;
    p.quiescent(0);
    // Later bursts see the new generation.
    held_generation = p.acquire()->generation();
    p.quiescent(0);
    p.offline(0);
  });
  while (!holding) std::this_thread::yield();
  go = true;
  std::unique_ptr<runtime::Snapshot> old = p.publish(snapshot(2));
  BOOST_TEST(released.load());  // not before the worker's quiescent state
  BOOST_REQUIRE(old != nullptr);
  BOOST_TEST(old->generation() == 1U);
  BOOST_TEST(p.current()->generation() == 2U);
  worker.join();
  BOOST_TEST(held_generation.load() == 2U);
}

BOOST_AUTO_TEST_CASE(an_offline_worker_does_not_hold_publish_back) {
  auto pub = runtime::Publisher::create(1, snapshot(1));
  BOOST_REQUIRE(pub.has_value());
  runtime::Publisher& p = **pub;
  // Worker 0 never comes online (a worker sleeping while idle is offline).
  for (uint64_t g = 2; g <= 5; ++g) {
    std::unique_ptr<runtime::Snapshot> old = p.publish(snapshot(g));
    BOOST_REQUIRE(old != nullptr);
    BOOST_TEST(old->generation() == g - 1);
  }
}

BOOST_AUTO_TEST_CASE(a_busy_worker_that_reports_every_burst_lets_every_publish_through) {
  auto pub = runtime::Publisher::create(1, snapshot(1));
  BOOST_REQUIRE(pub.has_value());
  runtime::Publisher& p = **pub;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bursts{0};
  std::thread worker([&] {
    p.online(0);
    while (!stop) {
      (void)p.acquire()->generation();
      p.quiescent(0);
      ++bursts;
    }
    p.offline(0);
  });
  for (uint64_t g = 2; g <= 50; ++g) {
    std::unique_ptr<runtime::Snapshot> old = p.publish(snapshot(g));
    BOOST_REQUIRE(old != nullptr);
    BOOST_TEST(old->generation() == g - 1);
  }
  stop = true;
  worker.join();
  BOOST_TEST(bursts.load() > 0U);
  BOOST_TEST(p.current()->generation() == 50U);
}
