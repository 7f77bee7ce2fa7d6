// Runs both YAML event sources of load_one_document (lib/config/yaml_sources.hpp) on
// one text and compares them: shared by the unit test test_yaml_sources and the fuzz
// target yaml_sources (docs/fuzzing.md). Header-only, test code.
#pragma once

#include "config/yaml_reader.hpp"
#include "config/yaml_sources.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace sgfw::fuzz {

enum class YamlAgreement {
  kSameTree,             // libyaml vouched for a tree, yaml-cpp built the same one
  kDeclinedRejected,     // libyaml declined, yaml-cpp rejects: yaml-cpp's error is used
  kDeclinedAccepted,     // libyaml declined, yaml-cpp accepts: yaml-cpp's tree is used
  kTreesDiffer,          // wrong: both accept, trees differ
  kOnlyLibyamlAccepts,   // wrong: libyaml vouched, yaml-cpp rejects
};

struct YamlComparison {
  YamlAgreement agreement;
  std::string detail;  // what differs, or yaml-cpp's error
};

namespace detail {

inline std::string describe(const config::YamlItem* n) {
  if (n == nullptr) return "<absent>";
  static const char* const kinds[] = {"null", "scalar", "sequence", "map"};
  return std::string(kinds[static_cast<int>(n->kind)]) + " at pos " + std::to_string(n->mark.pos) + " line " +
         std::to_string(n->mark.line) + " col " + std::to_string(n->mark.column) +
         (n->kind == config::YamlKind::kScalar ? " '" + n->scalar + "'" : "");
}

// Empty when equal, else the first difference (depth-first). Depth is bounded by
// kMaxYamlDepth (both trees passed the rule).
inline std::string first_difference(const config::YamlItem* a, const config::YamlItem* b) {
  if (a == nullptr || b == nullptr || a->kind != b->kind || a->scalar != b->scalar || a->mark.pos != b->mark.pos ||
      a->mark.line != b->mark.line || a->mark.column != b->mark.column || a->kids.size() != b->kids.size()) {
    if (a == nullptr && b == nullptr) return {};
    return "yaml-cpp " + describe(a) + " (" + (a ? std::to_string(a->kids.size()) : "0") + " kids) vs libyaml " +
           describe(b) + " (" + (b ? std::to_string(b->kids.size()) : "0") + " kids)";
  }
  for (size_t i = 0; i < a->kids.size(); ++i)
    if (std::string d = first_difference(a->kids[i], b->kids[i]); !d.empty()) return d;
  return {};
}

}  // namespace detail

inline YamlComparison compare_yaml_sources(std::string_view text) {
  std::optional<config::YamlDocument> reference;
  std::string error;
  try {
    reference = config::load_one_document_yamlcpp(text, "t.yaml", "policy file");
  } catch (const config::LoadError& e) {
    error = e.what();
  } catch (const YAML::Exception& e) {
    error = config::located("t.yaml", e.mark, e.msg);
  }
  std::optional<config::YamlDocument> fast = config::load_one_document_libyaml(text);
  if (!fast)
    return {reference ? YamlAgreement::kDeclinedAccepted : YamlAgreement::kDeclinedRejected, error};
  if (!reference) return {YamlAgreement::kOnlyLibyamlAccepts, "yaml-cpp: " + error};
  std::string d = detail::first_difference(reference->root_item(), fast->root_item());
  return {d.empty() ? YamlAgreement::kSameTree : YamlAgreement::kTreesDiffer, d};
}

}  // namespace sgfw::fuzz
