// Capture and trace in the pipeline (docs/capture.md): run only for bursts while a tap
// is armed. Frames are captured as received (or, for --drops, in drop() before they are
// freed); a traced packet gets one event per stage it goes through, handed to the
// control thread at the end of the burst.
#include <type_traits>

#include "dataplane/burst.hpp"

namespace sgfw::dataplane {

using capture::Stage;
using capture::What;

void Pipeline::begin_observe(rte_mbuf** pkts, uint16_t n, uint16_t in_port) {
  ntraced_ = 0;
  trace_stage_ = Stage::kParse;
  observing_ = cap_ != nullptr && cap_->drops_only && !cap_->done();
  if (cap_ == nullptr || cap_->drops_only || cap_->done()) return;
  for (uint16_t i = 0; i < n; ++i) cap_->offer(in_port, tx_.dpdk_port[in_port], pkts[i], 0);
}

void Pipeline::trace_start(const runtime::Snapshot& snap, const Parsed& ps, uint16_t in_port, uint64_t now) {
  if (trace_ == nullptr || trace_->done()) return;
  for (uint16_t i = 0; i < ps.n && ntraced_ < kMaxTraced; ++i) {
    const packet::ParsedPacket& p = ps.pkt[i];
    if (!trace_->matches(p) || !trace_->take()) continue;
    TraceSlot& s = traced_[ntraced_++];
    s.m = ps.m[i];
    s.idx = i;
    s.pend = -1;
    s.path = 0;
    s.ended = false;
    s.v6 = p.kind == packet::ParsedPacket::Kind::kIpv6;
    s.rec = capture::TraceRecord{};
    s.rec.tsc = now;
    s.rec.generation = snap.generation();
    s.rec.port = in_port;
    s.rec.add(Stage::kParse, What::kParsed, p.proto, p.proto == 6 ? p.tcp_flags : p.icmp_type, s.v6 ? 6 : 4);
  }
  if (ntraced_ != 0) observing_ = true;
  trace_stage_ = flows_.forward_only ? Stage::kAdmit : Stage::kExpress;
}

template <class F>
static uint16_t state_at(const FlowContext& flows, int32_t pos) {
  if (pos < 0) return capture::kNoState;
  return static_cast<uint16_t>(F::table(flows).at(pos).state.load(std::memory_order_relaxed));
}

void Pipeline::trace_after_express(const Parsed& ps) {
  for (uint8_t k = 0; k < ntraced_; ++k) {
    TraceSlot& s = traced_[k];
    if (flows_.forward_only) continue;
    const int32_t pos = ps.flow_pos[s.idx];
    if (ps.m[s.idx] == nullptr) {
      uint16_t st = s.v6 ? state_at<Ipv6Family>(flows_, pos) : state_at<Ipv4Family>(flows_, pos);
      s.rec.add(Stage::kExpress, What::kExpressPass, st);
      s.ended = true;
    } else {
      s.rec.add(Stage::kExpress, What::kExpressMiss, 0, pos >= 0 && pos != kNotLooked ? 1 : 0);
    }
  }
  trace_stage_ = Stage::kAdmit;
}

template <class F>
void Pipeline::trace_stage(const BurstOf<F>& b, Stage done) {
  constexpr bool v6 = std::is_same_v<F, Ipv6Family>;
  for (uint8_t k = 0; k < ntraced_; ++k) {
    TraceSlot& s = traced_[k];
    if (s.v6 != v6 || s.ended) continue;
    if (done == Stage::kAdmit) {
      for (uint16_t i = 0; i < b.np; ++i)
        if (b.pend[i].m == s.m) s.pend = static_cast<int16_t>(i);
      if (s.pend < 0) continue;
      const PendingOf<F>& q = b.pend[s.pend];
      s.rec.add(Stage::kAdmit, What::kQueued, q.out_port, q.src_vm, q.dst_vm);
      continue;
    }
    if (s.pend < 0) continue;
    const PendingOf<F>& q = b.pend[s.pend];
    if (done == Stage::kConnections) {
      s.rec.add(Stage::kConnections, What::kLookup, state_at<F>(flows_, q.flow_pos), static_cast<uint32_t>(q.path));
    } else if (done == Stage::kRules) {
      s.path = static_cast<uint8_t>(q.path);
      if (q.path == Path::kNew || q.path == Path::kStateless || q.path == Path::kRevalidate)
        for (uint8_t d = 0; d < 2; ++d)
          if (q.checks.needed[d]) s.rec.add(Stage::kRules, What::kCheck, d, q.checks.vm[d], q.result[d]);
    } else if (q.path == Path::kFast && static_cast<Path>(s.path) == Path::kNew) {
      s.rec.add(Stage::kVerdict, What::kAdvanced, state_at<F>(flows_, q.flow_pos));  // it existed after all
    } else if (q.path == Path::kNew) {
      s.rec.add(Stage::kVerdict, What::kCreated, state_at<F>(flows_, F::table(flows_).lookup(q.key)));
    } else if (q.path == Path::kFast) {
      s.rec.add(Stage::kVerdict, What::kAdvanced, state_at<F>(flows_, q.flow_pos));
    } else {
      s.rec.add(Stage::kVerdict, What::kPassed);
    }
  }
  trace_stage_ = done == Stage::kAdmit ? Stage::kConnections
                 : done == Stage::kConnections ? Stage::kRules
                                               : Stage::kVerdict;
}
template void Pipeline::trace_stage(const BurstOf<Ipv4Family>&, Stage);
template void Pipeline::trace_stage(const BurstOf<Ipv6Family>&, Stage);

void Pipeline::observe_drop(rte_mbuf* m, uint16_t in_port, core::DropReason r) {
  if (cap_ != nullptr && cap_->drops_only)
    cap_->offer(in_port, tx_.dpdk_port[in_port], m, static_cast<uint8_t>(static_cast<uint8_t>(r) + 1));
  for (uint8_t k = 0; k < ntraced_; ++k) {
    TraceSlot& s = traced_[k];
    if (s.m != m || s.ended) continue;
    s.rec.add(trace_stage_, What::kDropped, static_cast<uint16_t>(r));
    s.ended = true;
  }
}

void Pipeline::end_observe() {
  for (uint8_t k = 0; k < ntraced_; ++k) {
    TraceSlot& s = traced_[k];
    if (!s.ended && s.pend < 0) s.rec.add(Stage::kAdmit, What::kLinkService);
    trace_->hand_over(s.rec);
  }
  ntraced_ = 0;
  observing_ = false;
}

}  // namespace sgfw::dataplane
