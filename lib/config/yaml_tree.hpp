// The loaders' YAML document tree: what yaml-cpp's parser reports, kept as plain nodes
// with their marks, built in the same single pass that enforces the loaders' rules
// (yaml_reader.hpp: one document, no anchors or aliases, bounded depth). yaml-cpp's own
// tree (YAML::Load) needs a second scan of the text and a heavier node per value; for
// the 7 MiB policy of 10,000 VMs the scan dominates a reload (docs/performance-log.md,
// "Stop 13: one YAML pass").
// Two event sources feed the same builder rules (yaml_sources.hpp): libyaml, the fast
// one, for every text it vouches reproduces yaml-cpp exactly, and yaml-cpp for every
// other text and every error, so the tree, marks and messages are always yaml-cpp's
// (docs/dependencies.md, docs/performance-log.md "Stop 15").
// Nodes hold exactly what the parser's events say: a plain `~`, `null` or empty value
// is a null node (as yaml-cpp reports it), a quoted one a scalar.
// Thread-safety: a YamlDocument is immutable once built; YamlNode handles into it are
// valid while the document lives. Control path only; no errors here (the builder in
// yaml_reader.cpp reports them).
#pragma once

#include <yaml-cpp/mark.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace sgfw::config {

enum class YamlKind : uint8_t { kNull, kScalar, kSequence, kMap };

struct YamlItem {
  YamlKind kind = YamlKind::kNull;
  YAML::Mark mark;
  std::string scalar;                // kScalar
  std::vector<const YamlItem*> kids;  // kSequence: items; kMap: key, value, key, value, ...
};

// A handle to one node (or to none: an absent value, which is null). Cheap to copy.
class YamlNode {
 public:
  YamlNode() = default;
  explicit YamlNode(const YamlItem* item) : item_(item) {}

  [[nodiscard]] bool IsNull() const { return item_ == nullptr || item_->kind == YamlKind::kNull; }
  [[nodiscard]] bool IsScalar() const { return item_ != nullptr && item_->kind == YamlKind::kScalar; }
  [[nodiscard]] bool IsSequence() const { return item_ != nullptr && item_->kind == YamlKind::kSequence; }
  [[nodiscard]] bool IsMap() const { return item_ != nullptr && item_->kind == YamlKind::kMap; }
  // The text of a scalar; empty for any other node.
  [[nodiscard]] const std::string& Scalar() const;
  // Where the node starts; YAML::Mark::null_mark() (line and column -1) for an absent one.
  [[nodiscard]] YAML::Mark Mark() const { return item_ ? item_->mark : YAML::Mark::null_mark(); }
  // Items of a sequence, pairs of a map, else 0.
  [[nodiscard]] size_t size() const;

  // A map's i-th key and value (i < size()).
  [[nodiscard]] YamlNode key(size_t i) const { return YamlNode(item_->kids[2 * i]); }
  [[nodiscard]] YamlNode value(size_t i) const { return YamlNode(item_->kids[2 * i + 1]); }

  // Iteration over a sequence's items; nothing for any other node.
  class Iterator {
   public:
    explicit Iterator(const YamlItem* const* at) : at_(at) {}
    YamlNode operator*() const { return YamlNode(*at_); }
    Iterator& operator++() {
      ++at_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return at_ != o.at_; }

   private:
    const YamlItem* const* at_;
  };
  [[nodiscard]] Iterator begin() const;
  [[nodiscard]] Iterator end() const;

 private:
  const YamlItem* item_ = nullptr;
};

// Owns the nodes of one document. Movable, not copyable (handles point into it).
class YamlDocument {
 public:
  YamlDocument() = default;
  YamlDocument(YamlDocument&&) = default;
  YamlDocument& operator=(YamlDocument&&) = default;
  YamlDocument(const YamlDocument&) = delete;
  YamlDocument& operator=(const YamlDocument&) = delete;

  // The root (null for an empty document).
  [[nodiscard]] YamlNode root() const { return YamlNode(root_); }
  // The root item itself (nullptr when the text holds no document), for comparing trees.
  [[nodiscard]] const YamlItem* root_item() const { return root_; }

  // For the builder: a new node (stable address), and the root.
  YamlItem& add(YamlKind kind, const YAML::Mark& mark);
  void set_root(const YamlItem* root) { root_ = root; }

 private:
  std::deque<YamlItem> items_;
  const YamlItem* root_ = nullptr;
};

}  // namespace sgfw::config
