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

core::Cidr random_cidr(std::mt19937_64& rng) {
  static const uint8_t kPrefixes[] = {0, 8, 16, 22, 23, 24, 26, 28, 30, 31, 32, 32, 32};
  uint8_t prefix = kPrefixes[pick(rng, std::size(kPrefixes))];
  core::Cidr c{pool_address(rng), prefix};
  c.base.value &= c.mask();
  return c;
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

}  // namespace

policy::Policy random_policy(std::mt19937_64& rng) {
  policy::Policy p;
  uint32_t nsub = pick(rng, 4);
  for (uint32_t i = 0; i < nsub; ++i) p.subnets.push_back({"net-" + std::to_string(i), random_cidr(rng)});

  // Group names in random order so the listing order and byte order differ.
  std::vector<std::string> gnames;
  uint32_t ngroups = 1 + pick(rng, 6);
  for (uint32_t i = 0; i < ngroups; ++i) gnames.push_back("g" + std::to_string(pick(rng, 1000)) + "-" + std::to_string(i));
  std::vector<std::string> all_groups = gnames;
  for (auto b : {policy::kDefaultAllowEgress, policy::kDefaultAllowWeb, policy::kDefaultAllowSsh})
    all_groups.emplace_back(b);

  for (const auto& name : gnames) {
    policy::Group g;
    g.name = name;
    uint32_t nrules = pick(rng, 7);
    for (uint32_t r = 0; r < nrules; ++r) {
      policy::Rule rule;
      rule.name = "rule-" + std::to_string(r);
      rule.direction = chance(rng, 0.5) ? Direction::kIngress : Direction::kEgress;
      rule.protocol = static_cast<Protocol>(pick(rng, 4));
      if ((rule.protocol == Protocol::kTcp || rule.protocol == Protocol::kUdp) && chance(rng, 0.7))
        rule.ports = random_ports(rng);
      uint32_t kind = pick(rng, 3);
      if (kind == 1 && nsub == 0) kind = 0;
      if (kind == 0) {
        rule.remote.kind = Remote::Kind::kAddress;
        rule.remote.cidr = random_cidr(rng);
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

  std::set<uint32_t> used;
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
      core::Ipv4 a = pool_address(rng);
      if (used.insert(a.value).second) vm.ips.push_back(a);
    }
    if (vm.ips.empty()) continue;
    for (const auto& g : all_groups)
      if (chance(rng, 0.3)) vm.groups.push_back(g);
    std::shuffle(vm.groups.begin(), vm.groups.end(), rng);
    p.vms.push_back(std::move(vm));
  }
  p.finalize();
  return p;
}

policy::PacketTuple random_packet(std::mt19937_64& rng, const policy::Policy& p) {
  static const uint8_t kProtos[] = {6, 6, 6, 17, 17, 17, 1, 1, 4, 47, 132, 0, 255};
  policy::PacketTuple t;
  t.proto = kProtos[pick(rng, std::size(kProtos))];
  auto addr = [&]() {
    if (!p.vms.empty() && chance(rng, 0.7)) {
      const auto& vm = p.vms[pick(rng, static_cast<uint32_t>(p.vms.size()))];
      return vm.ips[pick(rng, static_cast<uint32_t>(vm.ips.size()))];
    }
    return pool_address(rng);
  };
  t.src = addr();
  t.dst = addr();
  if (policy::has_ports(t.proto)) {
    t.sport = chance(rng, 0.5) ? kPorts[pick(rng, std::size(kPorts))] : static_cast<uint16_t>(rng());
    t.dport = chance(rng, 0.7) ? kPorts[pick(rng, std::size(kPorts))] : static_cast<uint16_t>(rng());
  } else if (t.proto == 1) {
    t.icmp_type = static_cast<uint8_t>(pick(rng, 20));
    t.icmp_code = static_cast<uint8_t>(pick(rng, 4));
  }
  return t;
}

}  // namespace sgfw::testing
