// sgfw-bench traffic: drives the real worker pipeline (dataplane::Pipeline, the code
// sgfwd's workers run) from pre-built mbufs on one lcore, and measures worker cycles
// per packet for the scenarios of the performance issue (docs/performance.md):
//   null        parse, anti-spoofing and forwarding only (the floor)
//   established every packet belongs to a live connection
//   new         every packet opens a new connection
//   deny        every packet is dropped by the rules (65,536 flows, repeated each pass)
//   deny-scan   as deny, but every pass to fresh destinations: no rule-check key repeats
//               (the classification cache's worst case; not in the default run)
//   mixed       90% established, 9% new, 1% denied
// Packets are UDP from the VMs' port to the uplink, IPv4 or (family 6) IPv6, with a
// policy of that family (traffic_frames.hpp); tx goes to a net_null port, which frees
// (here: dereferences) the mbufs. Each scenario's counters are checked against what it
// must do (forwarded, dropped by no-rule, connections created); a mismatch is an error.
// Initialises the EAL: once per process.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/expected.hpp"

namespace sgfw::bench {

// Every scenario name --scenario accepts.
inline const std::vector<std::string> kTrafficScenarios = {"null", "established", "new", "deny", "deny-scan", "mixed"};

struct TrafficOptions {
  std::vector<std::string> scenarios = {"null", "established", "new", "deny", "mixed"};  // the default run
  unsigned vms = 16;
  unsigned rules_per_vm = 100;
  unsigned connections = 100000;
  unsigned packet_size = 64;    // Ethernet frame bytes without FCS (>= 60; IPv6 >= 62)
  unsigned family = 4;          // 4 or 6: the frames' and the VMs' address family
  std::string classify = "default";  // rte_acl method: default, scalar, sse, avx2, avx512x16, avx512x32
  unsigned repeats = 5;
  unsigned passes = 3;          // passes over the packet set per repeat
  bool extra_1m = false;        // also `established` at 1M connections (the default run)
  unsigned memory_mb = 3072;
  bool hugepages = false;       // use hugepages (needs them reserved and mounted)
  // Connection and drop logs on, as sgfwd has them with `logs:` (docs/logs.md): the
  // pipeline gets a log ring, the tables end hooks, and a writer drains the ring to
  // /dev/null between timed passes (the writer is the control thread's cost, not timed).
  bool logs = false;
  // Stage 3's classification cache off (each worker's is on in sgfwd): its own effect,
  // measured in one binary (docs/performance.md).
  bool no_classify_cache = false;
};

// One JSON document as docs/public-interface.md gives it ({"machine": ..., "rows": [...]}).
[[nodiscard]] core::Expected<nlohmann::ordered_json> run_traffic_bench(const TrafficOptions& options);
[[nodiscard]] std::string traffic_table(const nlohmann::ordered_json& report);

}  // namespace sgfw::bench
