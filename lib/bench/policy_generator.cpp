#include "bench/policy_generator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <set>

#include "policy/policy_writer.hpp"
#include "bench/rng.hpp"

namespace sgfw::bench {

namespace {

using policy::Direction;
using policy::Protocol;
using policy::Remote;

constexpr uint32_t kVmBase = 0x0a000000;  // 10.0.0.0/8 holds every VM address
constexpr uint32_t kMaxVms = (1u << 24) - 2;

// Ports people open, so rules look like rules.
constexpr std::array<uint16_t, 20> kCommonPorts = {22,   25,   53,   80,    123,  443,  2379,
                                                   3000, 3306, 5432, 5672,  6379, 6443, 8080,
                                                   8443, 9090, 9200, 10250, 11211, 27017};

// "prefix-0042": zero-padded to the width of the largest index.
std::string indexed_name(std::string_view prefix, uint64_t i, uint64_t count) {
  size_t width = std::max<size_t>(2, std::to_string(count > 0 ? count - 1 : 0).size());
  std::string n = std::to_string(i);
  return std::string(prefix) + "-" + std::string(width - std::min(width, n.size()), '0') + n;
}

// Host bits a subnet needs for `hosts` addresses plus network and broadcast.
uint32_t host_bits(uint64_t hosts) {
  uint32_t h = 2;
  while ((uint64_t{1} << h) < hosts + 2) ++h;
  return h;
}

// n choose k, saturating at 2^62.
uint64_t choose(uint64_t n, uint64_t k) {
  if (k > n) return 0;
  k = std::min(k, n - k);
  long double r = 1;
  for (uint64_t i = 1; i <= k; ++i) r = r * static_cast<long double>(n - k + i) / i;
  return r > 0x1p62L ? uint64_t{1} << 62 : static_cast<uint64_t>(std::llround(r));
}

core::Cidr masked(uint32_t addr, uint8_t prefix) {
  core::Cidr c;
  c.prefix = prefix;
  c.base.value = addr & c.mask();
  return c;
}

class Generator {
 public:
  explicit Generator(const GeneratorOptions& o) : o_(o), rng_(o.seed) {}

  policy::Policy run() {
    make_subnets();
    make_roles();
    make_groups();
    make_vms();
    return std::move(p_);
  }

 private:
  void make_subnets() {
    if (o_.subnets == 0) return;
    uint64_t per = (uint64_t{o_.vms} + o_.subnets - 1) / o_.subnets;
    subnet_bits_ = host_bits(per);
    for (uint32_t s = 0; s < o_.subnets; ++s) {
      uint32_t base = kVmBase + (s << subnet_bits_);
      core::Cidr block = masked(base, static_cast<uint8_t>(32 - subnet_bits_));
      subnet_blocks_.push_back(block);
      p_.subnets.push_back({indexed_name("subnet", s, o_.subnets),
                            o_.family == Families::kIpv6 ? ipv6_twin(block) : core::to_ip_cidr(block)});
    }
  }

  core::Ipv4 vm_address(uint32_t i) const {
    if (o_.subnets == 0) return {kVmBase + i + 1};
    uint32_t s = i % o_.subnets;
    return {subnet_blocks_[s].base.value + i / o_.subnets + 1};
  }

  uint32_t draw_from_deck() {
    if (deck_pos_ == deck_.size()) {
      deck_.resize(o_.groups);
      for (uint32_t g = 0; g < o_.groups; ++g) deck_[g] = g;
      rng_.shuffle(deck_);
      deck_pos_ = 0;
    }
    return deck_[deck_pos_++];
  }

  void make_roles() {
    std::set<std::vector<uint32_t>> seen;
    std::vector<bool> used(o_.groups, false);
    while (roles_.size() < o_.roles) {
      // A fresh set from the deck; after a collision with an earlier set, a random one.
      bool random = false;
      std::vector<uint32_t> set;
      for (;;) {
        set.clear();
        while (set.size() < o_.groups_per_vm) {
          uint32_t g = random ? static_cast<uint32_t>(rng_.below(o_.groups)) : draw_from_deck();
          if (std::find(set.begin(), set.end(), g) == set.end()) set.push_back(g);
        }
        std::sort(set.begin(), set.end());
        if (seen.insert(set).second) break;
        random = true;
      }
      for (uint32_t g : set) used[g] = true;
      roles_.push_back(std::move(set));
    }
    for (uint32_t g = 0; g < o_.groups; ++g)
      if (used[g]) used_groups_.push_back(g);
  }

  std::string group_name(uint32_t g) const { return indexed_name("sg", g, o_.groups); }

  Remote group_ref(uint32_t self) {
    Remote r;
    r.kind = Remote::Kind::kGroup;
    bool self_used = std::binary_search(used_groups_.begin(), used_groups_.end(), self);
    if (used_groups_.empty()) r.name = group_name(static_cast<uint32_t>(rng_.below(o_.groups)));
    else if (self_used && rng_.chance(0.25)) r.name = group_name(self);  // members talk
    else r.name = group_name(used_groups_[rng_.below(used_groups_.size())]);
    return r;
  }

  // An address remote of the family the options ask for (dual: every other rule IPv6).
  core::IpCidr block(const core::Cidr& c, bool odd_rule) const {
    if (o_.family == Families::kIpv6 || (o_.family == Families::kDual && odd_rule)) return ipv6_twin(c);
    return core::to_ip_cidr(c);
  }

  Remote other_remote(bool odd_rule) {
    Remote r;
    if (o_.subnets > 0 && rng_.chance(0.3)) {
      r.kind = Remote::Kind::kSubnet;
      r.name = p_.subnets[rng_.below(o_.subnets)].name;
      return r;
    }
    r.kind = Remote::Kind::kAddress;
    uint64_t k = rng_.below(100);
    if (k < 5) {
      r.cidr = block(masked(0, 0), odd_rule);
    } else if (k < 35) {  // a block of the VM network
      r.cidr = block(masked(kVmBase | static_cast<uint32_t>(rng_.below(1u << 24)),
                            static_cast<uint8_t>(rng_.between(16, 32))),
                     odd_rule);
    } else if (k < 45) {  // one VM's address
      r.cidr = block({vm_address(static_cast<uint32_t>(rng_.below(o_.vms))), 32}, odd_rule);
    } else {  // somewhere outside
      static constexpr std::array<uint8_t, 8> kPrefixes = {8, 12, 16, 20, 24, 24, 28, 32};
      uint32_t top;
      do top = static_cast<uint32_t>(rng_.between(1, 223));
      while (top == 10 || top == 127);
      uint32_t addr = (top << 24) | static_cast<uint32_t>(rng_.below(1u << 24));
      r.cidr = block(masked(addr, kPrefixes[rng_.below(kPrefixes.size())]), odd_rule);
    }
    return r;
  }

  policy::Rule make_rule(uint32_t group, uint32_t index, bool ref) {
    policy::Rule r;
    r.name = "rule-" + std::to_string(index);
    r.direction = rng_.chance(0.65) ? Direction::kIngress : Direction::kEgress;
    uint64_t k = rng_.below(100);
    r.protocol = k < 50 ? Protocol::kTcp : k < 75 ? Protocol::kUdp : k < 85 ? Protocol::kIcmp
                                                                            : Protocol::kAll;
    if (r.protocol == Protocol::kTcp || r.protocol == Protocol::kUdp) {
      uint64_t pk = rng_.below(100);
      if (pk < 60) {
        uint16_t port = rng_.chance(0.75) ? kCommonPorts[rng_.below(kCommonPorts.size())]
                                          : static_cast<uint16_t>(rng_.between(1024, 65535));
        r.ports = policy::PortRange{port, port};
      } else if (pk < 85) {
        auto lo = static_cast<uint16_t>(rng_.between(1024, 60000));
        auto hi = static_cast<uint16_t>(std::min<uint64_t>(65535, lo + rng_.between(1, 1000)));
        r.ports = policy::PortRange{lo, hi};
      }
    }
    r.remote = ref ? group_ref(group) : other_remote(((group + index) & 1) != 0);
    return r;
  }

  void make_groups() {
    // Exactly round(share * total) group-reference rules, at shuffled positions.
    size_t total = size_t{o_.groups} * o_.rules_per_group;
    auto refs = static_cast<size_t>(std::llround(o_.group_ref_share * static_cast<double>(total)));
    std::vector<uint8_t> is_ref(total, 0);
    std::fill(is_ref.begin(), is_ref.begin() + static_cast<ptrdiff_t>(std::min(refs, total)), 1);
    rng_.shuffle(is_ref);
    size_t next = 0;
    for (uint32_t g = 0; g < o_.groups; ++g) {
      policy::Group grp;
      grp.name = group_name(g);
      for (uint32_t i = 0; i < o_.rules_per_group; ++i)
        grp.rules.push_back(make_rule(g, i, is_ref[next++] != 0));
      p_.groups.push_back(std::move(grp));
    }
  }

  void make_vms() {
    for (uint32_t i = 0; i < o_.vms; ++i) {
      policy::Vm vm;
      vm.name = indexed_name("vm", i, o_.vms);
      if (i < o_.local_vms) {
        vm.port = indexed_name("port", i % o_.ports, o_.ports);
        core::Mac mac;
        uint32_t id = i + 1;  // locally administered unicast 02:00:00:xx:xx:xx
        mac.bytes = {0x02, 0, 0, static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8),
                     static_cast<uint8_t>(id)};
        vm.mac = mac;
      }
      const core::Cidr own{vm_address(i), 32};
      if (o_.family != Families::kIpv6) vm.ips.emplace_back(own.base);
      if (o_.family != Families::kIpv4) vm.ips.push_back(ipv6_twin(own).base);
      for (uint32_t g : roles_[i % o_.roles]) vm.groups.push_back(group_name(g));
      p_.vms.push_back(std::move(vm));
    }
  }

  const GeneratorOptions& o_;
  Rng rng_;
  policy::Policy p_;
  uint32_t subnet_bits_ = 0;
  std::vector<core::Cidr> subnet_blocks_;  // the IPv4 plan of the subnets, whatever the family
  std::vector<std::vector<uint32_t>> roles_;
  std::vector<uint32_t> used_groups_;
  std::vector<uint32_t> deck_;
  size_t deck_pos_ = 0;
};

}  // namespace

core::IpCidr ipv6_twin(const core::Cidr& c) {
  if (c.prefix == 0) return {core::Ipv6{}, 0};
  core::Ipv6 a;
  bool vm_net = (c.base.value & 0xff000000u) == kVmBase;
  if (vm_net) a.bytes[0] = 0xfd;
  else a.bytes = {0x20, 0x01, 0x0d, 0xb8};
  for (int i = 0; i < 4; ++i) a.bytes[12 + i] = static_cast<uint8_t>(c.base.value >> (24 - 8 * i));
  return {a, static_cast<uint8_t>(96 + c.prefix)};
}

core::Status validate(const GeneratorOptions& o) {
  auto bad = [](std::string m) { return core::make_error("gen-policy: " + std::move(m)); };
  if (o.vms == 0 || o.vms > kMaxVms) return bad("--vms must be in 1.." + std::to_string(kMaxVms));
  if (o.local_vms > o.vms) return bad("--local-vms must not exceed --vms");
  if (o.roles == 0 || o.roles > o.vms) return bad("--roles must be in 1..--vms");
  if (o.groups_per_vm > o.groups) return bad("--groups-per-vm must not exceed --groups");
  if (o.roles > choose(o.groups, o.groups_per_vm))
    return bad("--roles exceeds the number of distinct sets of --groups-per-vm groups");
  if (!(o.group_ref_share >= 0.0 && o.group_ref_share <= 1.0))
    return bad("--group-ref-share must be in 0..1");
  if (o.local_vms > 0 && o.ports == 0) return bad("--ports must be at least 1");
  if (uint64_t{o.groups} * o.rules_per_group > (uint64_t{1} << 28))
    return bad("--groups x --rules-per-group is too large");
  if (o.subnets > 0) {
    uint64_t per = (uint64_t{o.vms} + o.subnets - 1) / o.subnets;
    if ((uint64_t{o.subnets} << host_bits(per)) > (uint64_t{1} << 24))
      return bad("--subnets: 10.0.0.0/8 cannot hold that many subnets of that size");
  }
  return {};
}

core::Expected<policy::Policy> generate_policy(const GeneratorOptions& options) {
  if (auto st = validate(options); !st) return core::make_error(st.error().message);
  return Generator(options).run();
}

core::Expected<std::string> generate_policy_yaml(const GeneratorOptions& options) {
  auto p = generate_policy(options);
  if (!p) return core::make_error(p.error().message);
  return policy::write_policy_yaml(*p, "synthetic policy: sgfw-bench gen-policy " + describe(options));
}

std::string describe(const GeneratorOptions& o) {
  char share[32];
  std::snprintf(share, sizeof(share), "%g", o.group_ref_share);
  return "--vms " + std::to_string(o.vms) + " --local-vms " + std::to_string(o.local_vms) +
         " --groups " + std::to_string(o.groups) + " --rules-per-group " +
         std::to_string(o.rules_per_group) + " --groups-per-vm " + std::to_string(o.groups_per_vm) +
         " --roles " + std::to_string(o.roles) + " --group-ref-share " + share + " --ports " +
         std::to_string(o.ports) + " --subnets " + std::to_string(o.subnets) + " --seed " +
         std::to_string(o.seed) + (o.family == Families::kIpv4 ? "" : std::string(" --family ") + to_string(o.family));
}

const char* to_string(Families f) {
  switch (f) {
    case Families::kIpv4: return "4";
    case Families::kIpv6: return "6";
    case Families::kDual: return "dual";
  }
  return "4";
}

std::optional<Families> parse_families(std::string_view text) {
  if (text == "4") return Families::kIpv4;
  if (text == "6") return Families::kIpv6;
  if (text == "dual") return Families::kDual;
  return std::nullopt;
}

}  // namespace sgfw::bench
