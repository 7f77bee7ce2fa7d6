#include "config/yaml_reader.hpp"

#include "core/escape.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <optional>
#include <sstream>

namespace sgfw::config {

std::string located(std::string_view file, const YAML::Mark& mark, std::string_view message) {
  // Both may carry client text (a name given to reload, quoted tokens): escaped and
  // bounded here, once, for every loader message (core/escape.hpp).
  std::string s = core::escape_for_log(file, 256);
  s += ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1) + ": ";
  s += core::escape_for_log(message);
  return s;
}

namespace {

// Checks the event stream of one document; builds nothing.
class DocumentChecker : public YAML::EventHandler {
 public:
  explicit DocumentChecker(std::string_view file) : file_(file) {}
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { node(mark, anchor); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    fail(file_, mark, "aliases (*name) are not allowed");
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    node(mark, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { --depth_; }
  void OnAnchor(const YAML::Mark& mark, const std::string&) override {
    fail(file_, mark, "anchors (&name) are not allowed");
  }

 private:
  void node(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) fail(file_, mark, "anchors (&name) are not allowed");
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    node(mark, anchor);
    if (++depth_ > kMaxYamlDepth)
      fail(file_, mark, "nested deeper than " + std::to_string(kMaxYamlDepth) + " levels");
  }
  std::string_view file_;
  int depth_ = 0;
};

// Remembers where a second document starts.
// Remembers where a second document starts (its first node, else its start).
class SecondDocument : public DocumentChecker {
 public:
  using DocumentChecker::DocumentChecker;
  void OnDocumentStart(const YAML::Mark& mark) override { start_ = mark; }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t a) override { at(mark); DocumentChecker::OnNull(mark, a); }
  void OnScalar(const YAML::Mark& mark, const std::string& t, YAML::anchor_t a, const std::string& v) override {
    at(mark);
    DocumentChecker::OnScalar(mark, t, a, v);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& t, YAML::anchor_t a,
                       YAML::EmitterStyle::value s) override {
    at(mark);
    DocumentChecker::OnSequenceStart(mark, t, a, s);
  }
  void OnMapStart(const YAML::Mark& mark, const std::string& t, YAML::anchor_t a, YAML::EmitterStyle::value s) override {
    at(mark);
    DocumentChecker::OnMapStart(mark, t, a, s);
  }
  [[nodiscard]] YAML::Mark mark() const { return first_ ? *first_ : start_; }

 private:
  void at(const YAML::Mark& m) {
    if (!first_) first_ = m;
  }
  YAML::Mark start_;
  std::optional<YAML::Mark> first_;
};

}  // namespace

YAML::Node load_one_document(std::string_view text, std::string_view file, std::string_view what) {
  {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    DocumentChecker checker(file);
    if (!parser.HandleNextDocument(checker)) return YAML::Node();
    // Parsing stops after the second document (itself bounded by the text), so an
    // endless stream of empty documents costs nothing.
    SecondDocument second(file);
    if (parser.HandleNextDocument(second))
      fail(file, second.mark(), "a " + std::string(what) + " holds one YAML document");
  }
  return YAML::Load(std::string(text));
}

void fail(std::string_view file, const YAML::Mark& mark, std::string_view message) {
  throw LoadError(located(file, mark, message));
}

MapReader::MapReader(std::string_view file, const YAML::Node& node, std::string_view what,
                     std::initializer_list<std::string_view> allowed)
    : file_(file), what_(what), mark_(node.Mark()) {
  if (!node.IsMap()) fail(file, node.Mark(), std::string(what) + " must be a mapping");
  for (auto it = node.begin(); it != node.end(); ++it) {
    // A copy: it->first lives in a proxy destroyed at the end of the statement (a
    // reference to it dangled; found by the fuzzers under ASan).
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
