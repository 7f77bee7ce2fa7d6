// Strict YAML reading helpers for the loaders: every error carries "file:line:col"
// pointing at the offending token; unknown and duplicate keys are errors (yaml-cpp
// silently keeps the first of two duplicate keys, so we check ourselves).
// Control-path only. Errors are thrown as LoadError and turned into core::Error at the
// loader's boundary; nothing here is used on the packet path.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/yaml_tree.hpp"

#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sgfw::config {

class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `text` as exactly one YAML document and returns its tree (yaml_tree.hpp);
// throws LoadError (located) on a second document, an alias or anchor (`&x`/`*x`: they
// let a small file expand without bound; docs/testing.md, "A hostile member of
// control_group"), nesting deeper than kMaxYamlDepth, and YAML::Exception on a syntax
// error. One pass over the parser's events (libyaml's, or yaml-cpp's for every text
// libyaml declines and every error: yaml_sources.hpp) checks the rules and builds the tree; the
// parser then reads only as far as the start of a second document's first node
// (yaml-cpp's LoadAll on the one-byte text "," produces empty documents until memory
// runs out).
inline constexpr int kMaxYamlDepth = 64;
[[nodiscard]] YamlDocument load_one_document(std::string_view text, std::string_view file,
                                           std::string_view what);

// Formats "file:line:col: message" (1-based line and column).
[[nodiscard]] std::string located(std::string_view file, const YAML::Mark& mark,
                                  std::string_view message);

// A YAML map read with its keys checked: duplicates and keys outside `allowed` throw.
class MapReader {
 public:
  MapReader(std::string_view file, const YamlNode& node, std::string_view what,
            std::initializer_list<std::string_view> allowed);

  [[nodiscard]] bool has(std::string_view key) const { return entries_.count(std::string(key)) != 0; }
  // The value node (null Node if absent).
  [[nodiscard]] YamlNode get(std::string_view key) const;
  // The mark of the key token itself (the map's mark if absent).
  [[nodiscard]] YAML::Mark key_mark(std::string_view key) const;
  // Throws "<what> has no '<key>'" at the map when absent, "'<key>' has no value" at
  // the key when its value is empty/null.
  [[nodiscard]] YamlNode require(std::string_view key) const;
  [[nodiscard]] const YAML::Mark& mark() const { return mark_; }

 private:
  struct Entry {
    YamlNode value;
    YAML::Mark key_mark;
  };
  std::string file_;
  std::string what_;
  YAML::Mark mark_;
  std::map<std::string, Entry, std::less<>> entries_;
};

// Scalar helpers; each throws LoadError located at the node.
[[nodiscard]] std::string scalar(std::string_view file, const YamlNode& node,
                                 std::string_view what);
[[nodiscard]] long long integer(std::string_view file, const YamlNode& node,
                                std::string_view what);
[[nodiscard]] bool boolean(std::string_view file, const YamlNode& node, std::string_view what);

// Throws unless node is a sequence (a null node counts as empty).
void expect_sequence(std::string_view file, const YamlNode& node, std::string_view what);

[[noreturn]] void fail(std::string_view file, const YAML::Mark& mark, std::string_view message);

}  // namespace sgfw::config
