// The persisted copy of a following daemon (docs/fleet.md, "Following the policy
// live"): the last policy it accepted from etcd, as a policy file whose first line says
// where it came from:
//   # sgfw etcd copy: prefix /sgfw/ revision 42 appliance edge-1
// read at start only when etcd cannot be reached. Pure; thread-safe; never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/expected.hpp"
#include "policy/model.hpp"

namespace sgfw::follow {

struct CopyHeader {
  std::string prefix;
  int64_t revision = 0;
  std::string appliance;
};

// "sgfw etcd copy: prefix P revision R appliance A" (without "# ": the policy writer
// adds it).
[[nodiscard]] std::string copy_header_text(const CopyHeader& h);
// The header on the first line of a persisted copy's text. Errors: "not a persisted
// etcd copy (its first line is not '# sgfw etcd copy: prefix P revision R appliance
// A')".
[[nodiscard]] core::Expected<CopyHeader> parse_copy_header(std::string_view text);
// The whole file: the header line, then the policy (policy::write_policy_yaml).
[[nodiscard]] std::string copy_text(const policy::Policy& policy, const CopyHeader& h);

}  // namespace sgfw::follow
