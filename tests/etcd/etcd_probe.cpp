// etcd_probe: drives lib/etcd against a real etcd for tests/etcd/test_etcd.py
// (docs/testing.md, "etcd"). Commands:
//   status      --endpoints E           one JSON line per endpoint (member id, leader)
//   basic       --endpoints E --prefix P   range/paging/txn/watch/compaction checks
//   put-stream  --endpoints E --prefix P --count N [--interval-ms M]
//   watch       --endpoints E --prefix P --start R --until R2 [--timeout-ms T]
//   bench       --endpoints E --prefix P [--vms N]   figures for docs/performance.md
// Exit 0: every check passed; 1: a check failed (lines "FAIL ..."); 2: bad arguments.
#include <cstring>
#include <sstream>

#include "probe_common.hpp"

namespace sgfw::probe {

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

long long Args::number(const std::string& name, long long fallback) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end) {
    std::fprintf(stderr, "etcd_probe: --%s: not a number\n", name.c_str());
    std::exit(2);
  }
  return v;
}

std::vector<std::string> Args::endpoints() const {
  std::vector<std::string> out;
  std::stringstream ss(get("endpoints"));
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

std::shared_ptr<etcd::Client> make_client(const Args& args) {
  etcd::ClientOptions opt;
  opt.endpoints = args.endpoints();
  opt.call_timeout = std::chrono::milliseconds(args.number("timeout-ms", 3000));
  auto c = etcd::Client::create(opt);
  if (!c) {
    std::fprintf(stderr, "etcd_probe: %s\n", c.error().message.c_str());
    std::exit(2);
  }
  return *c;
}

namespace {

int run_status(const Args& args) {
  auto client = make_client(args);
  for (size_t i = 0; i < client->endpoint_count(); ++i) {
    auto st = client->member_status(i);
    if (!st) {
      std::printf("{\"index\": %zu, \"error\": \"unreachable\"}\n", i);
      continue;
    }
    std::printf("{\"index\": %zu, \"member_id\": \"%llx\", \"leader\": \"%llx\", \"is_leader\": %s, \"revision\": %lld}\n",
                i, static_cast<unsigned long long>(st->member_id), static_cast<unsigned long long>(st->leader),
                st->is_leader() ? "true" : "false", static_cast<long long>(st->revision));
  }
  return 0;
}

}  // namespace

}  // namespace sgfw::probe

int main(int argc, char** argv) {
  using namespace sgfw::probe;
  if (argc < 2) {
    std::fprintf(stderr, "usage: etcd_probe status|basic|put-stream|watch|bench --endpoints E ...\n");
    return 2;
  }
  Args args;
  for (int i = 2; i < argc; ++i) {
    if (std::strncmp(argv[i], "--", 2) != 0) {
      std::fprintf(stderr, "etcd_probe: unexpected '%s'\n", argv[i]);
      return 2;
    }
    std::string name = argv[i] + 2;
    if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0)
      args.values[name] = argv[++i];
    else
      args.values[name] = "1";
  }
  std::string cmd = argv[1];
  if (cmd == "status") return run_status(args);
  if (cmd == "basic") return run_basic(args);
  if (cmd == "put-stream") return run_put_stream(args);
  if (cmd == "watch") return run_watch(args);
  if (cmd == "bench") return run_bench(args);
  std::fprintf(stderr, "etcd_probe: unknown command '%s'\n", cmd.c_str());
  return 2;
}
