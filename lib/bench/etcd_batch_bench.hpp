// The etcd batch benchmark (sgfw-bench etcd-batch, docs/performance.md "etcd: applying
// a batch"): a policy file encoded as etcd keys (lib/fleet), then one VM's
// securityGroups value put again and again, applied the two ways the daemon's follower
// can (lib/follow, docs/fleet.md "Following the policy live"): the membership fast path
// (detector + copy of the running policy + set-groups + incremental compile) and the
// full path (copy of the key map + decode of every key + compile reusing unchanged
// contexts). Also the initial load: decode of every key against the policy file's
// parse. Publication (RCU) is not included. Initialises the EAL once per process.
// Control path; not thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/expected.hpp"

namespace sgfw::bench {

struct EtcdBatchBenchOptions {
  std::string policy_file;
  unsigned changes = 30;      // batches per path
  unsigned memory_mb = 4096;  // EAL -m
};

// One JSON object: machine, keys, load (file parse vs decode), and per path the
// median / p99 / min / max milliseconds of `changes` batches.
[[nodiscard]] core::Expected<nlohmann::ordered_json> run_etcd_batch_bench(const EtcdBatchBenchOptions& options);

}  // namespace sgfw::bench
