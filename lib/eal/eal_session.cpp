#include "eal/eal_session.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>
#include <unistd.h>

namespace sgfw::eal {

EalSession::~EalSession() {
  if (active_) rte_eal_cleanup();
}

core::Expected<EalSession> EalSession::init(const std::vector<std::string>& args) {
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.emplace_back("sgfw");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (rc < 0) return core::make_error(std::string("EAL init failed: ") + rte_strerror(rte_errno));
  EalSession s;
  s.active_ = true;
  return s;
}

std::vector<std::string> offline_args(const std::string& tool, unsigned memory_mb) {
  // One lcore: the first CPU this process may run on.
  int cpu = 0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) { cpu = c; break; }
    }
  }
  return {"--no-huge", "-m", std::to_string(memory_mb), "--no-pci", "--no-shconf",
          "--no-telemetry", "--log-level=lib.*:error", "--log-level=user*:error",
          "-l", std::to_string(cpu), "--file-prefix", tool + "-" + std::to_string(getpid()),
          "--force-max-simd-bitwidth=512"};
}

}  // namespace sgfw::eal
