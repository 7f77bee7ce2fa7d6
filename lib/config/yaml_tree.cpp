#include "config/yaml_tree.hpp"

namespace sgfw::config {

const std::string& YamlNode::Scalar() const {
  static const std::string kEmpty;
  return IsScalar() ? item_->scalar : kEmpty;
}

size_t YamlNode::size() const {
  if (IsSequence()) return item_->kids.size();
  if (IsMap()) return item_->kids.size() / 2;
  return 0;
}

YamlNode::Iterator YamlNode::begin() const {
  return Iterator(IsSequence() ? item_->kids.data() : nullptr);
}

YamlNode::Iterator YamlNode::end() const {
  return Iterator(IsSequence() ? item_->kids.data() + item_->kids.size() : nullptr);
}

YamlItem& YamlDocument::add(YamlKind kind, const YAML::Mark& mark) {
  YamlItem& item = items_.emplace_back();
  item.kind = kind;
  item.mark = mark;
  return item;
}

}  // namespace sgfw::config
