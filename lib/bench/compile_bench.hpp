// The compile benchmark (sgfw-bench compile): loads a policy file, compiles it and
// builds its rte_acl tables the way the daemon does, timing each phase. Initialises the
// DPDK EAL (offline arguments, no hugepages), so call it at most once per process.
// Control path; not thread-safe (the EAL is process-wide).
#pragma once

#include <string>

#include "bench/compile_report.hpp"
#include "core/expected.hpp"

namespace sgfw::bench {

struct CompileBenchOptions {
  std::string policy_file;
  unsigned memory_mb = 4096;  // EAL -m: the no-huge heap must hold every context
};

// Errors: the policy's own message (file:line:col), EAL init or rte_acl failures.
[[nodiscard]] core::Expected<CompileReport> run_compile_bench(const CompileBenchOptions& options);

}  // namespace sgfw::bench
