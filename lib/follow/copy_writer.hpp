// Writes the persisted copy (persisted_copy.hpp) on its own thread, off the packet path
// and off the control thread: atomic replacement with fsync
// (config::write_file_atomically). A burst of offers is coalesced: at most one write per
// `interval`, always of the newest policy offered (docs/fleet.md, "Following the policy
// live").
//
// Thread-safety: offer() from one owner thread; written()/last_error() from any thread.
// The destructor writes a policy still pending, then joins. Errors are kept in
// last_error() (the next offer tries again).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "follow/persisted_copy.hpp"
#include "policy/model.hpp"

namespace sgfw::follow {

class CopyWriter {
 public:
  CopyWriter(std::string path, std::chrono::milliseconds interval);
  ~CopyWriter();
  CopyWriter(const CopyWriter&) = delete;
  CopyWriter& operator=(const CopyWriter&) = delete;

  // The policy to write (replaces one not yet written).
  void offer(std::shared_ptr<const policy::Policy> policy, CopyHeader header);
  [[nodiscard]] uint64_t written() const;
  [[nodiscard]] std::string last_error() const;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  void run();

  std::string path_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const policy::Policy> pending_;
  CopyHeader header_;
  bool stop_ = false;
  uint64_t written_ = 0;
  std::string error_;
  std::thread thread_;
};

}  // namespace sgfw::follow
