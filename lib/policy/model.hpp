// The policy value model (docs/enforcement.md §1-2): subnets, security groups with rules,
// VMs. A Policy is a plain immutable-after-load value: the loader builds it, the
// compiler and the reference matcher read it. Thread-safety: concurrent readers are
// safe; no member mutates shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cow_vector.hpp"
#include "core/ip_address.hpp"
#include "core/protocols.hpp"
#include "core/mac.hpp"

namespace sgfw::policy {

enum class Direction : uint8_t { kIngress, kEgress };
enum class Protocol : uint8_t { kTcp, kUdp, kIcmp, kAll };

inline constexpr uint8_t kIpProtoIcmp = core::kProtoIcmp;
inline constexpr uint8_t kIpProtoTcp = core::kProtoTcp;
inline constexpr uint8_t kIpProtoUdp = core::kProtoUdp;
inline constexpr uint8_t kIpProtoIcmpV6 = core::kProtoIcmp6;

// The protocol number a rule's `ICMP` means for packets of `family`: ICMP (1) for IPv4,
// ICMPv6 (58) for IPv6 (docs/enforcement.md §3.2).
[[nodiscard]] constexpr uint8_t icmp_protocol(core::Family family) noexcept {
  return family == core::Family::kIpv4 ? kIpProtoIcmp : kIpProtoIcmpV6;
}

[[nodiscard]] std::string_view to_string(Direction d);
[[nodiscard]] std::string_view to_string(Protocol p);

// An inclusive destination-port range; {1, 65535} style. "All ports" is {0, 65535}.
struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 65535;
  bool operator==(const PortRange&) const = default;
};

struct Remote {
  enum class Kind : uint8_t { kAddress, kSubnet, kGroup };
  Kind kind = Kind::kAddress;
  core::IpCidr cidr;  // kAddress: either family; matches only addresses of its family
  std::string name;   // kSubnet: subnet name; kGroup: security group name
  bool operator==(const Remote&) const = default;
};

struct Rule {
  std::string name;  // unique in its group; defaults to "rule-<index>"
  Direction direction = Direction::kIngress;
  Protocol protocol = Protocol::kAll;
  std::optional<PortRange> ports;  // TCP/UDP only; nullopt = all ports
  Remote remote;
  std::string description;
};

struct Group {
  std::string name;
  std::string description;
  core::CowVector<Rule> rules;  // shared between policy copies until changed
  bool builtin = false;
};

struct Subnet {
  std::string name;
  core::IpCidr cidr;  // either family
};

// Where a token was in the file a policy was loaded from: 1-based; 0 = unknown (built in
// code, or changed since).
struct SourceLocation {
  uint32_t line = 0;
  uint32_t column = 0;
  [[nodiscard]] bool known() const noexcept { return line != 0; }
};

// One entry of a VM's allowedAddressPairs (docs/enforcement.md §1.1): a further address
// block the VM may use, e.g. a keepalived VIP, and the MAC it uses it with.
struct AddressPair {
  core::IpCidr ip;                // a bare address in the file is /32 or /128
  std::optional<core::Mac> mac;   // unset: the VM's own MAC
  SourceLocation at;              // of the `ip` token; unknown when built in code
  // Location is not part of the value.
  bool operator==(const AddressPair& o) const { return ip == o.ip && mac == o.mac; }
};

struct Vm {
  std::string name;
  std::optional<std::string> port;  // set: local VM (enforced here); unset: hosted elsewhere
  // The appliance hosting the VM (docs/policy-format.md, "appliance"; docs/fleet.md).
  // Only the fleet encoding reads it; a daemon with a file source enforces every VM
  // with a `port` whatever it says.
  std::optional<std::string> appliance;
  SourceLocation port_at;           // of the `port` token (policy::check_vm_ports' messages)
  std::optional<core::Mac> mac;     // required for local VMs
  // The lists are shared between policy copies until changed (core/cow_vector.hpp).
  core::CowVector<core::IpAddress> ips;  // its own addresses, either family, unique policy-wide
  core::CowVector<AddressPair> allowed_address_pairs;  // at most kMaxAddressPairsPerVm
  core::CowVector<std::string> groups;  // as listed; empty => default-allow-egress

  [[nodiscard]] bool is_local() const noexcept { return port.has_value(); }
  // `a` is one of `ips` or inside one of the pairs (docs/enforcement.md §3.2: what
  // "an address of the VM" means for group membership and for the checks).
  [[nodiscard]] bool has_address(const core::IpAddress& a) const noexcept;
  // `m` is the VM's MAC or the MAC of one of its pairs.
  [[nodiscard]] bool has_mac(const core::Mac& m) const noexcept;
};

inline constexpr std::string_view kDefaultAllowEgress = "default-allow-egress";
inline constexpr std::string_view kDefaultAllowWeb = "default-allow-web-protocols";
inline constexpr std::string_view kDefaultAllowSsh = "default-allow-ssh";

// The three built-in groups of docs/enforcement.md §2, dual stack: each IPv4 rule is
// followed by its IPv6 twin (`egress-all`, `egress-all-ipv6`; `http`, `https`,
// `http-ipv6`, `https-ipv6`; `ssh`, `ssh-ipv6`), so an IPv4 decision keeps its rule.
[[nodiscard]] std::vector<Group> builtin_groups();
[[nodiscard]] bool is_builtin_group_name(std::string_view name);

// A whole policy. Invariants after finalize(): groups (built-ins included) sorted by
// name in byte order (the deciding-rule order of docs/enforcement.md §3), subnets and VMs
// sorted by name, names unique.
struct Policy {
  std::vector<Subnet> subnets;
  std::vector<Group> groups;
  std::vector<Vm> vms;
  std::string source;  // the display name / file it was loaded from; empty when built in code

  // Adds the built-in groups (if absent) and sorts. Idempotent.
  void finalize();

  [[nodiscard]] const Group* find_group(std::string_view name) const;
  [[nodiscard]] const Subnet* find_subnet(std::string_view name) const;
  [[nodiscard]] const Vm* find_vm(std::string_view name) const;
  [[nodiscard]] Vm* find_vm(std::string_view name);
};

// A VM's effective groups (docs/enforcement.md §2): its groups if non-empty, else
// [default-allow-egress]; sorted by name and de-duplicated.
[[nodiscard]] std::vector<std::string> effective_groups(const Vm& vm);

// Names: [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?
[[nodiscard]] bool is_valid_name(std::string_view name);

}  // namespace sgfw::policy
