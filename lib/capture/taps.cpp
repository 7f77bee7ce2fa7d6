// Worker-side capture and trace (docs/capture.md): filters, copies, hand-over.
// rte_pcapng is experimental in DPDK 22.11 (docs/capture.md, "DPDK API").
#define ALLOW_EXPERIMENTAL_API 1
#include "capture/taps.hpp"

#include <rte_cycles.h>
#include <rte_pcapng.h>

#include <cstring>

namespace sgfw::capture {

namespace {

uint64_t mac_at(const uint8_t* b) {
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | b[i];
  return v;
}

}  // namespace

Taps& process_taps() {
  static Taps taps;
  return taps;
}

bool CaptureTap::matches(uint16_t in_port, const rte_mbuf* m) const {
  if (port != kAnyPort && in_port != port) return false;
  if (!by_vm) return true;
  if (rte_pktmbuf_data_len(m) < 12) return false;
  const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
  return mac_at(f) == vm_mac || (in_port == vm_port && mac_at(f + 6) == vm_mac);
}

void CaptureTap::offer(uint16_t in_port, uint16_t dpdk_port, const rte_mbuf* m, uint8_t reason_plus1) {
  if (done() || !matches(in_port, m)) return;
  if (taken.fetch_add(1, std::memory_order_relaxed) >= count) return;
  rte_mbuf* c = rte_pcapng_copy(dpdk_port, 0, m, pool, kSnapLen, rte_get_tsc_cycles(), RTE_PCAPNG_DIRECTION_IN);
  if (c == nullptr) {
    lost.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  c->hash.usr = reason_plus1;
  if (rte_ring_mp_enqueue(ring, c) != 0) {
    rte_pktmbuf_free(c);
    lost.fetch_add(1, std::memory_order_relaxed);
  }
}

bool TraceTap::matches(const packet::ParsedPacket& p) const {
  using Kind = packet::ParsedPacket::Kind;
  if (p.proto != proto) return false;
  const uint8_t *s, *d;
  if (family == 4) {
    if (p.kind != Kind::kIpv4) return false;
    s = reinterpret_cast<const uint8_t*>(&p.src_be);
    d = reinterpret_cast<const uint8_t*>(&p.dst_be);
  } else {
    if (p.kind != Kind::kIpv6) return false;
    s = p.src6;
    d = p.dst6;
  }
  const size_t n = family == 4 ? 4 : 16;
  auto port_ok = [](uint16_t want, uint16_t got) { return want == 0 || want == got; };
  if (std::memcmp(s, a, n) == 0 && std::memcmp(d, b, n) == 0)
    return port_ok(a_port_be, p.sport_be) && port_ok(b_port_be, p.dport_be);
  if (std::memcmp(s, b, n) == 0 && std::memcmp(d, a, n) == 0)
    return port_ok(b_port_be, p.sport_be) && port_ok(a_port_be, p.dport_be);
  return false;
}

bool TraceTap::take() {
  if (done()) return false;
  return taken.fetch_add(1, std::memory_order_relaxed) < count;
}

void TraceTap::hand_over(const TraceRecord& r) {
  if (rte_ring_mp_enqueue_elem(ring, const_cast<TraceRecord*>(&r), sizeof(TraceRecord)) != 0)
    lost.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace sgfw::capture
