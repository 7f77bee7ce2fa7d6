#include "dataplane/pipeline.hpp"

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "dataplane/burst.hpp"

namespace sgfw::dataplane {

using core::DropReason;

void Pipeline::drop(rte_mbuf* m, uint16_t in_port, DropReason r, runtime::PolicyCounters* pc, uint32_t vm) {
  runtime::bump(port_counters_[in_port].drops[static_cast<size_t>(r)]);
  if (pc && vm != kNoVm) runtime::bump(pc->vm_drops[vm * core::kDropReasonCount + static_cast<size_t>(r)]);
  if (observing_) [[unlikely]] observe_drop(m, in_port, r);
  if (ndropped_ == kBurst) free_dropped();  // not reached: a burst drops each frame at most once
  dropped_[ndropped_++] = m;
}

void Pipeline::free_dropped() {
  rte_pktmbuf_free_bulk(dropped_, ndropped_);
  ndropped_ = 0;
}

void Pipeline::flood(rte_mbuf* m, uint16_t in_port, bool vm_ports_only, uint16_t uplink) {
  uint16_t copies = 0;
  for (uint16_t o = 0; o < tx_.nports; ++o) copies += (o != in_port && !(vm_ports_only && o == uplink));
  if (copies == 0) {
    rte_pktmbuf_free(m);
    return;
  }
  rte_mbuf_refcnt_update(m, static_cast<int16_t>(copies - 1));
  for (uint16_t o = 0; o < tx_.nports; ++o)
    if (o != in_port && !(vm_ports_only && o == uplink)) send(m, o);
}

void Pipeline::flush_port(uint16_t port) {
  uint16_t n = tx_len_[port];
  if (n == 0) return;
  uint16_t sent = rte_eth_tx_burst(tx_.dpdk_port[port], tx_.txq, tx_buf_[port], n);
  runtime::bump(port_counters_[port].tx, sent);
  if (sent < n) {
    runtime::bump(port_counters_[port].drops[static_cast<size_t>(DropReason::kTxFailed)], n - sent);
    for (uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(tx_buf_[port][i]);
  }
  tx_len_[port] = 0;
}

void Pipeline::flush() {
  for (uint16_t p = 0; p < tx_.nports; ++p) flush_port(p);
}

void Pipeline::process(runtime::Snapshot& snap, uint16_t in_port, rte_mbuf** pkts, uint16_t n, uint64_t now,
                       rte_mbuf* const* next, uint16_t next_n) {
  runtime::bump(port_counters_[in_port].rx, n);
  const bool observe = cap_ != nullptr || trace_ != nullptr;
  if (observe) [[unlikely]] begin_observe(pkts, n, in_port);
  Parsed ps;
  parse_burst(ps, pkts, n, in_port);
  // The next burst's frames are fetched while this one is judged, and so is their mbufs'
  // second line, which only the driver reads, when it frees a sent mbuf (`next`): else
  // that read misses at every tx burst. After the parse: its reads of this burst's frames
  // come first (docs/design/packet-path.md, "Receiving ahead").
  for (uint16_t i = 0; i < next_n; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(next[i], const void*));
    rte_prefetch0(&next[i]->next);
  }
  if (observe) [[unlikely]] trace_start(snap, ps, in_port, now);
  if (!flows_.forward_only) {
    if (ps.n6 != ps.n) express<Ipv4Family>(ps, snap, in_port, now);
    if (ps.n6 != 0) express<Ipv6Family>(ps, snap, in_port, now);
  }
  if (ntraced_ != 0) [[unlikely]] trace_after_express(ps);
  lookup_links(ps, snap, in_port);
  Burst b;
  admit_burst(b, snap, in_port, ps, now);
  if (b.np != 0) run_stages(b, snap, in_port, now);
  if (ps.n6 != 0) {
    if (ntraced_ != 0) [[unlikely]] trace_stage_ = capture::Stage::kAdmit;  // the IPv6 pass starts over
    process6(snap, in_port, ps, now);
  }
  if (observe) [[unlikely]] end_observe();
  if (ndropped_ != 0) free_dropped();
}
}  // namespace sgfw::dataplane
