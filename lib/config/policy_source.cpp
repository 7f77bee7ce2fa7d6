#include "config/policy_source.hpp"

#include <charconv>
#include <set>

#include "config/yaml_reader.hpp"
#include "policy/model.hpp"

namespace sgfw::config {

std::string appliance_from_host(std::string_view host_name) {
  std::string_view first = host_name.substr(0, host_name.find('.'));
  return policy::is_valid_name(first) ? std::string(first) : std::string();
}

std::string endpoint_problem(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return "expected http://HOST:PORT";
  std::string_view rest = url.substr(kScheme.size());
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return "expected http://HOST:PORT";
  std::string_view host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (host.find_first_of("/ ") != std::string_view::npos) return "expected http://HOST:PORT";
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535)
    return "the port must be 1..65535";
  return {};
}

std::string prefix_problem(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 200) return "must be 1-200 bytes";
  for (char ch : prefix)
    if (ch <= ' ' || ch > '~') return "must be printable ASCII without spaces";
  if (prefix.back() != '/') return "must end with '/'";
  return {};
}

PolicySource parse_policy_source(const std::string& file, const YamlNode& node, std::string_view host_name) {
  MapReader top(file, node, "policy_source", {"etcd"});
  YamlNode e = top.require("etcd");
  MapReader m(file, e, "policy_source.etcd", {"endpoints", "prefix", "appliance"});
  PolicySource ps;
  ps.etcd = true;
  YamlNode eps = m.require("endpoints");
  expect_sequence(file, eps, "policy_source.etcd.endpoints");
  std::set<std::string> seen;
  for (const auto& u : eps) {
    std::string url = scalar(file, u, "endpoint");
    if (std::string why = endpoint_problem(url); !why.empty())
      fail(file, u.Mark(), "endpoint '" + url + "': " + why);
    if (!seen.insert(url).second) fail(file, u.Mark(), "endpoint '" + url + "' is listed twice");
    ps.source.endpoints.push_back(std::move(url));
  }
  if (ps.source.endpoints.empty() || ps.source.endpoints.size() > kMaxEtcdEndpoints)
    fail(file, eps.Mark(), "policy_source.etcd.endpoints: give 1.." + std::to_string(kMaxEtcdEndpoints) + " URLs");
  YamlNode p = m.require("prefix");
  ps.source.prefix = scalar(file, p, "policy_source.etcd.prefix");
  if (std::string why = prefix_problem(ps.source.prefix); !why.empty())
    fail(file, p.Mark(), "etcd prefix '" + ps.source.prefix + "': " + why);
  if (m.has("appliance")) {
    YamlNode a = m.get("appliance");
    ps.source.appliance = scalar(file, a, "policy_source.etcd.appliance");
    if (!policy::is_valid_name(ps.source.appliance))
      fail(file, a.Mark(), "appliance '" + ps.source.appliance + "': names are 1-63 of [a-z0-9-], starting and ending with a letter or digit");
  } else {
    ps.source.appliance = appliance_from_host(host_name);
    if (ps.source.appliance.empty())
      fail(file, m.mark(), "policy_source.etcd has no 'appliance' and the host name '" + std::string(host_name) +
                               "' does not give one (its first label must be 1-63 of [a-z0-9-]): set appliance");
  }
  return ps;
}

}  // namespace sgfw::config
