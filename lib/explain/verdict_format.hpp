// Renders a policy::Verdict the way docs/public-interface.md specifies for `explain`: one JSON
// object ({"verdict", ["reason"], "checks"}) or a short human-readable block.
// Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "policy/verdict.hpp"

namespace sgfw::explain {

// The verdict object; to_json is its one-line text.
[[nodiscard]] nlohmann::ordered_json to_json_value(const policy::Verdict& v);
[[nodiscard]] std::string to_json(const policy::Verdict& v);
[[nodiscard]] std::string to_text(const policy::Verdict& v);
// The text form of a verdict given as its JSON (as sgfwd replies). Throws
// nlohmann::json exceptions on a malformed object.
[[nodiscard]] std::string text_of_json(const std::string& verdict_json);
// {"error": "..."} for a batch line that could not be read.
[[nodiscard]] std::string error_json(const std::string& message);

}  // namespace sgfw::explain
