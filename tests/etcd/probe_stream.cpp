// etcd_probe put-stream and watch: the two halves of the leader-kill test
// (tests/etcd/test_etcd.py). The watch prints every update as a line; the test kills the
// leader while put-stream writes, then checks every revision arrived exactly once.
#include <iostream>
#include <thread>

#include "etcd/watch.hpp"
#include "probe_common.hpp"

namespace sgfw::probe {

using namespace std::chrono_literals;

int run_put_stream(const Args& args) {
  auto client = make_client(args);
  std::string p = args.get("prefix", "/stream/");
  long long count = args.number("count", 200);
  auto interval = std::chrono::milliseconds(args.number("interval-ms", 10));
  long long retries = 0;
  int64_t last = 0;
  for (long long i = 0; i < count; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "k%04lld", i);
    for (;;) {
      auto r = client->put(p + key, std::to_string(i));
      if (r) {
        last = *r;
        break;
      }
      // A put that failed may still have been applied: the watch then sees it twice,
      // at two revisions (each revision still once). The test allows for `retries`.
      std::fprintf(stderr, "retry %lld: %s\n", i, r.error().message.c_str());
      if (++retries > 400) {
        std::printf("FAIL too many retries\n");
        return 1;
      }
      std::this_thread::sleep_for(50ms);
    }
    std::printf("put %lld %lld\n", i, static_cast<long long>(last));
    std::fflush(stdout);
    std::this_thread::sleep_for(interval);
  }
  std::printf("done puts=%lld retries=%lld last_revision=%lld\n", count, retries, static_cast<long long>(last));
  return 0;
}

int run_watch(const Args& args) {
  etcd::ClientOptions opt;
  opt.endpoints = args.endpoints();
  opt.call_timeout = std::chrono::milliseconds(args.number("timeout-ms", 3000));
  auto created = etcd::Client::create(opt);
  if (!created) {
    std::fprintf(stderr, "etcd_probe: %s\n", created.error().message.c_str());
    return 2;
  }
  auto client = *created;
  std::string p = args.get("prefix", "/stream/");
  int64_t start = args.number("start", 0);
  auto w = must(etcd::Watch::start(client, p, start, [](const etcd::WatchUpdate& u) {
    using K = etcd::WatchUpdate::Kind;
    switch (u.kind) {
      case K::kConnected: std::printf("connected %s %lld\n", u.endpoint.c_str(), (long long)u.revision); break;
      case K::kDisconnected: std::printf("disconnected %s %s\n", u.endpoint.c_str(), u.detail.c_str()); break;
      case K::kCompacted: std::printf("compacted %lld\n", (long long)u.compact_revision); break;
      case K::kCanceled: std::printf("canceled %s\n", u.detail.c_str()); break;
      case K::kEvents:
        std::printf("batch %zu %lld\n", u.events.size(), (long long)u.revision);
        for (const auto& e : u.events)
          std::printf("event %lld %c %s\n", (long long)e.kv.mod_revision,
                      e.type == etcd::Event::Type::kPut ? 'P' : 'D', e.kv.key.c_str());
        break;
    }
    std::fflush(stdout);
  }), "watch");
  // The test writes "until R" once the writer is done; then every revision <= R is due.
  std::string word;
  long long until = 0;
  if (!(std::cin >> word >> until) || word != "until") {
    w->stop();
    std::printf("FAIL no 'until R' on stdin\n");
    return 1;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(args.number("wait-ms", 20000));
  while (w->last_revision() < until && w->running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  bool reached = w->last_revision() >= until;
  w->stop();
  std::printf("end last_revision=%lld duplicates_dropped=%llu\n", (long long)w->last_revision(),
              static_cast<unsigned long long>(w->duplicates_dropped()));
  return reached ? 0 : 1;
}

}  // namespace sgfw::probe
