// The machine a benchmark ran on, for its report. Control path; thread-safe (reads
// /proc only).
#pragma once

#include <string>

namespace sgfw::bench {

struct MachineInfo {
  std::string cpu;            // /proc/cpuinfo "model name" ("unknown" if absent)
  unsigned cpus = 0;          // CPUs online
  unsigned cpus_allowed = 0;  // of which this process may run on (taskset)
  bool host_hugepages = false;  // HugePages_Total > 0; whether a run used them is its own
};

[[nodiscard]] MachineInfo machine_info();

}  // namespace sgfw::bench
