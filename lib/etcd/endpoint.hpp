// Endpoint URLs of an etcd cluster (docs/design/etcd-client.md, "Endpoints"):
// "http://host:port" -> the gRPC target "host:port". Pure; thread-safe. Never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace sgfw::etcd {

struct Endpoint {
  std::string url;     // as given
  std::string target;  // host:port for gRPC
};

// One URL. Errors: "endpoint 'U': expected http://host:port" (https is not supported:
// "endpoint 'U': https is not supported yet"), a port outside 1..65535, an empty host.
[[nodiscard]] core::Expected<Endpoint> parse_endpoint(std::string_view url);
// A non-empty list of at most 16 distinct URLs.
[[nodiscard]] core::Expected<std::vector<Endpoint>> parse_endpoints(const std::vector<std::string>& urls);

// The end of the range of every key starting with `prefix` (etcd's "prefix range end":
// the prefix with its last byte below 0xff incremented, bytes after it dropped); "\0" for
// an empty prefix or a prefix of 0xff bytes (every key from `prefix` up).
[[nodiscard]] std::string prefix_range_end(std::string_view prefix);

}  // namespace sgfw::etcd
