// The log writer (docs/logs.md): the consumer of the LogRing, on the daemon's control
// thread. drain() takes the records the workers handed over, names them, applies each
// file's rate limit and appends one JSON line per record; reopen() opens both files
// again (SIGHUP, logrotate). Control path; allocates. Thread-safety: every call on the
// thread that created it (the ring's consumer); counters() from the same thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "core/expected.hpp"
#include "logs/json_line.hpp"
#include "logs/log_file.hpp"
#include "logs/log_ring.hpp"
#include "logs/rate_limiter.hpp"

namespace sgfw::logs {

struct LogWriterOptions {
  std::string connections;       // path, or empty: admit/end records are not written
  std::string drops;             // path, or empty: drop records are not written
  uint32_t rate_limit_per_s = 1000;
  TimeBase time;
};

struct FileCounters {
  uint64_t written = 0;     // lines written (the suppressed-summary lines not included)
  uint64_t suppressed = 0;  // lines the rate limit held back
  uint64_t lost = 0;        // records lost to a full ring
  uint64_t errors = 0;      // lines the file refused (write error, disk full)
};

class LogWriter {
 public:
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;
  ~LogWriter();

  // Opens the files (at least one path) and becomes `ring`'s consumer. `ring` and
  // `names` outlive the writer. Error: a file cannot be opened.
  [[nodiscard]] static core::Expected<std::unique_ptr<LogWriter>> open(const LogWriterOptions& o, LogRing* ring,
                                                                       const Names* names);
  // Writes every record in the ring, and the summary of every finished second that
  // suppressed lines (`now_tsc`: the current TSC); flushes. Returns the records taken.
  size_t drain(uint64_t now_tsc);
  // Reopens both files by path; errors are returned (the old files stay in use).
  [[nodiscard]] core::Status reopen();
  [[nodiscard]] FileCounters counters(File f) const;
  [[nodiscard]] bool enabled(File f) const { return files_[static_cast<size_t>(f)].is_open(); }
  [[nodiscard]] const std::string& path(File f) const { return files_[static_cast<size_t>(f)].path(); }

 private:
  LogWriter(const LogWriterOptions& o, LogRing* ring, const Names* names);
  void write(const Record& r);
  size_t take();  // writes every record in the ring
  void summary(File f, const RateLimiter::Window& w);
  static void drain_now(void* self);

  LogWriterOptions opts_;
  LogRing* ring_;
  const Names* names_;
  std::array<LogFile, kFileCount> files_;
  std::array<RateLimiter, kFileCount> limits_;
  std::array<FileCounters, kFileCount> counts_{};
};

}  // namespace sgfw::logs
