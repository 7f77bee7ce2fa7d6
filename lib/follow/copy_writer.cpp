#include "follow/copy_writer.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config/file_writer.hpp"

namespace sgfw::follow {

CopyWriter::CopyWriter(std::string path, std::chrono::milliseconds interval)
    : path_(std::move(path)), interval_(interval), thread_([this] { run(); }) {}

CopyWriter::~CopyWriter() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CopyWriter::offer(std::shared_ptr<const policy::Policy> policy, CopyHeader header) {
  {
    std::lock_guard<std::mutex> l(mu_);
    pending_ = std::move(policy);
    header_ = std::move(header);
  }
  cv_.notify_all();
}

uint64_t CopyWriter::written() const {
  std::lock_guard<std::mutex> l(mu_);
  return written_;
}

std::string CopyWriter::last_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

void CopyWriter::run() {
  // The lowest CPU priority for this thread alone (Linux: nice is per thread): writing
  // the copy of a large policy (7 MiB of YAML at 10,000 VMs) must not delay the control
  // thread applying the next change on a machine with few cores (docs/fleet.md). A
  // failure leaves the default priority.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
  std::unique_lock<std::mutex> l(mu_);
  auto last = std::chrono::steady_clock::now() - interval_;
  for (;;) {
    cv_.wait(l, [this] { return stop_ || pending_; });
    if (!pending_) return;  // stopping with nothing to write
    // Coalesce: wait out the interval since the last write (offers meanwhile replace
    // the pending policy), unless stopping.
    cv_.wait_until(l, last + interval_, [this] { return stop_; });
    auto policy = std::move(pending_);
    CopyHeader header = header_;
    l.unlock();
    std::string text = copy_text(*policy, header);
    auto st = config::write_file_atomically(path_, text);
    policy.reset();
    l.lock();
    last = std::chrono::steady_clock::now();
    if (st) {
      ++written_;
      error_.clear();
    } else {
      error_ = st.error().message;
    }
  }
}

}  // namespace sgfw::follow
