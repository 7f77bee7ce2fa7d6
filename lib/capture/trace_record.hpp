// One traced packet's way through the pipeline (docs/capture.md, "Trace"): a fixed
// array of events, one per stage it went through, written by the worker that judged
// it and copied whole through the trace ring. Plain data; no thread-safety of its own.
#pragma once

#include <cstdint>

namespace sgfw::capture {

// The pipeline's stages (lib/dataplane/pipeline.hpp), as trace names them.
enum class Stage : uint8_t { kParse, kExpress, kAdmit, kConnections, kRules, kVerdict };

// What happened at a stage; a, b, c as noted (kNone: no such value).
enum class What : uint8_t {
  kParsed,        // parse: a = IP protocol, b = TCP flags or ICMP type, c = family (4/6)
  kExpressPass,   // express: passed; a = connection state after
  kExpressMiss,   // express: went on; b = 1 if a connection was found (not eligible), 0 none
  kQueued,        // admit: anti-spoofing passed; a = out port, b = source VM, c = destination VM (snapshot indices)
  kLinkService,   // admit: passed as ARP/DHCP/ND, no rule checks
  kLookup,        // connections: b = path (0 new, 1 stateless, 2 re-check, 3 established, 4 related, 5 fragment); a = state found or kNone
  kCheck,         // rules: a = direction (0 egress, 1 ingress), b = VM, c = rule id + 1 or kNoMatch
  kCreated,       // verdict: connection created; a = state
  kAdvanced,      // verdict: connection advanced; a = state after
  kPassed,        // verdict: passed without a connection (stateless, related, fragment)
  kDropped,       // any stage: a = core::DropReason
};

inline constexpr uint32_t kNone = 0xffffffffu;
inline constexpr uint16_t kNoState = 0xffff;

struct TraceEvent {
  Stage stage;
  What what;
  uint16_t a;
  uint32_t b;
  uint32_t c;
};

inline constexpr uint8_t kMaxEvents = 12;

struct TraceRecord {
  uint64_t tsc = 0;         // when its burst was judged
  uint64_t generation = 0;  // the policy generation that judged it (names VMs and rules)
  uint16_t port = 0;        // sgfw port it was received on
  uint8_t nevents = 0;
  uint8_t pad = 0;
  uint32_t pad2 = 0;
  TraceEvent ev[kMaxEvents];

  void add(Stage s, What w, uint16_t a = 0, uint32_t b = kNone, uint32_t c = kNone) {
    if (nevents < kMaxEvents) ev[nevents++] = TraceEvent{s, w, a, b, c};
  }
};
// The name of a connection state in an event (flow::to_string), nullptr for kNoState.
[[nodiscard]] const char* state_name(uint16_t state);

static_assert(sizeof(TraceRecord) % 4 == 0, "rte_ring elements are multiples of 4 bytes");

}  // namespace sgfw::capture
