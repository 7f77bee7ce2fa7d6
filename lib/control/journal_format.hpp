// The set-groups change journal's text format (docs/design/update-protocol.md,
// "The change journal"): a header line naming the policy file content it applies to,
// then one line per accepted `vm set-groups`, each with its own checksum. Pure: no
// I/O. Thread-safe (no shared state). Errors are operator messages with a line number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace sgfw::control {

// One accepted membership change: the VM's whole new list (empty: none).
struct JournalRecord {
  std::string vm;
  std::vector<std::string> groups;
  bool operator==(const JournalRecord&) const = default;
};

// What a journal holds. `torn_line` is non-zero when its last line was cut short (a
// crash while appending: never acknowledged) and was left out.
struct JournalContents {
  std::string base_sha256;  // of the policy file content the records apply to
  std::vector<JournalRecord> records;
  size_t torn_line = 0;
  size_t good_bytes = 0;  // the length of the header and the whole records
};

// CRC-32C (Castagnoli) of `data`.
[[nodiscard]] uint32_t crc32c(std::string_view data);

// "sgfw-journal 1 <sha256>\n".
[[nodiscard]] std::string journal_header(std::string_view base_sha256);
// "set-groups <vm> <g1,g2|-> <crc32c as 8 hex digits>\n". Names are policy names
// ([a-z0-9-], never empty), so the fields need no quoting.
[[nodiscard]] std::string journal_line(const JournalRecord& r);

// Parses a whole journal. A last line without its newline or with a bad checksum is
// torn (left out, torn_line set); any other defect is an error "line N: what", e.g. a
// bad checksum before the last line, an unknown keyword, a bad name, a bad header.
[[nodiscard]] core::Expected<JournalContents> parse_journal(std::string_view text);

}  // namespace sgfw::control
