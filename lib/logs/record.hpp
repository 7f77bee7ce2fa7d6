// One connection or drop log record (docs/logs.md): a fixed-size POD a worker (or the
// control thread) fills and hands to the log writer through the LogRing. No strings:
// VMs are stable VM ids, rules are rule ids + 1 under `generation`, times are TSC;
// the writer names them (log_writer.hpp). Thread-safety: a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sgfw::logs {

enum class Kind : uint8_t {
  kAdmit,  // a connection was created (connections file)
  kEnd,    // a connection left the table (connections file); reason: flow::EndReason
  kDrop,   // a first packet was dropped (drops file); reason: core::DropReason
};

// The two files, indexed.
enum class File : uint8_t { kConnections, kDrops };
inline constexpr size_t kFileCount = 2;
[[nodiscard]] inline File file_of(Kind k) { return k == Kind::kDrop ? File::kDrops : File::kConnections; }

inline constexpr uint32_t kNoVm = 0xffffffffu;  // == flow::kNoVmId
inline constexpr uint8_t kNoCheck = 0xff;

struct Record {
  Kind kind;
  uint8_t family;        // 4 or 6
  uint8_t proto;         // IP protocol
  uint8_t reason;        // kEnd: flow::EndReason; kDrop: core::DropReason; kAdmit: 0
  uint8_t checks;        // bit d: check d (0 egress, 1 ingress) applies
  uint8_t denied_check;  // kDrop: the check that denied (0, 1), or kNoCheck
  uint16_t sport_be;     // the originator's (the dropped packet's source) port, wire order;
  uint16_t dport_be;     //   ICMP echo: the identifier as in the connection key
  uint16_t pad = 0;
  uint32_t vm[2];        // stable VM ids at the originator's / responder's end, or kNoVm
  uint32_t rule[2];      // rule id + 1 per check (0: the check did not apply, or denied)
  uint64_t generation;   // the generation the rules belong to
  uint64_t tsc;          // when it happened
  uint64_t age_tsc;      // kEnd: ticks since the first packet (6 ms resolution)
  uint64_t packets[2];   // kEnd: from the originator, from the responder
  uint64_t bytes[2];
  uint8_t src[16];       // the originator's address, wire order (IPv4: the first 4 bytes)
  uint8_t dst[16];
};
static_assert(sizeof(Record) == 120);
static_assert(sizeof(Record) % 8 == 0);  // rte_ring_create_elem: a multiple of 4 bytes

}  // namespace sgfw::logs
