// etcd_probe basic: range at a revision, paged range, transactions, watch delivery and
// compaction against one running etcd (tests/etcd/test_etcd.py starts it).
#include <atomic>
#include <mutex>
#include <thread>

#include "etcd/endpoint.hpp"
#include "etcd/watch.hpp"
#include "probe_common.hpp"

namespace sgfw::probe {

namespace {

using namespace std::chrono_literals;

// Collects a watch's updates; waits for a number of events.
struct Collector {
  std::mutex mutex;
  std::vector<etcd::WatchUpdate> updates;
  size_t events = 0;
  void add(const etcd::WatchUpdate& u) {
    std::lock_guard lock(mutex);
    if (u.kind == etcd::WatchUpdate::Kind::kEvents) events += u.events.size();
    updates.push_back(u);
  }
  bool wait_events(size_t n, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      {
        std::lock_guard lock(mutex);
        if (events >= n) return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
};

void check_range_at_revision(etcd::Client& c, const std::string& p) {
  int64_t r1 = must(c.put(p + "rev/a", "1"), "put 1");
  int64_t r2 = must(c.put(p + "rev/a", "2"), "put 2");
  PROBE_CHECK(r2 == r1 + 1, "revisions %lld then %lld", (long long)r1, (long long)r2);
  auto old = must(c.range(p + "rev/a", "", r1), "range at r1");
  PROBE_CHECK(old.result.kvs.size() == 1 && old.result.kvs[0].value == "1", "value at r1");
  PROBE_CHECK(old.result.kvs.size() == 1 && old.result.kvs[0].mod_revision == r1, "mod_revision at r1");
  auto now = must(c.range(p + "rev/a", ""), "range latest");
  PROBE_CHECK(now.result.kvs.size() == 1 && now.result.kvs[0].value == "2", "latest value");
  PROBE_CHECK(now.result.revision == r2, "header revision %lld, expected %lld", (long long)now.result.revision,
              (long long)r2);
  std::printf("ok range-at-revision\n");
}

void check_paged_range(etcd::Client& c, const std::string& p) {
  const std::string dir = p + "paged/";
  for (int batch = 0; batch < 30; ++batch) {  // 3,000 keys, 100 per transaction
    etcd::Txn t;
    for (int i = 0; i < 100; ++i) {
      char key[32];
      std::snprintf(key, sizeof(key), "k%05d", batch * 100 + i);
      t.success.push_back({etcd::TxnOp::Type::kPut, dir + key, std::string(100, 'v'), {}});
    }
    auto r = must(c.txn(t), "txn of 100 puts");
    PROBE_CHECK(r.succeeded, "unconditional txn failed");
  }
  // Keys added while the pages are read must not show up: one revision for all pages.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load() && i < 2000; ++i) (void)c.put(dir + "z" + std::to_string(i), "late");
  });
  std::this_thread::sleep_for(20ms);
  auto paged = must(c.range_prefix(dir, 250), "paged range");
  stop.store(true);
  writer.join();
  auto whole = must(c.range(dir, etcd::prefix_range_end(dir), paged.revision), "unpaged range");
  PROBE_CHECK(paged.kvs.size() == whole.result.kvs.size(), "paged %zu keys, unpaged %zu at revision %lld",
              paged.kvs.size(), whole.result.kvs.size(), (long long)paged.revision);
  PROBE_CHECK(paged.kvs.size() >= 3000, "only %zu keys", paged.kvs.size());
  bool same = paged.kvs.size() == whole.result.kvs.size();
  for (size_t i = 0; same && i < paged.kvs.size(); ++i)
    same = paged.kvs[i].key == whole.result.kvs[i].key && paged.kvs[i].mod_revision == whole.result.kvs[i].mod_revision;
  PROBE_CHECK(same, "paged and unpaged ranges differ");
  size_t late = 0;
  for (const auto& kv : paged.kvs) {
    PROBE_CHECK(kv.mod_revision <= paged.revision, "key %s newer than the range", kv.key.c_str());
    late += kv.key.compare(0, dir.size() + 1, dir + "z") == 0;
  }
  std::printf("ok paged-range keys=%zu late=%zu revision=%lld\n", paged.kvs.size(), late, (long long)paged.revision);
}

void check_txn(etcd::Client& c, const std::string& p) {
  const std::string key = p + "txn/k";
  int64_t rev = must(c.put(key, "v1"), "put");
  using C = etcd::Compare;
  etcd::Txn ok;
  ok.compares.push_back({key, C::Target::kModRevision, C::Result::kEqual, rev});
  ok.success.push_back({etcd::TxnOp::Type::kPut, key, "v2", {}});
  ok.success.push_back({etcd::TxnOp::Type::kPut, p + "txn/other", "o", {}});
  ok.failure.push_back({etcd::TxnOp::Type::kPut, p + "txn/failed", "1", {}});
  auto r1 = must(c.txn(ok), "txn 1");
  PROBE_CHECK(r1.succeeded && r1.revision == rev + 1, "txn 1 succeeded=%d revision=%lld", r1.succeeded,
              (long long)r1.revision);
  // The same guard again: mod_revision moved on, so the failure branch runs.
  auto r2 = must(c.txn(ok), "txn 2");
  PROBE_CHECK(!r2.succeeded, "txn 2 succeeded on a stale mod_revision");
  etcd::Txn absent;
  absent.compares.push_back({key, C::Target::kVersion, C::Result::kEqual, 0});
  absent.success.push_back({etcd::TxnOp::Type::kDelete, key, {}, {}});
  PROBE_CHECK(!must(c.txn(absent), "txn 3").succeeded, "version == 0 held for an existing key");
  auto v = must(c.range(key, ""), "read");
  PROBE_CHECK(v.result.kvs.size() == 1 && v.result.kvs[0].value == "v2" && v.result.kvs[0].version == 2,
              "value after txns");
  auto f = must(c.range(p + "txn/failed", ""), "read failed");
  PROBE_CHECK(f.result.kvs.size() == 1 && f.result.kvs[0].mod_revision == r2.revision, "failure branch");
  std::printf("ok txn\n");
}

void check_watch(const std::shared_ptr<etcd::Client>& c, const std::string& p) {
  const std::string dir = p + "watch/";
  int64_t start = must(c->put(p + "before", "x"), "put") + 1;
  Collector col;
  auto w = must(etcd::Watch::start(c, dir, start, [&](const etcd::WatchUpdate& u) { col.add(u); }), "watch");
  std::vector<std::pair<int64_t, std::string>> expected;  // revision, "P key" or "D key"
  for (int i = 0; i < 10; ++i) {
    std::string k = dir + "k" + std::to_string(i);
    expected.emplace_back(must(c->put(k, std::to_string(i)), "put"), "P " + k);
  }
  for (int i : {3, 7}) {
    std::string k = dir + "k" + std::to_string(i);
    auto d = must(c->delete_range(k), "delete");
    PROBE_CHECK(d.deleted == 1, "deleted %lld", (long long)d.deleted);
    expected.emplace_back(d.revision, "D " + k);
  }
  (void)c->put(p + "outside", "not watched");
  etcd::Txn t;
  for (std::string k : {"t1", "t2", "t3"}) t.success.push_back({etcd::TxnOp::Type::kPut, dir + k, "t", {}});
  int64_t trev = must(c->txn(t), "txn").revision;
  for (std::string k : {"t1", "t2", "t3"}) expected.emplace_back(trev, "P " + dir + k);
  PROBE_CHECK(col.wait_events(expected.size(), 5s), "only %zu of %zu events", col.events, expected.size());
  std::this_thread::sleep_for(100ms);  // nothing more may come
  w->stop();
  std::vector<std::pair<int64_t, std::string>> got;
  for (const auto& u : col.updates) {
    for (const auto& e : u.events)
      got.emplace_back(e.kv.mod_revision, (e.type == etcd::Event::Type::kPut ? "P " : "D ") + e.kv.key);
  }
  PROBE_CHECK(got == expected, "events differ: got %zu, expected %zu", got.size(), expected.size());
  PROBE_CHECK(w->last_revision() == trev, "last revision %lld", (long long)w->last_revision());
  PROBE_CHECK(!col.updates.empty() && col.updates.front().kind == etcd::WatchUpdate::Kind::kConnected &&
                  col.updates.front().revision == start, "first update is not kConnected at the start revision");
  std::printf("ok watch events=%zu\n", got.size());
}

void check_compaction(const std::shared_ptr<etcd::Client>& c, const std::string& p) {
  int64_t old = must(c->put(p + "compact/a", "1"), "put");
  int64_t now = must(c->put(p + "compact/a", "2"), "put");
  auto st = c->compact(now);
  PROBE_CHECK(st.has_value(), "compact: %s", st ? "" : st.error().message.c_str());
  auto r = c->range(p + "compact/a", "", old);
  PROBE_CHECK(!r && r.error().message.find("compacted") != std::string::npos, "range at a compacted revision: %s",
              r ? "succeeded" : r.error().message.c_str());
  Collector col;
  auto w = must(etcd::Watch::start(c, p + "compact/", old, [&](const etcd::WatchUpdate& u) { col.add(u); }), "watch");
  for (int i = 0; i < 200 && w->running(); ++i) std::this_thread::sleep_for(10ms);
  PROBE_CHECK(!w->running(), "the watch from a compacted revision still runs");
  w->stop();
  bool reported = false;
  for (const auto& u : col.updates)
    reported |= u.kind == etcd::WatchUpdate::Kind::kCompacted && u.compact_revision == now;
  PROBE_CHECK(reported && col.events == 0, "no kCompacted at %lld (events %zu)", (long long)now, col.events);
  std::printf("ok compaction compact_revision=%lld\n", (long long)now);
}

void check_bad_input(const Args& args) {
  auto bad = etcd::Client::create({{"127.0.0.1:2379"}});
  PROBE_CHECK(!bad && bad.error().message == "endpoint '127.0.0.1:2379': expected http://host:port", "%s",
              bad ? "accepted" : bad.error().message.c_str());
  std::string dead = args.get("dead-endpoint");
  if (dead.empty()) return;
  etcd::ClientOptions o;
  o.endpoints = {dead};
  o.call_timeout = 500ms;
  auto c = must(etcd::Client::create(o), "client");
  auto t0 = std::chrono::steady_clock::now();
  auto r = c->range("/x", "");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  PROBE_CHECK(!r && r.error().message.rfind("etcd " + dead + ": Range: ", 0) == 0, "%s",
              r ? "a dead endpoint answered" : r.error().message.c_str());
  PROBE_CHECK(ms < 3000, "a call to a dead endpoint took %lld ms", (long long)ms);
  std::printf("ok bad-input\n");
}

}  // namespace

int run_basic(const Args& args) {
  auto client = make_client(args);
  std::string p = args.get("prefix", "/probe/");
  check_bad_input(args);
  check_range_at_revision(*client, p);
  check_paged_range(*client, p);
  check_txn(*client, p);
  check_watch(client, p);
  check_compaction(client, p);
  check_push(client, p);
  std::printf("%s basic failures=%d\n", g_failures ? "FAIL" : "ok", g_failures);
  return g_failures ? 1 : 0;
}

}  // namespace sgfw::probe
