// DPDK EAL initialisation for one process (RAII: rte_eal_cleanup on destruction).
// The EAL can be initialised once per process; a second init fails. Control path.
#pragma once

#include <string>
#include <vector>

#include "core/expected.hpp"

namespace sgfw::eal {

class EalSession {
 public:
  EalSession(const EalSession&) = delete;
  EalSession& operator=(const EalSession&) = delete;
  EalSession(EalSession&& o) noexcept : active_(o.active_) { o.active_ = false; }
  ~EalSession();

  // `args` are EAL arguments without argv[0]. Error: the EAL's reason (rte_errno).
  [[nodiscard]] static core::Expected<EalSession> init(const std::vector<std::string>& args);

 private:
  EalSession() = default;
  bool active_ = false;
};

// Arguments for an offline tool (explain, tests, compile bench): no hugepages, no PCI,
// no shared config, quiet logs, a file prefix unique to this process, one lcore.
// Needs no root. (`--in-memory` cannot be combined with `--no-huge` in DPDK 22.11.)
// `memory_mb` sizes the anonymous memory the EAL reserves.
[[nodiscard]] std::vector<std::string> offline_args(const std::string& tool, unsigned memory_mb = 512);

}  // namespace sgfw::eal
