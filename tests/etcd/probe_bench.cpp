// etcd_probe bench: the figures of docs/performance.md "etcd client" — a generated
// policy (sgfw-bench's generator, 10,000 VMs by default) written as keys, then the
// range + decode time against the file load time, and the watch latency put ->
// callback over 100 puts. Prints figures; asserts only that the data round-trips.
#include <algorithm>
#include <mutex>
#include <thread>

#include "bench/policy_generator.hpp"
#include "config/policy_loader.hpp"
#include "etcd/endpoint.hpp"
#include "etcd/watch.hpp"
#include "fleet/decode.hpp"
#include "fleet/encode.hpp"
#include "policy/policy_writer.hpp"
#include "probe_common.hpp"

namespace sgfw::probe {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void write_keys(etcd::Client& c, const fleet::KeyValues& kvs) {
  etcd::Txn t;
  auto flush = [&] {
    if (t.success.empty()) return;
    PROBE_CHECK(must(c.txn(t), "txn").succeeded, "txn");
    t.success.clear();
  };
  for (const auto& [k, v] : kvs) {
    t.success.push_back({etcd::TxnOp::Type::kPut, k, v, {}});
    if (t.success.size() == 128) flush();  // etcd's default --max-txn-ops
  }
  flush();
}

void bench_load(etcd::Client& c, const std::string& prefix, uint32_t vms, int rounds) {
  bench::GeneratorOptions g;
  g.vms = vms;
  g.local_vms = std::min<uint32_t>(1000, vms);
  auto policy = must(bench::generate_policy(g), "generate");
  auto kvs = must(fleet::encode_policy(policy, prefix, "appliance-1"), "encode");
  (void)c.delete_range(prefix, etcd::prefix_range_end(prefix));
  write_keys(c, kvs);
  std::string yaml = policy::write_policy_yaml(policy, "");
  size_t bytes = 0;
  for (const auto& [k, v] : kvs) bytes += k.size() + v.size();
  std::vector<double> range_ms, decode_ms, file_ms;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    auto all = must(c.range_prefix(prefix), "range");
    range_ms.push_back(ms_since(t0));
    fleet::KeyValues got;
    t0 = Clock::now();
    for (auto& kv : all.kvs) got.emplace_hint(got.end(), std::move(kv.key), std::move(kv.value));
    auto decoded = must(fleet::decode_policy(got, prefix, "appliance-1"), "decode");
    decode_ms.push_back(ms_since(t0));
    PROBE_CHECK(got.size() == kvs.size() && decoded.vms.size() == vms, "round trip: %zu keys, %zu VMs",
                got.size(), decoded.vms.size());
    if (r == 0)
      PROBE_CHECK(policy::write_policy_yaml(decoded, "") == yaml, "decoded policy differs from the generated one");
    t0 = Clock::now();
    auto file = must(config::load_policy_text(yaml, "bench.yaml"), "file load");
    file_ms.push_back(ms_since(t0));
  }
  double total = median(range_ms) + median(decode_ms);
  std::printf("load keys=%zu bytes=%zu range_ms=%.1f decode_ms=%.1f etcd_total_ms=%.1f file_load_ms=%.1f ratio=%.2f "
              "(median of %d)\n",
              kvs.size(), bytes, median(range_ms), median(decode_ms), total, median(file_ms),
              total / median(file_ms), rounds);
}

void bench_watch(const std::shared_ptr<etcd::Client>& c, const std::string& prefix, int puts) {
  std::mutex m;
  std::map<int64_t, Clock::time_point> seen;
  int64_t start = must(c->put(prefix + "start", "0"), "put") + 1;
  auto w = must(etcd::Watch::start(c, prefix + "lat/", start, [&](const etcd::WatchUpdate& u) {
    auto now = Clock::now();
    std::lock_guard lock(m);
    for (const auto& e : u.events) seen.emplace(e.kv.mod_revision, now);
  }), "watch");
  std::vector<std::pair<int64_t, Clock::time_point>> sent;
  for (int i = 0; i < puts; ++i) {
    auto t0 = Clock::now();
    sent.emplace_back(must(c->put(prefix + "lat/k", std::to_string(i)), "put"), t0);
    std::this_thread::sleep_for(5ms);
  }
  auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline) {
    std::lock_guard lock(m);
    if (seen.size() >= sent.size()) break;
  }
  w->stop();
  std::vector<double> lat;
  for (const auto& [rev, t0] : sent) {
    auto it = seen.find(rev);
    PROBE_CHECK(it != seen.end(), "revision %lld never seen", (long long)rev);
    if (it != seen.end()) lat.push_back(std::chrono::duration<double, std::micro>(it->second - t0).count());
  }
  std::sort(lat.begin(), lat.end());
  if (lat.empty()) return;
  std::printf("watch puts=%d p50_us=%.0f p99_us=%.0f max_us=%.0f\n", puts, lat[lat.size() / 2],
              lat[std::min(lat.size() - 1, lat.size() * 99 / 100)], lat.back());
}

}  // namespace

int run_bench(const Args& args) {
  auto client = make_client(args);
  std::string prefix = args.get("prefix", "/bench/");
  bench_load(*client, prefix + "policy/", static_cast<uint32_t>(args.number("vms", 10000)),
             static_cast<int>(args.number("rounds", 5)));
  bench_watch(client, prefix, static_cast<int>(args.number("puts", 100)));
  return g_failures ? 1 : 0;
}

}  // namespace sgfw::probe
