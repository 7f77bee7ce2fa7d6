// sgfw-bench flow-table: insert rates of the connection table with one and with two
// writer threads, and the bulk lookup rate, of the IPv4 (--family 4) or the IPv6
// (--family 6) table, each writer inserting in bursts of 32 as a worker does
// (docs/design/flow-table.md, "Burst inserts": one hold of the table's writer lock per
// burst; this measures what sharing it costs). Initialises the EAL (two lcores).
#pragma once

#include <nlohmann/json.hpp>

#include "core/expected.hpp"

namespace sgfw::bench {

struct FlowTableBenchOptions {
  unsigned connections = 1000000;
  unsigned repeats = 3;
  unsigned family = 4;  // 4: FlowTable, 6: FlowTable6
};

[[nodiscard]] core::Expected<nlohmann::ordered_json> run_flow_table_bench(const FlowTableBenchOptions& o);

}  // namespace sgfw::bench
