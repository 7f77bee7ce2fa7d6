#include "explain/tuple_text.hpp"

#include "policy/model.hpp"

#include <string>
#include <vector>

namespace sgfw::explain {

namespace {

std::optional<long> number(std::string_view s, long max) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

// One end as written: an address, or a VM name still to resolve; and a port.
struct Endpoint {
  std::optional<core::IpAddress> addr;
  std::string name;  // set iff addr is not
  std::optional<uint16_t> port;
  std::string text;  // as given, for messages
};

core::Expected<Endpoint> endpoint(std::string_view text, std::string_view what, const NameResolver& names) {
  const std::string w(what);
  Endpoint e;
  e.text = std::string(text);
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {  // [IPv6] or [IPv6]:PORT
    size_t close = text.find(']');
    if (close == std::string_view::npos) return core::make_error("invalid " + w + " address '" + e.text + "'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return core::make_error("invalid " + w + " address '" + e.text + "'");
      port = rest.substr(1);
    }
    auto a = core::parse_ipv6(host);
    if (!a) return core::make_error("invalid " + w + " address '" + e.text + "'");
    e.addr = core::IpAddress(*a);
  } else if (auto a6 = core::parse_ipv6(text)) {  // a bare IPv6 address has no port
    e.addr = core::IpAddress(*a6);
  } else {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) port = text.substr(colon + 1);
    if (auto a = core::parse_ipv4(host)) {
      e.addr = core::IpAddress(*a);
    } else if (names && policy::is_valid_name(std::string(host))) {
      e.name = std::string(host);
    } else {
      return core::make_error("invalid " + w + " address '" + e.text + "'");
    }
  }
  if (port) {
    auto p = number(*port, 65535);
    if (!p) return core::make_error("invalid " + w + " port in '" + e.text + "'");
    e.port = static_cast<uint16_t>(*p);
  }
  return e;
}

// The VM's first address of `family`, or (no family yet) its first IPv4 address, else
// its first address.
core::Expected<core::IpAddress> resolve(const Endpoint& e, std::string_view what, std::optional<core::Family> family,
                                        const NameResolver& names) {
  auto addrs = names(e.name);
  if (!addrs)
    return core::make_error("unknown VM '" + e.name + "' as " + std::string(what) +
                            ": give a VM name of the policy or an IP address");
  for (core::Family f : {family.value_or(core::Family::kIpv4), family.value_or(core::Family::kIpv6)})
    for (const auto& a : *addrs)
      if (a.family == f) return a;
  return core::make_error("VM '" + e.name + "' (" + std::string(what) + ") has no " +
                          std::string(core::to_string(family.value_or(core::Family::kIpv4))) + " address");
}

}  // namespace

core::Expected<policy::PacketTuple> parse_tuple(std::string_view proto, std::string_view src,
                                                std::string_view dst, std::optional<int> icmp_type,
                                                std::optional<int> icmp_code, const NameResolver& names) {
  policy::PacketTuple t;
  std::string lower_proto(proto);
  for (auto& c : lower_proto) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  proto = lower_proto;
  bool icmp_keyword = false, icmpv6_keyword = false;
  if (proto == "tcp") t.proto = policy::kIpProtoTcp;
  else if (proto == "udp") t.proto = policy::kIpProtoUdp;
  else if (proto == "icmp") icmp_keyword = true;
  else if (proto == "icmpv6") icmpv6_keyword = true;
  else if (auto n = number(proto, 255)) t.proto = static_cast<uint8_t>(*n);
  else return core::make_error("unknown protocol '" + std::string(proto) + "': expected tcp, udp, icmp, icmpv6 or 0-255");

  auto s = endpoint(src, "source", names);
  if (!s) return core::make_error(s.error().message);
  auto d = endpoint(dst, "destination", names);
  if (!d) return core::make_error(d.error().message);
  if (s->addr && d->addr && s->addr->family != d->addr->family)
    return core::make_error("source " + s->text + " is " + std::string(core::to_string(s->addr->family)) +
                            " and destination " + d->text + " is " + std::string(core::to_string(d->addr->family)) +
                            ": give two addresses of one family");
  std::optional<core::Family> family;
  if (s->addr) family = s->addr->family;
  else if (d->addr) family = d->addr->family;
  if (!s->addr) {
    auto a = resolve(*s, "source", family, names);
    if (!a) return core::make_error(a.error().message);
    s->addr = *a;
    family = a->family;
  }
  if (!d->addr) {
    auto a = resolve(*d, "destination", family, names);
    if (!a) return core::make_error(a.error().message);
    d->addr = *a;
  }
  t.src = *s->addr;
  t.dst = *d->addr;
  const core::Family fam = t.src.family;
  if (icmp_keyword) t.proto = policy::icmp_protocol(fam);
  if (icmpv6_keyword) {
    if (fam != core::Family::kIpv6) return core::make_error("protocol icmpv6 needs IPv6 addresses");
    t.proto = policy::kIpProtoIcmpV6;
  }
  if (policy::has_ports(t.proto)) {
    if (!d->port) return core::make_error("protocol " + std::string(proto) + " needs a destination port (DST:PORT)");
    t.sport = s->port.value_or(0);
    t.dport = *d->port;
  } else if (s->port || d->port) {
    return core::make_error("protocol " + std::string(proto) + " has no ports");
  }
  if (t.proto == policy::icmp_protocol(fam)) {
    if (icmp_type && (*icmp_type < 0 || *icmp_type > 255)) return core::make_error("ICMP type out of range 0..255");
    if (icmp_code && (*icmp_code < 0 || *icmp_code > 255)) return core::make_error("ICMP code out of range 0..255");
    const int echo = fam == core::Family::kIpv4 ? core::kIcmpEchoRequest : core::kIcmpV6EchoRequest;
    t.icmp_type = static_cast<uint8_t>(icmp_type.value_or(echo));
    t.icmp_code = static_cast<uint8_t>(icmp_code.value_or(0));
  } else if (icmp_type || icmp_code) {
    return core::make_error("ICMP type/code given for a non-ICMP protocol");
  }
  return t;
}

core::Expected<std::pair<int, int>> parse_type_code(std::string_view text) {
  size_t slash = text.find('/');
  auto t = number(text.substr(0, slash), 255);
  auto c = slash == std::string_view::npos ? std::optional<long>(0) : number(text.substr(slash + 1), 255);
  if (!t || !c) return core::make_error("invalid ICMP TYPE/CODE '" + std::string(text) + "'");
  return std::pair<int, int>{static_cast<int>(*t), static_cast<int>(*c)};
}

bool is_blank_or_comment(std::string_view line) {
  size_t i = line.find_first_not_of(" \t\r");
  return i == std::string_view::npos || line[i] == '#';
}

core::Expected<policy::PacketTuple> parse_batch_line(std::string_view line, const NameResolver& names) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) tokens.push_back(line.substr(start, i - start));
  }
  if (tokens.size() < 3 || tokens.size() > 4)
    return core::make_error("expected 'PROTO SRC[:PORT] DST[:PORT] [TYPE/CODE]'");
  std::optional<int> type, code;
  if (tokens.size() == 4) {
    auto tc = parse_type_code(tokens[3]);
    if (!tc) return core::make_error(tc.error().message);
    type = tc->first;
    code = tc->second;
  }
  return parse_tuple(tokens[0], tokens[1], tokens[2], type, code, names);
}

}  // namespace sgfw::explain
