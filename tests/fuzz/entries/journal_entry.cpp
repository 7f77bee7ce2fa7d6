// The `journal` target (docs/fuzzing.md): the set-groups change journal's parser, which
// reads a file sgfwd wrote itself but that a crash, a full disk or an operator's editor
// may have left in any state.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "control/journal_format.hpp"
#include "entries.hpp"

namespace sgfw::fuzz {

namespace {

[[noreturn]] void wrong(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::abort();
}

}  // namespace

int journal(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = control::parse_journal(text);
  if (!parsed) {
    if (parsed.error().message.rfind("line ", 0) != 0) wrong("error without a line: " + parsed.error().message);
    return 0;
  }
  if (parsed->good_bytes > size) wrong("good_bytes past the end of the input");
  if (parsed->torn_line == 0 && parsed->good_bytes != size) wrong("nothing torn, yet bytes left over");
  // What parsed, written again, parses back to the same records with nothing torn.
  std::string again = control::journal_header(parsed->base_sha256);
  for (const auto& r : parsed->records) again += control::journal_line(r);
  auto back = control::parse_journal(again);
  if (!back) wrong("a written journal does not parse: " + back.error().message);
  if (back->records != parsed->records || back->base_sha256 != parsed->base_sha256 || back->torn_line != 0 ||
      back->good_bytes != again.size())
    wrong("a written journal does not parse back equal");
  return 0;
}

}  // namespace sgfw::fuzz
