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

#include "core/ipv4.hpp"
#include "core/protocols.hpp"
#include "core/mac.hpp"

namespace sgfw::policy {

enum class Direction : uint8_t { kIngress, kEgress };
enum class Protocol : uint8_t { kTcp, kUdp, kIcmp, kAll };

inline constexpr uint8_t kIpProtoIcmp = core::kProtoIcmp;
inline constexpr uint8_t kIpProtoTcp = core::kProtoTcp;
inline constexpr uint8_t kIpProtoUdp = core::kProtoUdp;

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
  core::Cidr cidr;    // kAddress
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
  std::vector<Rule> rules;
  bool builtin = false;
};

struct Subnet {
  std::string name;
  core::Cidr cidr;
};

// Where a token was in the file a policy was loaded from: 1-based; 0 = unknown (built in
// code, or changed since).
struct SourceLocation {
  uint32_t line = 0;
  uint32_t column = 0;
  [[nodiscard]] bool known() const noexcept { return line != 0; }
};

struct Vm {
  std::string name;
  std::optional<std::string> port;  // set: local VM (enforced here); unset: hosted elsewhere
  SourceLocation port_at;           // of the `port` token (policy::check_vm_ports' messages)
  std::optional<core::Mac> mac;     // required for local VMs
  std::vector<core::Ipv4> ips;
  std::vector<std::string> groups;  // as listed; empty => default-allow-egress

  [[nodiscard]] bool is_local() const noexcept { return port.has_value(); }
};

inline constexpr std::string_view kDefaultAllowEgress = "default-allow-egress";
inline constexpr std::string_view kDefaultAllowWeb = "default-allow-web-protocols";
inline constexpr std::string_view kDefaultAllowSsh = "default-allow-ssh";

// The three built-in groups of docs/enforcement.md §2.
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
