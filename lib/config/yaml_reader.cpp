#include "config/yaml_reader.hpp"

#include <algorithm>

namespace sgfw::config {

std::string located(std::string_view file, const YAML::Mark& mark, std::string_view message) {
  std::string s(file);
  s += ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1) + ": ";
  s += message;
  return s;
}

void fail(std::string_view file, const YAML::Mark& mark, std::string_view message) {
  throw LoadError(located(file, mark, message));
}

MapReader::MapReader(std::string_view file, const YAML::Node& node, std::string_view what,
                     std::initializer_list<std::string_view> allowed)
    : file_(file), what_(what), mark_(node.Mark()) {
  if (!node.IsMap()) fail(file, node.Mark(), std::string(what) + " must be a mapping");
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: `it->first` is a member of a proxy the iterator returns by value, so a
    // reference to it dangles at the end of this statement (use after scope).
    const YAML::Node k = it->first;
    if (!k.IsScalar()) fail(file, k.Mark(), "keys of " + std::string(what) + " must be scalars");
    std::string key = k.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      fail(file, k.Mark(), "unknown key '" + key + "' in " + std::string(what));
    if (entries_.count(key)) fail(file, k.Mark(), "duplicate key '" + key + "'");
    entries_.emplace(key, Entry{it->second, k.Mark()});
  }
}

YAML::Node MapReader::get(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? YAML::Node() : it->second.value;
}

YAML::Mark MapReader::key_mark(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? mark_ : it->second.key_mark;
}

YAML::Node MapReader::require(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) fail(file_, mark_, what_ + " has no '" + std::string(key) + "'");
  // An empty value ("name:") is a null node whose mark is the *next* token, often on
  // the next line: report it at the key instead.
  if (it->second.value.IsNull())
    fail(file_, it->second.key_mark, "'" + std::string(key) + "' has no value");
  return it->second.value;
}

std::string scalar(std::string_view file, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) fail(file, node.Mark(), std::string(what) + " must be a scalar");
  return node.Scalar();
}

long long integer(std::string_view file, const YAML::Node& node, std::string_view what) {
  std::string s = scalar(file, node, what);
  bool neg = !s.empty() && s[0] == '-';
  std::string_view digits = neg ? std::string_view(s).substr(1) : std::string_view(s);
  if (digits.empty() || digits.size() > 12 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    fail(file, node.Mark(), std::string(what) + " must be an integer, not '" + s + "'");
  long long v = std::stoll(std::string(digits));
  return neg ? -v : v;
}

bool boolean(std::string_view file, const YAML::Node& node, std::string_view what) {
  std::string s = scalar(file, node, what);
  if (s == "true") return true;
  if (s == "false") return false;
  fail(file, node.Mark(), std::string(what) + " must be true or false, not '" + s + "'");
}

void expect_sequence(std::string_view file, const YAML::Node& node, std::string_view what) {
  if (!node.IsNull() && !node.IsSequence())
    fail(file, node.Mark(), std::string(what) + " must be a list");
}

}  // namespace sgfw::config
