// Every drop has a reason (docs/enforcement.md §6). One list generates the enum and the
// stable names that counters, stats and docs use. Thread-safety: constants only.
#pragma once

#include <cstdint>
#include <string_view>

namespace sgfw::core {

#define SGFW_DROP_REASONS(X)                          \
  X(kNoRule, "no-rule")                               \
  X(kNoConnection, "no-connection")                   \
  X(kInvalidTcpFlags, "invalid-tcp-flags")            \
  X(kRevoked, "revoked")                              \
  X(kTableFull, "table-full")                         \
  X(kQuotaExceeded, "quota-exceeded")                 \
  X(kSpoofed, "spoofed")                              \
  X(kDstMismatch, "dst-mismatch")                     \
  X(kNotLocal, "not-local")                           \
  X(kBroadcast, "broadcast")                          \
  X(kFragmentOrphan, "fragment-orphan")               \
  X(kFragmentInvalid, "fragment-invalid")             \
  X(kMalformedL2, "malformed-l2")                     \
  X(kMalformedIpv4, "malformed-ipv4")                 \
  X(kMalformedL4, "malformed-l4")                     \
  X(kUnsupportedEthertype, "unsupported-ethertype")   \
  X(kVlanTagged, "vlan-tagged")                       \
  X(kTxFailed, "tx-failed")                           \
  X(kIpSourceRoute, "ip-source-route")                \
  X(kMalformedIpv6, "malformed-ipv6")                 \
  X(kIpv6HeaderChain, "ipv6-header-chain")            \
  X(kIpv6RoutingType0, "ipv6-routing-type0")          \
  X(kDhcpServerFromVm, "dhcp-server-from-vm")         \
  X(kRaFromVm, "ra-from-vm")                          \
  X(kLinkLocal, "link-local")

enum class DropReason : uint8_t {
#define SGFW_X(id, name) id,
  SGFW_DROP_REASONS(SGFW_X)
#undef SGFW_X
};

inline constexpr size_t kDropReasonCount = 0
#define SGFW_X(id, name) +1
    SGFW_DROP_REASONS(SGFW_X)
#undef SGFW_X
    ;

inline constexpr std::string_view kDropReasonNames[kDropReasonCount] = {
#define SGFW_X(id, name) name,
    SGFW_DROP_REASONS(SGFW_X)
#undef SGFW_X
};

[[nodiscard]] constexpr std::string_view to_string(DropReason r) {
  return kDropReasonNames[static_cast<size_t>(r)];
}

}  // namespace sgfw::core
