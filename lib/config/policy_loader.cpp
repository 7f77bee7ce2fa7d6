#include "config/policy_loader.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <unordered_set>
#include <sstream>
#include <tuple>

#include "config/yaml_reader.hpp"
#include "core/escape.hpp"
#include "policy/limits.hpp"
#include "policy/validate.hpp"

namespace sgfw::config {

namespace {

using policy::Direction;
using policy::Protocol;
using policy::Remote;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A name reference to check once every group and subnet is known.
struct PendingRef {
  std::string name;
  YAML::Mark mark;
  bool subnet = false;  // else a security group
};

class Loader {
 public:
  explicit Loader(std::string_view file) : file_(file) {}

  policy::Policy load(const YamlNode& root) {
    policy::Policy p;
    p.source = file_;  // located messages of policy::check_address_pairs
    if (root.IsNull()) {
      p.finalize();
      return p;
    }
    MapReader top(file_, root, "policy", {"subnets", "securityGroups", "vms"});
    read_subnets(top.get("subnets"), p);
    read_groups(top.get("securityGroups"), p);
    read_vms(top.get("vms"), p);
    check_refs(p);
    p.finalize();
    return p;
  }

 private:
  std::string name(const YamlNode& n, std::string_view what) {
    std::string s = scalar(file_, n, what);
    if (!policy::is_valid_name(s))
      fail(file_, n.Mark(),
           "invalid " + std::string(what) + " '" + s +
               "': names are 1-63 of [a-z0-9-], starting and ending with a letter or digit");
    return s;
  }

  // Either family (docs/policy-format.md, "Addresses").
  core::IpCidr cidr(const YamlNode& n, std::string_view what) {
    std::string s = scalar(file_, n, what);
    auto r = core::parse_ip_cidr(s);
    if (r.cidr) return *r.cidr;
    if (r.error == core::CidrError::kHostBits)
      fail(file_, n.Mark(), "CIDR '" + s + "' has host bits set");
    fail(file_, n.Mark(), "invalid " + std::string(what) + " '" + s + "'");
  }

  void read_subnets(const YamlNode& list, policy::Policy& p) {
    expect_sequence(file_, list, "subnets");
    if (!list.IsSequence()) return;
    for (const auto& item : list) {
      if (p.subnets.size() == policy::kMaxSubnets)
        fail(file_, item.Mark(), "more than " + std::to_string(policy::kMaxSubnets) + " subnets");
      MapReader m(file_, item, "subnet", {"name", "cidr"});
      policy::Subnet s;
      YamlNode n = m.require("name");
      s.name = name(n, "subnet name");
      if (!subnet_names_.insert(s.name).second)
        fail(file_, n.Mark(), "duplicate subnet name '" + s.name + "'");
      s.cidr = cidr(m.require("cidr"), "subnet cidr");
      p.subnets.push_back(std::move(s));
    }
  }

  void read_groups(const YamlNode& list, policy::Policy& p) {
    expect_sequence(file_, list, "securityGroups");
    if (!list.IsSequence()) return;
    for (const auto& item : list) {
      MapReader m(file_, item, "security group", {"name", "description", "rules"});
      policy::Group g;
      YamlNode n = m.require("name");
      g.name = name(n, "security group name");
      if (policy::is_builtin_group_name(g.name))
        fail(file_, n.Mark(), "'" + g.name + "' is a built-in security group and cannot be defined");
      if (!group_names_.insert(g.name).second)
        fail(file_, n.Mark(), "duplicate security group name '" + g.name + "'");
      if (m.has("description")) g.description = scalar(file_, m.require("description"), "description");
      YamlNode rules = m.get("rules");
      expect_sequence(file_, rules, "rules");
      if (rules.IsSequence()) {
        std::map<std::string, YAML::Mark> rule_names;
        size_t index = 0;
        for (const auto& r : rules) {
          if (g.rules.size() == policy::kMaxRulesPerGroup)
            fail(file_, r.Mark(), "security group '" + g.name + "' has more than " +
                                      std::to_string(policy::kMaxRulesPerGroup) + " rules");
          if (++rules_ > policy::kMaxRules)
            fail(file_, r.Mark(), "the policy has more than " + std::to_string(policy::kMaxRules) + " rules");
          YAML::Mark name_mark;
          policy::Rule rule = read_rule(r, index++, name_mark);
          if (!rule_names.emplace(rule.name, name_mark).second)
            fail(file_, name_mark,
                 "duplicate rule name '" + rule.name + "' in security group '" + g.name + "'");
          g.rules.push_back(std::move(rule));
        }
      }
      p.groups.push_back(std::move(g));
    }
  }

  policy::Rule read_rule(const YamlNode& node, size_t index, YAML::Mark& name_mark) {
    MapReader m(file_, node, "rule",
                {"name", "description", "direction", "protocol", "port", "portRange", "remote"});
    policy::Rule r;
    if (m.has("name")) {
      r.name = name(m.require("name"), "rule name");
      name_mark = m.get("name").Mark();
    } else {
      r.name = "rule-" + std::to_string(index);
      name_mark = m.mark();
    }
    if (m.has("description")) r.description = scalar(file_, m.require("description"), "description");

    YamlNode d = m.require("direction");
    std::string dir = lower(scalar(file_, d, "direction"));
    if (dir == "ingress") r.direction = Direction::kIngress;
    else if (dir == "egress") r.direction = Direction::kEgress;
    else fail(file_, d.Mark(), "invalid direction '" + d.Scalar() + "': expected Ingress or Egress");

    YamlNode pr = m.require("protocol");
    std::string proto = lower(scalar(file_, pr, "protocol"));
    if (proto == "tcp") r.protocol = Protocol::kTcp;
    else if (proto == "udp") r.protocol = Protocol::kUdp;
    else if (proto == "icmp") r.protocol = Protocol::kIcmp;
    else if (proto == "all") r.protocol = Protocol::kAll;
    else fail(file_, pr.Mark(), "invalid protocol '" + pr.Scalar() + "': expected TCP, UDP, ICMP or All");

    bool ports_ok = r.protocol == Protocol::kTcp || r.protocol == Protocol::kUdp;
    for (std::string_view key : {"port", "portRange"}) {
      if (m.has(key) && !ports_ok)
        fail(file_, m.key_mark(key),
             "'" + std::string(key) + "' is not allowed with protocol " + pr.Scalar() +
                 " (ports are only for TCP and UDP)");
    }
    if (m.has("port") && m.has("portRange")) {
      bool range_second = m.key_mark("portRange").pos > m.key_mark("port").pos;
      fail(file_, m.key_mark(range_second ? "portRange" : "port"),
           "'port' and 'portRange' cannot both be given");
    }
    if (m.has("port")) {
      YamlNode pn = m.require("port");
      long long v = integer(file_, pn, "port");
      if (v < 1 || v > 65535)
        fail(file_, pn.Mark(), "port " + pn.Scalar() + " out of range 1..65535");
      r.ports = policy::PortRange{static_cast<uint16_t>(v), static_cast<uint16_t>(v)};
    }
    if (m.has("portRange")) r.ports = port_range(m.require("portRange"));

    r.remote = remote(m.require("remote"));
    return r;
  }

  policy::PortRange port_range(const YamlNode& n) {
    std::string s = scalar(file_, n, "portRange");
    auto bad = [&]() {
      fail(file_, n.Mark(), "invalid portRange '" + s + "': expected A-B with 1 <= A <= B <= 65535");
    };
    size_t dash = s.find('-');
    if (dash == std::string::npos) bad();
    auto num = [&](std::string_view t) -> long {
      if (t.empty() || t.size() > 5 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) bad();
      return std::stol(std::string(t));
    };
    long a = num(std::string_view(s).substr(0, dash));
    long b = num(std::string_view(s).substr(dash + 1));
    if (a < 1 || b > 65535 || a > b) bad();
    return {static_cast<uint16_t>(a), static_cast<uint16_t>(b)};
  }

  Remote remote(const YamlNode& n) {
    MapReader m(file_, n, "remote", {"address", "securityGroupRef", "subnetRef"});
    int forms = m.has("address") + m.has("securityGroupRef") + m.has("subnetRef");
    if (forms != 1)
      fail(file_, m.mark(),
           "remote must have exactly one of 'address', 'securityGroupRef', 'subnetRef'");
    Remote r;
    if (m.has("address")) {
      MapReader a(file_, m.get("address"), "address", {"IPAddressOrCIDR"});
      r.kind = Remote::Kind::kAddress;
      r.cidr = cidr(a.require("IPAddressOrCIDR"), "IPAddressOrCIDR");
    } else {
      bool subnet = m.has("subnetRef");
      std::string_view key = subnet ? "subnetRef" : "securityGroupRef";
      MapReader ref(file_, m.get(key), key, {"name"});
      YamlNode nn = ref.require("name");
      r.kind = subnet ? Remote::Kind::kSubnet : Remote::Kind::kGroup;
      r.name = scalar(file_, nn, "name");
      pending_.push_back({r.name, nn.Mark(), subnet});
    }
    return r;
  }

  void read_vms(const YamlNode& list, policy::Policy& p) {
    expect_sequence(file_, list, "vms");
    if (!list.IsSequence()) return;
    std::set<std::string> vm_names;
    std::map<core::IpAddress, std::string> owner_of_ip;  // canonical values: 2001:db8::1 == 2001:0db8::0001
    // MACs are unique per port of one appliance: (appliance or "", port, MAC).
    std::map<std::tuple<std::string, std::string, core::Mac>, std::string> owner_of_mac;
    for (const auto& item : list) {
      MapReader m(file_, item, "vm", {"name", "appliance", "port", "mac", "ips", "allowedAddressPairs",
                                            "securityGroups"});
      policy::Vm vm;
      YamlNode n = m.require("name");
      vm.name = name(n, "VM name");
      if (!vm_names.insert(vm.name).second)
        fail(file_, n.Mark(), "duplicate VM name '" + vm.name + "'");
      if (m.has("appliance")) vm.appliance = name(m.require("appliance"), "appliance name");
      if (m.has("port")) {
        YamlNode pn = m.require("port");
        vm.port = name(pn, "port name");
        vm.port_at = {static_cast<uint32_t>(pn.Mark().line + 1), static_cast<uint32_t>(pn.Mark().column + 1)};
      }
      if (m.has("mac")) {
        YamlNode mn = m.require("mac");
        std::string s = scalar(file_, mn, "mac");
        auto mac = unicast_mac(mn);
        vm.mac = mac;
        if (vm.port) {
          auto [it, fresh] =
              owner_of_mac.emplace(std::make_tuple(vm.appliance.value_or(""), *vm.port, mac), vm.name);
          if (!fresh)
            fail(file_, mn.Mark(), "duplicate MAC '" + s + "' on port '" + *vm.port +
                                       (vm.appliance ? "' of appliance '" + *vm.appliance : std::string()) +
                                       "' (also VM '" + it->second + "')");
        }
      }
      if (vm.port && !vm.mac) fail(file_, m.key_mark("port"), "local VM '" + vm.name + "' has no 'mac'");
      YamlNode ips = m.require("ips");
      expect_sequence(file_, ips, "ips");
      if (!ips.IsSequence() || ips.size() == 0)
        fail(file_, ips.Mark(), "VM '" + vm.name + "' needs at least one address in 'ips'");
      if (ips.size() > policy::kMaxIpsPerVm)
        fail(file_, ips.Mark(), "VM '" + vm.name + "' has more than " + std::to_string(policy::kMaxIpsPerVm) +
                                    " addresses");
      for (const auto& ipn : ips) {
        std::string s = scalar(file_, ipn, "ip");
        auto ip = core::parse_ip(s);
        if (!ip)
          fail(file_, ipn.Mark(), std::string("invalid ") + (s.find(':') == std::string::npos ? "IPv4" : "IPv6") +
                                      " address '" + s + "'");
        auto [it, fresh] = owner_of_ip.emplace(*ip, vm.name);
        if (!fresh)
          fail(file_, ipn.Mark(), "duplicate VM address " + s +
                                      (it->second == vm.name ? " (listed twice)" : " (also VM '" + it->second + "')"));
        vm.ips.push_back(*ip);
      }
      read_pairs(m.get("allowedAddressPairs"), vm);
      YamlNode groups = m.get("securityGroups");
      expect_sequence(file_, groups, "securityGroups");
      if (groups.IsSequence()) {
        if (groups.size() > policy::kMaxGroupsPerVm)
          fail(file_, groups.Mark(), "VM '" + vm.name + "' lists more than " +
                                         std::to_string(policy::kMaxGroupsPerVm) + " security groups");
        std::unordered_set<std::string> seen;  // linear: std::find here was quadratic
        for (const auto& gn : groups) {
          std::string g = scalar(file_, gn, "security group name");
          if (!seen.insert(g).second) fail(file_, gn.Mark(), "security group '" + g + "' listed twice");
          pending_.push_back({g, gn.Mark(), false});
          vm.groups.push_back(std::move(g));
        }
      }
      p.vms.push_back(std::move(vm));
    }
    // Pairs against every VM's addresses, in file order (p is not sorted yet).
    if (auto st = policy::check_address_pairs(p); !st) throw LoadError(st.error().message);
  }

  // A unicast MAC (not multicast, not all-zero).
  core::Mac unicast_mac(const YamlNode& n) {
    std::string s = scalar(file_, n, "mac");
    auto mac = core::parse_mac(s);
    if (!mac) fail(file_, n.Mark(), "invalid MAC '" + s + "': expected xx:xx:xx:xx:xx:xx");
    if (mac->is_multicast() || mac->is_zero()) fail(file_, n.Mark(), "MAC '" + s + "' is not a unicast address");
    return *mac;
  }

  // allowedAddressPairs: [{ip: ADDRESS-OR-CIDR, mac: optional}]; the checks against the
  // VMs' addresses run once every VM is read (policy::check_address_pairs).
  void read_pairs(const YamlNode& list, policy::Vm& vm) {
    expect_sequence(file_, list, "allowedAddressPairs");
    if (!list.IsSequence()) return;
    if (list.size() > policy::kMaxAddressPairsPerVm)
      fail(file_, list.Mark(), "VM '" + vm.name + "' has more than " +
                                   std::to_string(policy::kMaxAddressPairsPerVm) + " allowed address pairs");
    for (const auto& item : list) {
      MapReader m(file_, item, "allowed address pair", {"ip", "mac"});
      YamlNode ipn = m.require("ip");
      policy::AddressPair pair;
      pair.ip = cidr(ipn, "allowed address pair ip");
      pair.at = {static_cast<uint32_t>(ipn.Mark().line + 1), static_cast<uint32_t>(ipn.Mark().column + 1)};
      if (m.has("mac")) pair.mac = unicast_mac(m.require("mac"));
      vm.allowed_address_pairs.push_back(std::move(pair));
    }
  }

  void check_refs(const policy::Policy&) {
    for (const auto& ref : pending_) {
      if (ref.subnet) {
        if (!subnet_names_.count(ref.name))
          fail(file_, ref.mark, "unknown subnet '" + ref.name + "'");
      } else if (!group_names_.count(ref.name) && !policy::is_builtin_group_name(ref.name)) {
        fail(file_, ref.mark, "unknown security group '" + ref.name + "'");
      }
    }
  }

  std::string file_;
  std::set<std::string> subnet_names_;
  std::set<std::string> group_names_;
  std::vector<PendingRef> pending_;
  size_t rules_ = 0;
};

}  // namespace

core::Expected<policy::Policy> load_policy_text(std::string_view text, std::string_view display_name) {
  try {
    // Exactly one document, no aliases: enforced while parsing (yaml_reader.hpp).
    YamlDocument doc = load_one_document(text, display_name, "policy file");
    policy::Policy p = Loader(display_name).load(doc.root());
    p.source = std::string(display_name);
    return p;
  } catch (const LoadError& e) {
    return core::make_error(e.what());
  } catch (const YAML::Exception& e) {
    return core::make_error(located(display_name, e.mark, e.msg));
  } catch (const std::exception& e) {
    return core::make_error(core::escape_for_log(display_name, 256) + ":1:1: " + e.what());
  }
}

core::Expected<std::string> read_policy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::make_error(path + ":1:1: cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return core::make_error(path + ":1:1: cannot read file");
  return ss.str();
}

core::Expected<policy::Policy> load_policy_file(const std::string& path) {
  auto text = read_policy_file(path);
  if (!text) return core::make_error(text.error().message);
  return load_policy_text(*text, path);
}

}  // namespace sgfw::config
