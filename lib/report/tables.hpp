// Human-readable renderings of the control protocol's JSON results (docs/control.md),
// shared by sgfwctl and sgfwd's SIGUSR1 dump. Pure; thread-safe. Inputs are trusted to
// have the documented shape (they come from sgfwd); missing fields throw
// nlohmann::json exceptions, which callers turn into an error message.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace sgfw::report {

using Json = nlohmann::ordered_json;

[[nodiscard]] std::string stats_text(const Json& stats);
[[nodiscard]] std::string status_text(const Json& status);
[[nodiscard]] std::string change_text(const Json& result);  // reload / set-groups
[[nodiscard]] std::string flows_text(const Json& flows);

}  // namespace sgfw::report
