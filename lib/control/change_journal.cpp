#include "control/change_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "config/file_writer.hpp"
#include "policy/validate.hpp"

namespace sgfw::control {

core::Expected<ChangeJournal> ChangeJournal::create(const std::string& path, const std::string& base_sha256) {
  std::string header = journal_header(base_sha256);
  if (auto st = config::write_file_atomically(path, header); !st) return core::make_error(st.error().message);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return core::make_error("cannot open " + path + ": " + std::strerror(errno));
  return ChangeJournal(path, fd, header.size());
}

namespace {

// The journal's text; nullopt when there is none.
core::Expected<std::optional<std::string>> read_journal(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return core::make_error(path + ": " + std::strerror(errno));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::make_error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return core::make_error(path + ": cannot read");
  return std::optional<std::string>(ss.str());
}

}  // namespace

core::Expected<ChangeJournal> ChangeJournal::open(const std::string& path, const std::string& base_sha256) {
  auto text = read_journal(path);
  if (!text) return core::make_error(text.error().message);
  if (!*text) return create(path, base_sha256);
  auto contents = parse_journal(**text);
  if (!contents) return core::make_error(path + ": " + contents.error().message);
  if (contents->base_sha256 != base_sha256) return create(path, base_sha256);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return core::make_error("cannot open " + path + ": " + std::strerror(errno));
  // A torn last record goes: the next record must not follow it.
  if ((**text).size() != contents->good_bytes &&
      (::ftruncate(fd, static_cast<off_t>(contents->good_bytes)) != 0 || ::fdatasync(fd) != 0)) {
    int err = errno;
    ::close(fd);
    return core::make_error("cannot cut the torn end of " + path + ": " + std::strerror(err));
  }
  ChangeJournal j(path, fd, contents->good_bytes);
  j.records_ = contents->records.size();
  return j;
}

ChangeJournal::ChangeJournal(ChangeJournal&& o) noexcept
    : path_(std::move(o.path_)), fd_(o.fd_), bytes_(o.bytes_), records_(o.records_) {
  o.fd_ = -1;
}

ChangeJournal& ChangeJournal::operator=(ChangeJournal&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = o.fd_;
    bytes_ = o.bytes_;
    records_ = o.records_;
    o.fd_ = -1;
  }
  return *this;
}

ChangeJournal::~ChangeJournal() {
  if (fd_ >= 0) ::close(fd_);
}

core::Status ChangeJournal::append(const JournalRecord& r) {
  if (fd_ < 0) return core::make_error("the journal " + path_ + " is not open");
  std::string line = journal_line(r);
  size_t off = 0;
  int err = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (err == 0 && ::fdatasync(fd_) != 0) err = errno;
  if (err != 0) {
    // Nothing half-written may stay: a later record after it would make it damage in
    // the middle of the journal (a start-up error).
    if (::ftruncate(fd_, static_cast<off_t>(bytes_)) != 0 || ::fdatasync(fd_) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    return core::make_error("cannot append to " + path_ + ": " + std::strerror(err));
  }
  bytes_ += line.size();
  ++records_;
  return {};
}

core::Status ChangeJournal::reset(const std::string& base_sha256) {
  auto fresh = create(path_, base_sha256);
  if (!fresh) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;  // appending to the old one would journal against the wrong content
    return core::make_error(fresh.error().message);
  }
  *this = std::move(*fresh);
  return {};
}

core::Expected<ReplayResult> replay_journal(const std::string& journal_path, const std::string& file_sha256,
                                            policy::Policy& policy) {
  ReplayResult out;
  auto read = read_journal(journal_path);
  if (!read) return core::make_error(read.error().message);
  if (!*read) return out;
  const std::string& text = **read;
  const std::string refuse =
      " (sgfwd does not start from a half-applied journal; to start from the policy file alone, losing the "
      "changes the journal holds, move the journal away)";
  auto contents = parse_journal(text);
  if (!contents) return core::make_error(journal_path + ": " + contents.error().message + refuse);
  if (contents->base_sha256 != file_sha256) {
    out.notes.push_back("journal " + journal_path + " was written for other policy file content (the file was "
                        "rewritten after it): its " + std::to_string(contents->records.size()) +
                        " change(s) are not applied");
    return out;
  }
  for (size_t i = 0; i < contents->records.size(); ++i) {
    const JournalRecord& r = contents->records[i];
    if (auto s = policy::set_vm_groups(policy, r.vm, r.groups); !s)
      return core::make_error(journal_path + ": line " + std::to_string(i + 2) + ": " + s.error().message + refuse);
    ++out.applied;
  }
  if (contents->torn_line != 0)
    out.notes.push_back("journal " + journal_path + ": line " + std::to_string(contents->torn_line) +
                        " is cut short (a crash while it was written; that change was never acknowledged): left out");
  return out;
}

}  // namespace sgfw::control
