// One Record as one JSON line (docs/logs.md, "Records"): names resolved through Names,
// TSC times turned into UTC wall-clock time through a TimeBase. Control path (the log
// writer's thread); allocates. Thread-safety: pure over its arguments.
#pragma once

#include <cstdint>
#include <string>

#include "logs/record.hpp"

namespace sgfw::logs {

// What the writer needs to name VMs and rules; implemented by the daemon over the
// control plane (stable VM ids, the rule labels it keeps per generation).
class Names {
 public:
  virtual ~Names() = default;
  // The VM holding stable id `id`, or nullptr (released since).
  [[nodiscard]] virtual const std::string* vm(uint32_t id) const = 0;
  // "group/rule" of rule `index` (id, not id + 1) of `generation`, or nullptr when the
  // generation's labels are no longer kept.
  [[nodiscard]] virtual const std::string* rule(uint64_t generation, uint32_t index) const = 0;
};

// TSC -> UTC: unix_ns0 was the wall-clock time when the TSC read tsc0.
struct TimeBase {
  uint64_t tsc_hz = 1;
  uint64_t tsc0 = 0;
  int64_t unix_ns0 = 0;
  [[nodiscard]] int64_t unix_ns(uint64_t tsc) const;
};

// "2026-11-30T07:01:02.123Z" (milliseconds, UTC).
[[nodiscard]] std::string format_time(int64_t unix_ns);

// One line, without the newline. Unknown names: a VM as null, a rule as
// "generation G rule #N" (as `sgfwctl flows` does).
[[nodiscard]] std::string format_record(const Record& r, const Names& names, const TimeBase& tb);

// The rate limiter's summary of a second in which `count` lines were suppressed.
[[nodiscard]] std::string format_suppressed(int64_t second, uint64_t count);

}  // namespace sgfw::logs
