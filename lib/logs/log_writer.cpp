#include "logs/log_writer.hpp"

#include <rte_cycles.h>

namespace sgfw::logs {

LogWriter::LogWriter(const LogWriterOptions& o, LogRing* ring, const Names* names)
    : opts_(o), ring_(ring), names_(names), limits_{RateLimiter(o.rate_limit_per_s), RateLimiter(o.rate_limit_per_s)} {}

LogWriter::~LogWriter() {
  for (auto& f : files_) f.flush();
}

core::Expected<std::unique_ptr<LogWriter>> LogWriter::open(const LogWriterOptions& o, LogRing* ring,
                                                           const Names* names) {
  if (o.connections.empty() && o.drops.empty()) return core::make_error("logs: no file to write");
  if (o.rate_limit_per_s == 0) return core::make_error("logs: rate_limit_per_s must be at least 1");
  std::unique_ptr<LogWriter> w(new LogWriter(o, ring, names));
  const std::string* paths[kFileCount] = {&o.connections, &o.drops};
  for (size_t i = 0; i < kFileCount; ++i) {
    if (paths[i]->empty()) continue;
    if (auto st = w->files_[i].open(*paths[i]); !st) return core::make_error(st.error().message);
  }
  ring->set_consumer(&LogWriter::drain_now, w.get());
  return w;
}

// The ring is full on the consumer thread: write what it holds (no second closes here).
void LogWriter::drain_now(void* self) { static_cast<LogWriter*>(self)->take(); }

void LogWriter::summary(File f, const RateLimiter::Window& w) {
  LogFile& file = files_[static_cast<size_t>(f)];
  if (!file.write_line(format_suppressed(w.second, w.suppressed))) ++counts_[static_cast<size_t>(f)].errors;
}

void LogWriter::write(const Record& r) {
  const File f = file_of(r.kind);
  const size_t i = static_cast<size_t>(f);
  if (!files_[i].is_open()) return;
  std::optional<RateLimiter::Window> closed;
  const bool ok = limits_[i].admit(opts_.time.unix_ns(r.tsc) / 1000000000, &closed);
  if (closed) summary(f, *closed);
  if (!ok) {
    ++counts_[i].suppressed;
    return;
  }
  if (files_[i].write_line(format_record(r, *names_, opts_.time))) ++counts_[i].written;
  else ++counts_[i].errors;
}

size_t LogWriter::take() {
  constexpr unsigned kBatch = 64;
  Record batch[kBatch];
  size_t taken = 0;
  // Bounded: the control thread's other work waits at most this many records.
  for (unsigned n; taken < (1u << 20) && (n = ring_->pop_burst(batch, kBatch)) != 0; taken += n)
    for (unsigned k = 0; k < n; ++k) write(batch[k]);
  return taken;
}

size_t LogWriter::drain(uint64_t now_tsc) {
  const size_t taken = take();
  const int64_t now_sec = opts_.time.unix_ns(now_tsc) / 1000000000;
  for (size_t i = 0; i < kFileCount; ++i) {
    if (!files_[i].is_open()) continue;
    if (auto w = limits_[i].expire(now_sec)) summary(static_cast<File>(i), *w);
    files_[i].flush();
  }
  return taken;
}

core::Status LogWriter::reopen() {
  core::Status result;
  for (auto& f : files_) {
    if (!f.is_open()) continue;
    f.flush();
    if (auto st = f.reopen(); !st && result) result = st;
  }
  return result;
}

FileCounters LogWriter::counters(File f) const {
  FileCounters c = counts_[static_cast<size_t>(f)];
  c.lost = ring_->lost(f);
  return c;
}

}  // namespace sgfw::logs
