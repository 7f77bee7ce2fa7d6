// lib/etcd's pure parts (docs/design/etcd-client.md): endpoint URLs, prefix range ends,
// backoff bounds, and a client that cannot reach anything (no etcd needed: suite unit).
#define BOOST_TEST_MODULE etcd_unit
#include <boost/test/unit_test.hpp>

#include "etcd/backoff.hpp"
#include "etcd/client.hpp"
#include "etcd/endpoint.hpp"
#include "etcd/watch.hpp"

#include <atomic>
#include <thread>

using namespace sgfw;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(endpoints) {
  auto e = etcd::parse_endpoint("http://127.0.0.1:2379");
  BOOST_REQUIRE(e);
  BOOST_TEST(e->target == "127.0.0.1:2379");
  BOOST_TEST(etcd::parse_endpoint("http://etcd-1.example:2379/")->target == "etcd-1.example:2379");
  BOOST_TEST(etcd::parse_endpoint("http://[::1]:2379")->target == "[::1]:2379");
  auto msg = [](std::string_view u) {
    auto r = etcd::parse_endpoint(u);
    return r ? std::string("ok") : r.error().message;
  };
  BOOST_TEST(msg("127.0.0.1:2379") == "endpoint '127.0.0.1:2379': expected http://host:port");
  BOOST_TEST(msg("https://h:2379") == "endpoint 'https://h:2379': https is not supported yet (docs/fleet.md)");
  BOOST_TEST(msg("http://h") == "endpoint 'http://h': expected http://host:port (no port)");
  BOOST_TEST(msg("http://h:0") == "endpoint 'http://h:0': port out of range 1..65535");
  BOOST_TEST(msg("http://h:65536") == "endpoint 'http://h:65536': port out of range 1..65535");
  BOOST_TEST(msg("http://h:12x") == "endpoint 'http://h:12x': invalid port");
  BOOST_TEST(msg("http://:1") == "endpoint 'http://:1': empty host");
  BOOST_TEST(msg("http://a b:1") == "endpoint 'http://a b:1': invalid host");
  BOOST_TEST(msg("") == "endpoint '': expected http://host:port");
  auto list = etcd::parse_endpoints({"http://a:1", "http://a:1"});
  BOOST_REQUIRE(!list);
  BOOST_TEST(list.error().message == "endpoint 'http://a:1': listed twice");
  BOOST_TEST(etcd::parse_endpoints({}).error().message == "etcd: no endpoints");
  BOOST_TEST(etcd::parse_endpoints(std::vector<std::string>(17, "http://a:1")).error().message ==
             "etcd: more than 16 endpoints");
}

BOOST_AUTO_TEST_CASE(prefix_range_ends) {
  BOOST_TEST(etcd::prefix_range_end("/sgfw/") == "/sgfw0");
  BOOST_TEST(etcd::prefix_range_end("a\xff") == "b");
  BOOST_TEST(etcd::prefix_range_end("\xff\xff") == std::string(1, '\0'));
  BOOST_TEST(etcd::prefix_range_end("") == std::string(1, '\0'));
}

BOOST_AUTO_TEST_CASE(backoff_doubles_with_jitter_up_to_the_ceiling) {
  etcd::Backoff b(100ms, 1000ms, 42);
  const int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t c : ceilings) {
    auto d = b.next().count();
    BOOST_TEST(d >= c / 2);
    BOOST_TEST(d <= c);
  }
  b.reset();
  BOOST_TEST(b.next().count() <= 100);
  // Two loops seeded differently do not retry in lock step.
  etcd::Backoff x(100ms, 60000ms, 1), y(100ms, 60000ms, 2);
  int same = 0;
  for (int i = 0; i < 10; ++i) same += x.next() == y.next();
  BOOST_TEST(same < 10);
}

BOOST_AUTO_TEST_CASE(client_errors_without_a_server) {
  BOOST_TEST(etcd::Client::create({{"http://a:1"}, 0ms}).error().message == "etcd: call_timeout must be positive");
  BOOST_TEST(etcd::Client::create({{"nope"}}).error().message == "endpoint 'nope': expected http://host:port");
  // Port 1 on loopback: nothing listens; every call fails within its deadline.
  auto c = etcd::Client::create({{"http://127.0.0.1:1"}, 300ms});
  BOOST_REQUIRE(c);
  auto t0 = std::chrono::steady_clock::now();
  auto r = (*c)->range("/k", "");
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message.rfind("etcd http://127.0.0.1:1: Range: ", 0) == 0, r.error().message);
  auto p = (*c)->put("/k", "v");
  BOOST_REQUIRE(!p);
  BOOST_TEST(p.error().message.find("the write may or may not have been applied") != std::string::npos,
             p.error().message);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
  BOOST_TEST(!(*c)->member_status(1));
  BOOST_TEST((*c)->member_status(1).error().message == "etcd: no endpoint 1");
}

BOOST_AUTO_TEST_CASE(a_watch_without_a_server_retries_until_stopped) {
  auto c = etcd::Client::create({{"http://127.0.0.1:1", "http://127.0.0.1:2"}, 300ms, 10ms, 50ms});
  BOOST_REQUIRE(c);
  BOOST_TEST(!etcd::Watch::start(*c, "", 1, [](const etcd::WatchUpdate&) {}));
  BOOST_TEST(etcd::Watch::start(*c, "", 1, [](const etcd::WatchUpdate&) {}).error().message == "etcd watch: empty prefix");
  BOOST_TEST(etcd::Watch::start(*c, "/p/", -1, [](const etcd::WatchUpdate&) {}).error().message ==
             "etcd watch: negative start revision");
  std::atomic<int> disconnected{0}, other{0};
  std::atomic<bool> both{false};
  std::string first;
  auto w = etcd::Watch::start(*c, "/p/", 5, [&](const etcd::WatchUpdate& u) {
    if (u.kind != etcd::WatchUpdate::Kind::kDisconnected) {
      ++other;
      return;
    }
    if (disconnected++ == 0) first = u.endpoint;
    else if (u.endpoint != first) both = true;  // it moves on to the other endpoint
  });
  BOOST_REQUIRE(w);
  for (int i = 0; i < 300 && disconnected < 4; ++i) std::this_thread::sleep_for(10ms);
  BOOST_TEST(disconnected.load() >= 4);
  BOOST_TEST(both.load());
  BOOST_TEST((*w)->running());
  auto t0 = std::chrono::steady_clock::now();
  (*w)->stop();
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1s));
  BOOST_TEST(!(*w)->running());
  BOOST_TEST(other.load() == 0);
  BOOST_TEST((*w)->last_revision() == 0);
}
