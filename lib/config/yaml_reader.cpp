#include "config/yaml_reader.hpp"

#include "config/yaml_sources.hpp"
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

// Checks the event stream of one document against the rules of yaml_reader.hpp; builds
// nothing (the second document's checker below).
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

 protected:
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

// Checks the first document as DocumentChecker does and builds its tree in the same pass.
class TreeBuilder : public DocumentChecker {
 public:
  TreeBuilder(std::string_view file, YamlDocument& doc) : DocumentChecker(file), doc_(doc) {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    node(mark, anchor);
    attach(doc_.add(YamlKind::kNull, mark));
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    node(mark, anchor);
    YamlItem& item = doc_.add(YamlKind::kScalar, mark);
    item.scalar = value;
    attach(item);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    start(YamlKind::kSequence, mark, anchor);
  }
  void OnSequenceEnd() override { end(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    start(YamlKind::kMap, mark, anchor);
  }
  void OnMapEnd() override { end(); }

 private:
  void attach(const YamlItem& item) {
    if (open_.empty())
      doc_.set_root(&item);
    else
      open_.back()->kids.push_back(&item);
  }
  void start(YamlKind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    open(mark, anchor);
    YamlItem& item = doc_.add(kind, mark);
    attach(item);
    open_.push_back(&item);
  }
  void end() {
    --depth_;
    open_.pop_back();
  }
  YamlDocument& doc_;
  std::vector<YamlItem*> open_;
};

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

YamlDocument load_one_document(std::string_view text, std::string_view file, std::string_view what) {
  // libyaml for speed where it vouches for yaml-cpp's tree; yaml-cpp decides the rest
  // and every error (yaml_sources.hpp).
  if (std::optional<YamlDocument> fast = load_one_document_libyaml(text)) return std::move(*fast);
  return load_one_document_yamlcpp(text, file, what);
}

YamlDocument load_one_document_yamlcpp(std::string_view text, std::string_view file, std::string_view what) {
  YamlDocument doc;
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  TreeBuilder builder(file, doc);
  if (!parser.HandleNextDocument(builder)) return doc;
  // Parsing stops after the second document (itself bounded by the text), so an
  // endless stream of empty documents costs nothing.
  SecondDocument second(file);
  if (parser.HandleNextDocument(second))
    fail(file, second.mark(), "a " + std::string(what) + " holds one YAML document");
  return doc;
}

void fail(std::string_view file, const YAML::Mark& mark, std::string_view message) {
  throw LoadError(located(file, mark, message));
}

MapReader::MapReader(std::string_view file, const YamlNode& node, std::string_view what,
                     std::initializer_list<std::string_view> allowed)
    : file_(file), what_(what), mark_(node.Mark()) {
  if (!node.IsMap()) fail(file, node.Mark(), std::string(what) + " must be a mapping");
  for (size_t i = 0; i < node.size(); ++i) {
    const YamlNode k = node.key(i);
    if (!k.IsScalar()) fail(file, k.Mark(), "keys of " + std::string(what) + " must be scalars");
    std::string key = k.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      fail(file, k.Mark(), "unknown key '" + key + "' in " + std::string(what));
    if (entries_.count(key)) fail(file, k.Mark(), "duplicate key '" + key + "'");
    entries_.emplace(key, Entry{node.value(i), k.Mark()});
  }
}

YamlNode MapReader::get(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? YamlNode() : it->second.value;
}

YAML::Mark MapReader::key_mark(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? mark_ : it->second.key_mark;
}

YamlNode MapReader::require(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) fail(file_, mark_, what_ + " has no '" + std::string(key) + "'");
  // An empty value ("name:") is a null node whose mark is the *next* token, often on
  // the next line: report it at the key instead.
  if (it->second.value.IsNull())
    fail(file_, it->second.key_mark, "'" + std::string(key) + "' has no value");
  return it->second.value;
}

std::string scalar(std::string_view file, const YamlNode& node, std::string_view what) {
  if (!node.IsScalar()) fail(file, node.Mark(), std::string(what) + " must be a scalar");
  return node.Scalar();
}

long long integer(std::string_view file, const YamlNode& node, std::string_view what) {
  std::string s = scalar(file, node, what);
  bool neg = !s.empty() && s[0] == '-';
  std::string_view digits = neg ? std::string_view(s).substr(1) : std::string_view(s);
  if (digits.empty() || digits.size() > 12 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    fail(file, node.Mark(), std::string(what) + " must be an integer, not '" + s + "'");
  long long v = std::stoll(std::string(digits));
  return neg ? -v : v;
}

bool boolean(std::string_view file, const YamlNode& node, std::string_view what) {
  std::string s = scalar(file, node, what);
  if (s == "true") return true;
  if (s == "false") return false;
  fail(file, node.Mark(), std::string(what) + " must be true or false, not '" + s + "'");
}

void expect_sequence(std::string_view file, const YamlNode& node, std::string_view what) {
  if (!node.IsNull() && !node.IsSequence())
    fail(file, node.Mark(), std::string(what) + " must be a list");
}

}  // namespace sgfw::config
