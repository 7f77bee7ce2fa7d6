// One log file (docs/logs.md, "Files"): appended to with buffered writes, reopened by
// path on SIGHUP (after logrotate renamed it). Control path. Thread-safety: one thread.
#pragma once

#include <cstdio>
#include <string>

#include "core/expected.hpp"

namespace sgfw::logs {

class LogFile {
 public:
  LogFile() = default;
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;
  ~LogFile() { close(); }

  // Opens (creates, mode 0640) `path` for appending. Error: it cannot be opened.
  [[nodiscard]] core::Expected<void> open(const std::string& path);
  // Opens the path again (a new file if it was renamed); on error the old file stays.
  [[nodiscard]] core::Expected<void> reopen();
  // Appends `line` and a newline (buffered). False on a write error (counted by the caller).
  bool write_line(const std::string& line);
  void flush();
  [[nodiscard]] bool is_open() const { return f_ != nullptr; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  void close();
  std::string path_;
  FILE* f_ = nullptr;
};

}  // namespace sgfw::logs
