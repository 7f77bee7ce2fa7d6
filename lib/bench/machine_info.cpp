#include "bench/machine_info.hpp"

#include <sched.h>
#include <unistd.h>

#include <fstream>

namespace sgfw::bench {

namespace {

// The value after "key<spaces>:" on the first line starting with key, or "".
std::string proc_field(const char* file, std::string_view key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

}  // namespace

MachineInfo machine_info() {
  MachineInfo m;
  m.cpu = proc_field("/proc/cpuinfo", "model name");
  if (m.cpu.empty()) m.cpu = "unknown";
  cpu_set_t set;
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  m.cpus = online > 0 ? static_cast<unsigned>(online) : 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    m.cpus_allowed = static_cast<unsigned>(CPU_COUNT(&set));
  std::string huge = proc_field("/proc/meminfo", "HugePages_Total");
  m.host_hugepages = !huge.empty() && huge != "0";
  return m;
}

}  // namespace sgfw::bench
