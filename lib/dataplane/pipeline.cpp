#include "dataplane/pipeline.hpp"

#include <rte_ethdev.h>

#include <cstring>

#include "acl/acl_layout.hpp"
#include "packet/parser.hpp"

namespace sgfw::dataplane {

namespace {

using core::DropReason;
using packet::ParsedPacket;

constexpr uint32_t kNoVm = acl::kNoVm;

uint64_t mac_u64(const uint8_t* b) {
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | b[i];
  return v;
}

bool is_group_mac(const uint8_t* b) { return (b[0] & 1) != 0; }

// One pending rule check of a packet in the burst.
struct Check {
  uint32_t image;
  uint16_t packet;
  uint8_t slot;  // 0 = egress, 1 = ingress
  acl::AclKey key;
};

struct Pending {
  rte_mbuf* m;
  uint32_t src_vm;
  uint32_t dst_vm;
  uint16_t out_port;
  uint32_t result[2];  // rule_id + 1 per check, kNoMatch if denied
  bool needs[2];
};

acl::AclKey make_key(const ParsedPacket& p, uint32_t remote_be, compiler::ClassId klass) {
  acl::AclKey k;
  std::memset(&k, 0, sizeof(k));
  k.proto = p.proto;
  k.remote_addr = remote_be;
  k.remote_class = rte_cpu_to_be_32(klass);
  k.sport = p.sport_be;
  k.dport = p.dport_be;
  return k;
}

}  // namespace

void Pipeline::drop(rte_mbuf* m, uint16_t in_port, DropReason r, runtime::PolicyCounters* pc, uint32_t vm) {
  runtime::bump(port_counters_[in_port].drops[static_cast<size_t>(r)]);
  if (pc && vm != kNoVm) runtime::bump(pc->vm_drops[vm * core::kDropReasonCount + static_cast<size_t>(r)]);
  rte_pktmbuf_free(m);
}

void Pipeline::send(rte_mbuf* m, uint16_t out_port) {
  if (tx_len_[out_port] == kTxBuffer) flush_port(out_port);
  tx_buf_[out_port][tx_len_[out_port]++] = m;
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

void Pipeline::process(runtime::Snapshot& snap, uint16_t in_port, rte_mbuf** pkts, uint16_t n) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const acl::PolicyTables& tables = snap.tables();
  const bool from_uplink = in_port == snap.uplink();
  runtime::bump(port_counters_[in_port].rx, n);

  Pending pend[kBurst];
  ParsedPacket parsed[kBurst];
  uint16_t np = 0;
  Check checks[2 * kBurst];
  uint16_t nc = 0;

  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    // Single-segment frames only: a chained mbuf is judged on its first segment, which
    // the parser bounds; frames longer than one segment do not occur at our MTU.
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    ParsedPacket& p = parsed[np];
    p = packet::parse(data, rte_pktmbuf_data_len(m));
    if (p.kind == ParsedPacket::Kind::kDrop) {
      drop(m, in_port, p.drop, nullptr, kNoVm);
      continue;
    }
    uint64_t src_mac = mac_u64(p.src_mac);
    uint32_t src_vm = kNoVm;
    if (!from_uplink) {
      src_vm = snap.vm_on_port(in_port, src_mac);
      if (src_vm == kNoVm) {
        drop(m, in_port, DropReason::kSpoofed, nullptr, kNoVm);
        continue;
      }
    }

    if (p.kind == ParsedPacket::Kind::kArp) {
      acl::AddressInfo spa = tables.addresses().lookup(p.arp_spa_be);
      if (from_uplink ? spa.local_vm != kNoVm
                      : (spa.local_vm != src_vm || mac_u64(p.arp_sha) != src_mac)) {
        drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
        continue;
      }
      if (is_group_mac(p.dst_mac)) {  // a request (broadcast): every port but its own
        uint16_t copies = 0;
        for (uint16_t o = 0; o < tx_.nports; ++o) copies += (o != in_port);
        if (copies == 0) {
          rte_pktmbuf_free(m);
          continue;
        }
        rte_mbuf_refcnt_update(m, static_cast<int16_t>(copies - 1));
        for (uint16_t o = 0; o < tx_.nports; ++o)
          if (o != in_port) send(m, o);
      } else {
        uint32_t d = snap.vm_with_mac(mac_u64(p.dst_mac));
        uint16_t out = d != kNoVm ? snap.vm_port(d) : snap.uplink();
        if (out == in_port && from_uplink) {
          drop(m, in_port, DropReason::kNotLocal, pc, src_vm);
          continue;
        }
        send(m, out);
      }
      continue;
    }

    // IPv4.
    acl::AddressInfo src = tables.addresses().lookup(p.src_be);
    if (from_uplink ? src.local_vm != kNoVm : src.local_vm != src_vm) {
      drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
      continue;
    }
    if (is_group_mac(p.dst_mac)) {
      drop(m, in_port, DropReason::kBroadcast, pc, src_vm);
      continue;
    }
    acl::AddressInfo dst = tables.addresses().lookup(p.dst_be);
    uint32_t dst_vm = dst.local_vm;
    if (src_vm == kNoVm && dst_vm == kNoVm) {
      drop(m, in_port, DropReason::kNotLocal, pc, kNoVm);
      continue;
    }
    uint16_t out = snap.uplink();
    if (dst_vm != kNoVm) {
      if (mac_u64(p.dst_mac) != snap.vm_mac(dst_vm)) {
        drop(m, in_port, DropReason::kDstMismatch, pc, src_vm != kNoVm ? src_vm : dst_vm);
        continue;
      }
      out = snap.vm_port(dst_vm);
    }
    if (p.is_fragment && !p.first_fragment) {
      // No fragment state yet (connection tracking): a later fragment cannot be tied to
      // a judged first fragment, so it fails closed.
      drop(m, in_port, DropReason::kFragmentOrphan, pc, src_vm != kNoVm ? src_vm : dst_vm);
      continue;
    }
    Pending& q = pend[np];
    q = {m, src_vm, dst_vm, out, {acl::kNoMatch, acl::kNoMatch}, {src_vm != kNoVm, dst_vm != kNoVm}};
    if (q.needs[0])
      checks[nc++] = {snap.vm(src_vm).egress_image, np, 0, make_key(p, p.dst_be, dst.klass)};
    if (q.needs[1])
      checks[nc++] = {snap.vm(dst_vm).ingress_image, np, 1, make_key(p, p.src_be, src.klass)};
    ++np;
  }

  // Classify grouped per context; results land back in each packet's slot.
  bool done[2 * kBurst] = {};
  const uint8_t* keys[2 * kBurst];
  uint32_t results[2 * kBurst];
  uint16_t idx[2 * kBurst];
  for (uint16_t c = 0; c < nc; ++c) {
    if (done[c]) continue;
    uint32_t image = checks[c].image;
    uint16_t k = 0;
    for (uint16_t j = c; j < nc; ++j) {
      if (done[j] || checks[j].image != image) continue;
      done[j] = true;
      idx[k] = j;
      keys[k++] = reinterpret_cast<const uint8_t*>(&checks[j].key);
    }
    const acl::AclContext* ctx = tables.context(image);
    if (ctx == nullptr || ctx->classify(keys, results, k) != 0) {
      for (uint16_t j = 0; j < k; ++j) results[j] = acl::kNoMatch;  // fail closed
    }
    for (uint16_t j = 0; j < k; ++j) pend[checks[idx[j]].packet].result[checks[idx[j]].slot] = results[j];
  }

  // Verdicts in packet order.
  for (uint16_t i = 0; i < np; ++i) {
    Pending& q = pend[i];
    if (q.needs[0] && q.result[0] == acl::kNoMatch) {
      drop(q.m, in_port, DropReason::kNoRule, pc, q.src_vm);
      continue;
    }
    if (q.needs[1] && q.result[1] == acl::kNoMatch) {
      drop(q.m, in_port, DropReason::kNoRule, pc, q.dst_vm);
      continue;
    }
    for (int s = 0; s < 2; ++s) {
      if (!q.needs[s]) continue;
      runtime::bump(pc->vm_allowed[s == 0 ? q.src_vm : q.dst_vm]);
      runtime::bump(pc->rule_hits[q.result[s] - 1]);
    }
    send(q.m, q.out_port);
  }
}

}  // namespace sgfw::dataplane
