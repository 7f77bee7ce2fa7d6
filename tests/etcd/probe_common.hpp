// Shared by the etcd_probe commands (tests/etcd/README.md, docs/testing.md): argument
// parsing and the check macro. Test code: not thread-safe unless said.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "etcd/client.hpp"

namespace sgfw::probe {

// --name value pairs after the command; a bare --flag has value "1".
struct Args {
  std::map<std::string, std::string> values;
  [[nodiscard]] std::string get(const std::string& name, const std::string& fallback = {}) const;
  [[nodiscard]] long long number(const std::string& name, long long fallback) const;
  [[nodiscard]] std::vector<std::string> endpoints() const;  // --endpoints a,b,c
};

// The client for --endpoints; exits 2 with the error on bad arguments.
std::shared_ptr<etcd::Client> make_client(const Args& args);

// Counts failed checks; the command exits 1 if any failed.
inline int g_failures = 0;
#define PROBE_CHECK(cond, ...)                                  \
  do {                                                          \
    if (!(cond)) {                                              \
      ++::sgfw::probe::g_failures;                              \
      std::fprintf(stdout, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stdout, __VA_ARGS__);                        \
      std::fprintf(stdout, "\n");                               \
      std::fflush(stdout);                                      \
    }                                                           \
  } while (0)

// A value that must be there: prints the error and exits 1 otherwise.
template <typename T>
T must(core::Expected<T> r, const char* what) {
  if (!r) {
    std::printf("FAIL %s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

int run_basic(const Args& args);   // probe_basic.cpp
void check_push(const std::shared_ptr<etcd::Client>& c, const std::string& prefix);  // probe_push.cpp
// fleet::push_keys' retries and --force; a summary for check_push's line (probe_runner.cpp)
std::string check_push_runner(const std::shared_ptr<etcd::Client>& c, const std::string& prefix);
int run_bench(const Args& args);   // probe_bench.cpp
int run_watch(const Args& args);   // probe_stream.cpp
int run_put_stream(const Args& args);  // probe_stream.cpp

}  // namespace sgfw::probe
