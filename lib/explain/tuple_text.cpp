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

struct Endpoint {
  core::Ipv4 addr;
  std::optional<uint16_t> port;
};

core::Expected<Endpoint> endpoint(std::string_view text, std::string_view what, const NameResolver& names) {
  size_t colon = text.find(':');
  std::string_view host = text.substr(0, colon);
  auto addr = core::parse_ipv4(host);
  if (!addr && names && policy::is_valid_name(std::string(host))) {
    auto vm = names(host);
    if (!vm)
      return core::make_error("unknown VM '" + std::string(host) + "' as " + std::string(what) +
                              ": give a VM name of the policy or an IPv4 address");
    addr = *vm;
  }
  if (!addr) return core::make_error("invalid " + std::string(what) + " address '" + std::string(text) + "'");
  Endpoint e{*addr, std::nullopt};
  if (colon != std::string_view::npos) {
    auto p = number(text.substr(colon + 1), 65535);
    if (!p) return core::make_error("invalid " + std::string(what) + " port in '" + std::string(text) + "'");
    e.port = static_cast<uint16_t>(*p);
  }
  return e;
}

}  // namespace

core::Expected<policy::PacketTuple> parse_tuple(std::string_view proto, std::string_view src,
                                                std::string_view dst, std::optional<int> icmp_type,
                                                std::optional<int> icmp_code, const NameResolver& names) {
  policy::PacketTuple t;
  std::string lower_proto(proto);
  for (auto& c : lower_proto) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  proto = lower_proto;
  if (proto == "tcp") t.proto = policy::kIpProtoTcp;
  else if (proto == "udp") t.proto = policy::kIpProtoUdp;
  else if (proto == "icmp") t.proto = policy::kIpProtoIcmp;
  else if (auto n = number(proto, 255)) t.proto = static_cast<uint8_t>(*n);
  else return core::make_error("unknown protocol '" + std::string(proto) + "': expected tcp, udp, icmp or 0-255");

  auto s = endpoint(src, "source", names);
  if (!s) return core::make_error(s.error().message);
  auto d = endpoint(dst, "destination", names);
  if (!d) return core::make_error(d.error().message);
  t.src = s->addr;
  t.dst = d->addr;
  if (policy::has_ports(t.proto)) {
    if (!d->port) return core::make_error("protocol " + std::string(proto) + " needs a destination port (DST:PORT)");
    t.sport = s->port.value_or(0);
    t.dport = *d->port;
  } else if (s->port || d->port) {
    return core::make_error("protocol " + std::string(proto) + " has no ports");
  }
  if (t.proto == policy::kIpProtoIcmp) {
    if (icmp_type && (*icmp_type < 0 || *icmp_type > 255)) return core::make_error("ICMP type out of range 0..255");
    if (icmp_code && (*icmp_code < 0 || *icmp_code > 255)) return core::make_error("ICMP code out of range 0..255");
    t.icmp_type = static_cast<uint8_t>(icmp_type.value_or(8));
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
