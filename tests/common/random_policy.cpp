#include "random_policy.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <string>

namespace sgfw::testing {

namespace {

using policy::Direction;
using policy::Protocol;
using policy::Remote;

uint32_t pick(std::mt19937_64& rng, uint32_t n) { return static_cast<uint32_t>(rng() % n); }
bool chance(std::mt19937_64& rng, double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; }

// 10.0.0.0/22 plus a few far-away addresses.
core::Ipv4 pool_address(std::mt19937_64& rng) {
  switch (pick(rng, 8)) {
    case 0: return core::Ipv4{0xc0a80000u | pick(rng, 256)};   // 192.168.0.x
    case 1: return core::Ipv4{static_cast<uint32_t>(rng())};   // anywhere
    default: return core::Ipv4{0x0a000000u | pick(rng, 1024)}; // 10.0.0.0/22
  }
}

// 2001:db8::/118 (the last 10 bits drawn) plus a few far-away addresses.
core::Ipv6 pool_address6(std::mt19937_64& rng) {
  core::Ipv6 a;
  if (pick(rng, 8) == 1) {
    for (auto& b : a.bytes) b = static_cast<uint8_t>(rng());
    return a;
  }
  a.bytes = {0x20, 0x01, 0x0d, 0xb8};
  uint32_t low = pick(rng, 1024);
  a.bytes[14] = static_cast<uint8_t>(low >> 8);
  a.bytes[15] = static_cast<uint8_t>(low);
  return a;
}

core::IpCidr masked(core::IpAddress a, uint8_t prefix) {
  auto r = core::parse_ip_cidr(core::to_string(a));  // a host block: always valid
  core::IpCidr c = *r.cidr;
  c.prefix = prefix;
  if (a.is_v4()) {
    c.base.v4.value &= c.v4().mask();
  } else {
    for (size_t i = 0; i < 16; ++i) {
      size_t bits = prefix > 8 * i ? prefix - 8 * i : 0;
      c.base.v6.bytes[i] &= bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00u >> bits);
    }
  }
  return c;
}

core::IpCidr random_cidr(std::mt19937_64& rng) {
  static const uint8_t kPrefixes[] = {0, 8, 16, 22, 23, 24, 26, 28, 30, 31, 32, 32, 32};
  return masked(pool_address(rng), kPrefixes[pick(rng, std::size(kPrefixes))]);
}

core::IpCidr random_cidr6(std::mt19937_64& rng) {
  static const uint8_t kPrefixes[] = {0, 16, 32, 64, 118, 120, 124, 126, 127, 128, 128, 128};
  return masked(pool_address6(rng), kPrefixes[pick(rng, std::size(kPrefixes))]);
}

core::IpCidr any_cidr(std::mt19937_64& rng, bool ipv6) {
  return ipv6 && chance(rng, 0.3) ? random_cidr6(rng) : random_cidr(rng);
}

const uint16_t kPorts[] = {0, 1, 22, 53, 80, 443, 1000, 1050, 1100, 5432, 8080, 65535};

policy::PortRange random_ports(std::mt19937_64& rng) {
  uint16_t a = kPorts[1 + pick(rng, std::size(kPorts) - 1)];
  if (chance(rng, 0.5)) return {a, a};
  uint16_t b = kPorts[1 + pick(rng, std::size(kPorts) - 1)];
  if (chance(rng, 0.3)) b = static_cast<uint16_t>(1 + pick(rng, 65535));
  if (a > b) std::swap(a, b);
  return {a, b};
}

// Allowed address pairs: blocks around the pools (single addresses mostly), some shared
// with another VM's pair; never equal to or containing another VM's own address, never
// the VM's own address (policy::check_address_pairs).
void add_pairs(std::mt19937_64& rng, policy::Policy& p, const RandomPolicyOptions& o) {
  static const uint8_t kPrefixes4[] = {32, 32, 32, 30, 28};
  static const uint8_t kPrefixes6[] = {128, 128, 128, 126, 124};
  std::vector<core::IpCidr> taken;  // pairs so far, for sharing
  for (size_t i = 0; i < p.vms.size(); ++i) {
    auto& vm = p.vms[i];
    uint32_t n = chance(rng, 0.5) ? pick(rng, 4) : 0;
    for (uint32_t k = 0; k < n; ++k) {
      core::IpCidr c;
      const bool v6_pairs = o.ipv6 && o.ipv6_pairs;
      bool v6 = v6_pairs && (!o.ipv4_pairs || chance(rng, 0.5));
      if (!o.ipv4_pairs && !v6) break;
      if (!taken.empty() && chance(rng, 0.3)) {
        c = taken[pick(rng, static_cast<uint32_t>(taken.size()))];
      } else if (v6) {
        c = masked(pool_address6(rng), kPrefixes6[pick(rng, std::size(kPrefixes6))]);
      } else {
        c = masked(pool_address(rng), kPrefixes4[pick(rng, std::size(kPrefixes4))]);
      }
      if (!o.ipv4_pairs && c.family() == core::Family::kIpv4) continue;
      if (!v6_pairs && c.family() == core::Family::kIpv6) continue;
      bool bad = false;
      for (const auto& other : p.vms)
        for (const auto& a : other.ips)
          bad = bad || (c.contains(a) && (&other != &vm || c.is_host()));
      for (const auto& q : vm.allowed_address_pairs) bad = bad || q.ip == c;
      if (bad) continue;
      policy::AddressPair pair;
      pair.ip = c;
      if (chance(rng, 0.3)) pair.mac = core::Mac{{0x02, 0, 0, 0, 1, static_cast<uint8_t>(pick(rng, 256))}};
      vm.allowed_address_pairs.push_back(pair);
      taken.push_back(c);
    }
  }
}

}  // namespace

policy::Policy random_policy(std::mt19937_64& rng, const RandomPolicyOptions& o) {
  policy::Policy p;
  uint32_t nsub = pick(rng, 4);
  for (uint32_t i = 0; i < nsub; ++i) p.subnets.push_back({"net-" + std::to_string(i), any_cidr(rng, o.ipv6)});

  // Group names in random order so the listing order and byte order differ.
  std::vector<std::string> gnames;
  uint32_t ngroups = o.groups != 0 ? o.groups : 1 + pick(rng, 6);
  for (uint32_t i = 0; i < ngroups; ++i) gnames.push_back("g" + std::to_string(pick(rng, 1000)) + "-" + std::to_string(i));
  std::vector<std::string> all_groups = gnames;
  for (auto b : {policy::kDefaultAllowEgress, policy::kDefaultAllowWeb, policy::kDefaultAllowSsh})
    all_groups.emplace_back(b);

  for (const auto& name : gnames) {
    policy::Group g;
    g.name = name;
    uint32_t nrules = o.rules_per_group != 0 ? o.rules_per_group : pick(rng, 7);
    for (uint32_t r = 0; r < nrules; ++r) {
      policy::Rule rule;
      rule.name = "rule-" + std::to_string(r);
      if (o.narrow_rules) {
        static const Protocol kNarrow[] = {Protocol::kTcp, Protocol::kTcp, Protocol::kUdp, Protocol::kIcmp};
        static const uint8_t kPrefixes[] = {24, 26, 28, 30, 31, 32, 32};
        rule.direction = chance(rng, 0.5) ? Direction::kIngress : Direction::kEgress;
        rule.protocol = kNarrow[pick(rng, 4)];
        if (rule.protocol != Protocol::kIcmp) {
          const auto lo = static_cast<uint16_t>(1 + pick(rng, 65535 - 64));
          rule.ports = policy::PortRange{lo, static_cast<uint16_t>(lo + pick(rng, 64))};
        }
        rule.remote.kind = Remote::Kind::kAddress;
        rule.remote.cidr = masked(pool_address(rng), kPrefixes[pick(rng, std::size(kPrefixes))]);
        g.rules.push_back(std::move(rule));
        continue;
      }
      rule.direction = chance(rng, 0.5) ? Direction::kIngress : Direction::kEgress;
      rule.protocol = static_cast<Protocol>(pick(rng, 4));
      if ((rule.protocol == Protocol::kTcp || rule.protocol == Protocol::kUdp) && chance(rng, 0.7))
        rule.ports = random_ports(rng);
      uint32_t kind = pick(rng, 3);
      if (kind == 1 && nsub == 0) kind = 0;
      if (kind == 0) {
        rule.remote.kind = Remote::Kind::kAddress;
        rule.remote.cidr = any_cidr(rng, o.ipv6);
      } else if (kind == 1) {
        rule.remote.kind = Remote::Kind::kSubnet;
        rule.remote.name = p.subnets[pick(rng, nsub)].name;
      } else {
        rule.remote.kind = Remote::Kind::kGroup;
        rule.remote.name = all_groups[pick(rng, static_cast<uint32_t>(all_groups.size()))];
      }
      g.rules.push_back(std::move(rule));
    }
    p.groups.push_back(std::move(g));
  }

  std::set<core::IpAddress> used;
  uint32_t nvms = 2 + pick(rng, 7);
  for (uint32_t i = 0; i < nvms; ++i) {
    policy::Vm vm;
    vm.name = "vm-" + std::to_string(i);
    if (chance(rng, 0.7)) {
      vm.port = "port-" + std::to_string(pick(rng, 3));
      vm.mac = core::Mac{{0x02, 0, 0, 0, 0, static_cast<uint8_t>(i + 1)}};
    }
    uint32_t nips = 1 + pick(rng, 3);
    for (uint32_t k = 0; k < nips; ++k) {
      core::IpAddress a = o.ipv6 && chance(rng, 0.35) ? core::IpAddress(pool_address6(rng)) : core::IpAddress(pool_address(rng));
      if (used.insert(a).second) vm.ips.push_back(a);
    }
    if (vm.ips.empty()) continue;
    for (const auto& g : all_groups)
      if (chance(rng, o.member_chance)) vm.groups.push_back(g);
    std::shuffle(vm.groups.begin(), vm.groups.end(), rng);
    p.vms.push_back(std::move(vm));
  }
  if ((o.ipv6 && o.ipv6_pairs) || o.ipv4_pairs) add_pairs(rng, p, o);
  p.finalize();
  return p;
}

policy::PacketTuple random_packet(std::mt19937_64& rng, const policy::Policy& p, core::Family family) {
  static const uint8_t kProtos[] = {6, 6, 6, 17, 17, 17, 1, 1, 4, 47, 132, 0, 255};
  const bool v6 = family == core::Family::kIpv6;
  policy::PacketTuple t;
  t.proto = kProtos[pick(rng, std::size(kProtos))];
  if (v6 && t.proto == 1) t.proto = policy::kIpProtoIcmpV6;
  // The policy's addresses of the family: own ones, and the base of pair blocks.
  std::vector<core::IpAddress> addrs;
  for (const auto& vm : p.vms) {
    for (const auto& a : vm.ips)
      if (a.family == family) addrs.push_back(a);
    for (const auto& pair : vm.allowed_address_pairs)
      if (pair.ip.family() == family) addrs.push_back(pair.ip.base);
  }
  auto addr = [&]() -> core::IpAddress {
    if (!addrs.empty() && chance(rng, 0.7)) return addrs[pick(rng, static_cast<uint32_t>(addrs.size()))];
    return v6 ? core::IpAddress(pool_address6(rng)) : core::IpAddress(pool_address(rng));
  };
  t.src = addr();
  t.dst = addr();
  if (policy::has_ports(t.proto)) {
    t.sport = chance(rng, 0.5) ? kPorts[pick(rng, std::size(kPorts))] : static_cast<uint16_t>(rng());
    t.dport = chance(rng, 0.7) ? kPorts[pick(rng, std::size(kPorts))] : static_cast<uint16_t>(rng());
  } else if (t.proto == policy::icmp_protocol(family)) {
    t.icmp_type = static_cast<uint8_t>(v6 ? 128 + pick(rng, 8) : pick(rng, 20));
    t.icmp_code = static_cast<uint8_t>(pick(rng, 4));
  }
  return t;
}

policy::PacketTuple edge_packet(std::mt19937_64& rng, const policy::Policy& p) {
  std::vector<std::pair<const policy::Group*, const policy::Rule*>> rules;
  for (const auto& g : p.groups)
    for (const auto& r : g.rules.get())
      if (!(r.remote.kind == Remote::Kind::kAddress && r.remote.cidr.family() != core::Family::kIpv4))
        rules.emplace_back(&g, &r);
  if (rules.empty()) return random_packet(rng, p);
  const auto [group, rule] = rules[pick(rng, static_cast<uint32_t>(rules.size()))];
  // The VM end: an IPv4 address of a VM listing the group.
  std::vector<core::IpAddress> members;
  for (const auto& vm : p.vms)
    if (std::find(vm.groups.begin(), vm.groups.end(), group->name) != vm.groups.end())
      for (const auto& a : vm.ips)
        if (a.is_v4()) members.push_back(a);
  if (members.empty()) return random_packet(rng, p);
  // The remote end: at or next to the ends of the rule's block.
  core::IpCidr block;
  if (rule->remote.kind == Remote::Kind::kAddress) {
    block = rule->remote.cidr;
  } else if (rule->remote.kind == Remote::Kind::kSubnet) {
    for (const auto& sn : p.subnets)
      if (sn.name == rule->remote.name) block = sn.cidr;
  } else {
    std::vector<core::IpAddress> group_addrs;
    for (const auto& vm : p.vms)
      if (std::find(vm.groups.begin(), vm.groups.end(), rule->remote.name) != vm.groups.end())
        for (const auto& a : vm.ips)
          if (a.is_v4()) group_addrs.push_back(a);
    if (group_addrs.empty()) return random_packet(rng, p);
    block = masked(group_addrs[pick(rng, static_cast<uint32_t>(group_addrs.size()))], 32);
  }
  if (block.family() != core::Family::kIpv4) return random_packet(rng, p);
  const uint32_t first = block.base.v4.value, last = first | ~block.v4().mask();
  static const int kNudge[] = {-1, 0, 0, 1};
  const uint32_t remote = (chance(rng, 0.5) ? first : last) + static_cast<uint32_t>(kNudge[pick(rng, 4)]);
  policy::PacketTuple t;
  static const uint8_t kAnyProto[] = {6, 17, 1, 47};
  t.proto = rule->protocol == Protocol::kTcp   ? 6
            : rule->protocol == Protocol::kUdp  ? 17
            : rule->protocol == Protocol::kIcmp ? 1
                                                : kAnyProto[pick(rng, 4)];
  const core::IpAddress vm_end = members[pick(rng, static_cast<uint32_t>(members.size()))];
  const core::IpAddress remote_end{core::Ipv4{remote}};
  const bool ingress = rule->direction == policy::Direction::kIngress;
  t.src = ingress ? remote_end : vm_end;
  t.dst = ingress ? vm_end : remote_end;
  if (policy::has_ports(t.proto)) {
    const policy::PortRange r = rule->ports.value_or(policy::PortRange{});
    const uint16_t end = chance(rng, 0.5) ? r.lo : r.hi;
    t.dport = static_cast<uint16_t>(end + kNudge[pick(rng, 4)]);  // wraps at 0 and 65535: other edges
    t.sport = static_cast<uint16_t>(rng());
  } else if (t.proto == 1) {
    t.icmp_type = static_cast<uint8_t>(pick(rng, 20));
    t.icmp_code = static_cast<uint8_t>(pick(rng, 4));
  }
  return t;
}

}  // namespace sgfw::testing
