// A traced packet as JSON (docs/capture.md, "Trace"): the record's events in the
// vocabulary of `explain` (stage names, drop reasons, rules as group/rule, VM names).
// Control thread; pure over its arguments.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "capture/trace_record.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::control {

// snap: the running snapshot; VMs and rules are named only when it is the generation
// that judged the packet (else "vm #i" and "rule #i of generation g").
[[nodiscard]] nlohmann::ordered_json trace_packet_json(const capture::TraceRecord& r, const runtime::Snapshot* snap,
                                                       const std::vector<std::string>& port_names);

}  // namespace sgfw::control
