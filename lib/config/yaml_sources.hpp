// The two event sources behind load_one_document (yaml_reader.hpp), exposed for the
// differential test and fuzz target only; loaders call load_one_document.
//
// libyaml (C, pkg-config yaml-0.1) scans the success path about four times faster than
// yaml-cpp. yaml-cpp is the reference: its tree, marks and error messages are the
// contract (docs/configuration.md), and the libyaml source vouches for a text only
// where it reproduces yaml-cpp exactly. load_one_document tries libyaml first; whenever
// libyaml reports an error, or the text holds anything the libyaml source does not
// claim to reproduce (the list is in yaml_libyaml.cpp: tags, anchors, aliases, empty
// nodes, directives, a second document, depth beyond kMaxYamlDepth, NUL bytes, UTF-16
// or UTF-32, a BOM after the start), it runs the yaml-cpp source on the same text and
// returns that result or error. So acceptance, trees and messages are yaml-cpp's.
// docs/dependencies.md (libyaml) and docs/performance-log.md, "Stop 15".
//
// Thread-safety: both functions are reentrant (no shared state). Errors: see each.
#pragma once

#include "config/yaml_tree.hpp"

#include <optional>
#include <string_view>

namespace sgfw::config {

// yaml-cpp's event parser: the tree, or LoadError / YAML::Exception as
// load_one_document documents them.
[[nodiscard]] YamlDocument load_one_document_yamlcpp(std::string_view text, std::string_view file,
                                                   std::string_view what);

// libyaml's event parser: the tree yaml-cpp would build, or nullopt when libyaml fails
// or the text holds a construct this source leaves to yaml-cpp. Never throws except
// std::bad_alloc.
[[nodiscard]] std::optional<YamlDocument> load_one_document_libyaml(std::string_view text);

}  // namespace sgfw::config
