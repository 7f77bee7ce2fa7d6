#include "etcd/endpoint.hpp"

#include <algorithm>
#include <set>

#include "core/escape.hpp"

namespace sgfw::etcd {

namespace {

core::Unexpected bad(std::string_view url, std::string_view why) {
  return core::make_error("endpoint '" + core::escape_for_log(url, 200) + "': " + std::string(why));
}

}  // namespace

core::Expected<Endpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  if (url.substr(0, 8) == "https://") return bad(url, "https is not supported yet (docs/fleet.md)");
  if (url.substr(0, kHttp.size()) != kHttp) return bad(url, "expected http://host:port");
  std::string_view rest = url.substr(kHttp.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return bad(url, "expected http://host:port (no port)");
  std::string_view host = rest.substr(0, colon);
  std::string_view port = rest.substr(colon + 1);
  if (host.empty()) return bad(url, "empty host");
  bool bracketed = host.front() == '[' && host.back() == ']' && host.size() > 2;
  auto host_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  };
  if (!bracketed && !std::all_of(host.begin(), host.end(), host_char)) return bad(url, "invalid host");
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return bad(url, "invalid port");
  int p = std::stoi(std::string(port));
  if (p < 1 || p > 65535) return bad(url, "port out of range 1..65535");
  return Endpoint{std::string(url), std::string(rest)};
}

core::Expected<std::vector<Endpoint>> parse_endpoints(const std::vector<std::string>& urls) {
  if (urls.empty()) return core::make_error("etcd: no endpoints");
  if (urls.size() > 16) return core::make_error("etcd: more than 16 endpoints");
  std::vector<Endpoint> out;
  std::set<std::string> seen;
  for (const auto& u : urls) {
    auto e = parse_endpoint(u);
    if (!e) return core::make_error(e.error().message);
    if (!seen.insert(e->target).second) return bad(u, "listed twice");
    out.push_back(std::move(*e));
  }
  return out;
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto c = static_cast<unsigned char>(end.back());
    if (c < 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace sgfw::etcd
