// The GROUPS argument of `sgfwctl vm set-groups VM GROUPS` (docs/control.md): "-" means
// no groups (the VM then gets default-allow-egress); otherwise names separated by
// commas, each trimmed of surrounding spaces. An empty argument or an empty name
// (",", "a,,b", "a,") is an error, so an empty shell variable cannot strip a VM of
// its groups. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace sgfw::ctl {

[[nodiscard]] core::Expected<std::vector<std::string>> parse_group_list(std::string_view text);

}  // namespace sgfw::ctl
