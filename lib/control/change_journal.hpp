// The set-groups change journal next to the policy file (docs/design/update-protocol.md,
// "The change journal"; format: journal_format.hpp): an accepted `vm set-groups` is
// made durable by appending one small record and fdatasync-ing it, instead of
// rewriting the whole policy file. The journal names the policy file content it
// applies to (its SHA-256); a reload or a compaction writes the policy file and then
// starts an empty journal for it. Control path; one owner (the control thread), not
// thread-safe. Errors are operator messages naming the file.
#pragma once

#include <string>

#include "control/journal_format.hpp"
#include "core/expected.hpp"
#include "policy/model.hpp"

namespace sgfw::control {

class ChangeJournal {
 public:
  // The journal of the policy file `policy_path`: "<policy_path>.journal".
  [[nodiscard]] static std::string path_for(const std::string& policy_path) { return policy_path + ".journal"; }

  // Replaces `path` atomically with an empty journal for the policy file content whose
  // SHA-256 is `base_sha256`, and opens it for appending.
  [[nodiscard]] static core::Expected<ChangeJournal> create(const std::string& path, const std::string& base_sha256);
  // Opens the journal at `path` for appending when it was written for `base_sha256`
  // (the records stay; a torn last record is cut off first), otherwise create()s an
  // empty one. Error: it cannot be read or written, or it is damaged (replay_journal
  // refuses it: the start-up stopped before this).
  [[nodiscard]] static core::Expected<ChangeJournal> open(const std::string& path, const std::string& base_sha256);

  ChangeJournal(ChangeJournal&& o) noexcept;
  ChangeJournal& operator=(ChangeJournal&& o) noexcept;
  ChangeJournal(const ChangeJournal&) = delete;
  ChangeJournal& operator=(const ChangeJournal&) = delete;
  ~ChangeJournal();

  // Appends `r` and waits until it is on disk (fdatasync). Error: the journal is cut
  // back to its previous length (nothing half-written stays) and the change must be
  // reverted; if even that fails the journal is broken() and must be replaced.
  [[nodiscard]] core::Status append(const JournalRecord& r);
  // Replaces the journal with an empty one for `base_sha256` (after the policy file
  // was rewritten).
  [[nodiscard]] core::Status reset(const std::string& base_sha256);

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] size_t bytes() const { return bytes_; }
  [[nodiscard]] size_t records() const { return records_; }
  [[nodiscard]] bool broken() const { return fd_ < 0; }

 private:
  ChangeJournal(std::string path, int fd, size_t bytes) : path_(std::move(path)), fd_(fd), bytes_(bytes) {}
  std::string path_;
  int fd_ = -1;
  size_t bytes_ = 0;
  size_t records_ = 0;
};

// What start-up found in a journal.
struct ReplayResult {
  size_t applied = 0;               // records applied to the policy
  std::vector<std::string> notes;   // torn last record, a journal for another file content
};

// Reads the journal at `journal_path` (none: nothing to do) and applies its records,
// in order, to `policy` (loaded from the policy file whose content hashes to
// `file_sha256`). A torn last record is left out with a note; a journal written for
// other content (the file was replaced after it: a compaction or reload that crashed
// before the new journal, or an edit while sgfwd was stopped) is not applied, with a
// note. Errors, and `policy` must then be dropped (it may be half-changed): the journal
// cannot be read, is damaged anywhere but at its end, or a record cannot be applied
// (unknown VM or group); the message names the file and line.
[[nodiscard]] core::Expected<ReplayResult> replay_journal(const std::string& journal_path,
                                                          const std::string& file_sha256, policy::Policy& policy);

}  // namespace sgfw::control
