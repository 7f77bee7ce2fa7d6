// The persisted_copy fuzz target (docs/fuzzing.md): the header line of a following
// daemon's persisted etcd copy (follow::parse_copy_header, lib/follow/persisted_copy.hpp),
// read at start from a file that an operator's editor or a full disk may have left in
// any state. Input: the file's text. Properties: never crashes; every error is the
// documented "not a persisted etcd copy (...)"; only the first line counts (the first
// line alone gives the same header); a parsed header, written again with
// copy_header_text behind "# " (alone, with a newline, and followed by the rest of the
// input), parses back to the same header; with a printable prefix (bytes 0x21-0x7e), the
// whole copy of an empty policy (copy_text) gives the same header and loads as a policy.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/policy_loader.hpp"
#include "entries.hpp"
#include "follow/persisted_copy.hpp"

namespace sgfw::fuzz {

namespace {

[[noreturn]] void wrong(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::abort();
}

constexpr std::string_view kNotACopy = "not a persisted etcd copy";

bool same(const follow::CopyHeader& a, const follow::CopyHeader& b) {
  return a.prefix == b.prefix && a.revision == b.revision && a.appliance == b.appliance;
}

bool printable(std::string_view s) {
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

void expect_header(std::string_view text, const follow::CopyHeader& h, const char* what) {
  auto again = follow::parse_copy_header(text);
  if (!again) wrong(std::string(what) + " does not parse: " + again.error().message);
  if (!same(*again, h)) wrong(std::string(what) + " parses to another header: " + follow::copy_header_text(*again));
}

}  // namespace

int persisted_copy(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto h = follow::parse_copy_header(text);
  if (!h) {
    if (h.error().message.rfind(kNotACopy, 0) != 0) wrong("error not saying what it is: " + h.error().message);
    return 0;
  }
  size_t nl = text.find('\n');
  expect_header(text.substr(0, nl), *h, "the first line alone");
  const std::string line = "# " + follow::copy_header_text(*h);
  expect_header(line, *h, "the written header");
  expect_header(line + "\n", *h, "the written header line");
  if (nl != std::string_view::npos)
    expect_header(line + std::string(text.substr(nl)), *h, "the written header, then the input's rest");
  if (!printable(h->prefix)) return 0;  // a CR, say, would end the YAML comment the copy writes
  const std::string copy = follow::copy_text(policy::Policy{}, *h);
  expect_header(copy, *h, "the copy of an empty policy");
  auto p = config::load_policy_text(copy, "copy.yaml");
  if (!p) wrong("the copy of an empty policy does not load: " + p.error().message + "\n" + copy);
  return 0;
}

}  // namespace sgfw::fuzz
