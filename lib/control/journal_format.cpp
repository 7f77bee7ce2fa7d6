#include "control/journal_format.hpp"

#include <array>
#include <cstdio>

#include "policy/model.hpp"

namespace sgfw::control {

namespace {

constexpr std::string_view kMagic = "sgfw-journal 1 ";
constexpr std::string_view kSetGroups = "set-groups ";

constexpr std::array<uint32_t, 256> crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = crc_table();

std::string hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// The body of a record line (without the checksum field): what it says, or why not.
core::Expected<JournalRecord> parse_body(std::string_view body) {
  if (body.substr(0, kSetGroups.size()) != kSetGroups) return core::make_error("not a set-groups record");
  auto fields = split(body.substr(kSetGroups.size()), ' ');
  if (fields.size() != 2) return core::make_error("a set-groups record has a VM and a group list");
  JournalRecord r;
  if (!policy::is_valid_name(fields[0])) return core::make_error("bad VM name");
  r.vm = fields[0];
  if (fields[1] != "-") {
    for (auto g : split(fields[1], ',')) {
      if (!policy::is_valid_name(g)) return core::make_error("bad group name");
      r.groups.emplace_back(g);
    }
  }
  return r;
}

}  // namespace

uint32_t crc32c(std::string_view data) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : data) c = kCrcTable[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::string journal_header(std::string_view base_sha256) {
  return std::string(kMagic) + std::string(base_sha256) + "\n";
}

std::string journal_line(const JournalRecord& r) {
  std::string body = std::string(kSetGroups) + r.vm + " ";
  if (r.groups.empty()) body += "-";
  for (size_t i = 0; i < r.groups.size(); ++i) body += (i ? "," : "") + r.groups[i];
  return body + " " + hex8(crc32c(body)) + "\n";
}

core::Expected<JournalContents> parse_journal(std::string_view text) {
  JournalContents out;
  size_t nl = text.find('\n');
  std::string_view header = text.substr(0, nl);
  if (nl == std::string_view::npos || header.substr(0, kMagic.size()) != kMagic ||
      header.size() != kMagic.size() + 64 || !is_hex(header.substr(kMagic.size())))
    return core::make_error("line 1: not an sgfw journal (expected 'sgfw-journal 1 <sha256>')");
  out.base_sha256 = header.substr(kMagic.size());
  size_t pos = nl + 1;
  out.good_bytes = pos;
  for (size_t line = 2; pos < text.size(); ++line) {
    size_t end = text.find('\n', pos);
    const bool last = end == std::string_view::npos || end + 1 == text.size();
    if (end == std::string_view::npos) {  // cut short by a crash: never acknowledged
      out.torn_line = line;
      break;
    }
    std::string_view l = text.substr(pos, end - pos);
    size_t sp = l.rfind(' ');
    std::string_view sum = sp == std::string_view::npos ? std::string_view() : l.substr(sp + 1);
    std::string_view body = sp == std::string_view::npos ? l : l.substr(0, sp);
    if (sum.size() != 8 || !is_hex(sum) || hex8(crc32c(body)) != sum) {
      if (last) {
        out.torn_line = line;
        break;
      }
      return core::make_error("line " + std::to_string(line) + ": bad checksum (a damaged record before the last one)");
    }
    auto rec = parse_body(body);
    if (!rec) return core::make_error("line " + std::to_string(line) + ": " + rec.error().message);
    out.records.push_back(std::move(*rec));
    pos = end + 1;
    out.good_bytes = pos;
  }
  return out;
}

}  // namespace sgfw::control
