// Helpers of the connection-table tests (test_flow_table*.cpp): connections by index,
// uniform timeouts, a table per test and the insert of the earlier positional API.
#pragma once

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "flow/flow_table.hpp"

namespace sgfw::flow {
inline std::ostream& operator<<(std::ostream& o, ConnState s) { return o << to_string(s); }
inline std::ostream& operator<<(std::ostream& o, InsertResult r) {
  const char* names[] = {"inserted", "exists", "table-full", "quota-exceeded"};
  return o << names[static_cast<int>(r)];
}
}  // namespace sgfw::flow

using namespace sgfw::flow;

namespace flow_test {

constexpr uint64_t kForever = uint64_t{1} << 62;
constexpr uint32_t kNoQuota = 1u << 30;

// Connection i: 10.(i>>16).(i>>8).(i) port 1024+(i%7) -> 192.168.0.1:443 (network order).
struct Conn {
  uint32_t src, dst;
  uint16_t sport, dport;
  FlowKey fwd() const { return make_flow_key(6, src, sport, dst, dport); }
  FlowKey rev() const { return make_flow_key(6, dst, dport, src, sport); }
};
inline Conn conn(uint32_t i) {
  return {htonl(0x0a000000u | (i & 0xffffffu)), htonl(0xc0a80001u), htons(static_cast<uint16_t>(1024 + i % 7)),
          htons(443)};
}
inline FlowKey key(uint32_t i) { return conn(i).fwd(); }
inline bool same(const FlowKey& a, const FlowKey& b) { return std::memcmp(&a, &b, sizeof(FlowKey)) == 0; }

inline Timeouts uniform(uint64_t ticks) {
  Timeouts t;
  for (auto& v : t.by_state) v = ticks;
  return t;
}

inline std::unique_ptr<FlowTable> make_table(uint32_t capacity, uint32_t per_vm_limit, const Timeouts& to,
                                      rte_rcu_qsbr* qs = nullptr) {
  static unsigned n = 0;
  FlowTableOptions o;
  o.capacity = capacity;
  o.per_vm_limit = per_vm_limit;
  o.max_vm_ids = 16;
  o.timeouts = to;
  auto t = FlowTable::create(o, "ft" + std::to_string(n++), qs);
  if (!t) BOOST_FAIL("FlowTable::create: " << t.error().message);
  return std::move(*t);
}


// The insert of the earlier positional API, for these tests: `orig` is the first
// packet's source, charged to `vm` as the originating VM. With `later`, the half-open
// listing waits for t.link_half_open(*later), as on the packet path.
inline InsertResult insert_conn(FlowTable& t, const FlowKey& k, uint32_t orig_be, uint16_t orig_port_be, ConnState s,
                         uint32_t vm, uint64_t gen, uint32_t egress, uint32_t ingress, uint64_t now, int32_t* pos,
                         LinkLater* later = nullptr) {
  NewConnection c;
  c.key = k;
  c.orig_is_lo = k.addr_lo == orig_be && k.port_lo == orig_port_be;
  c.state = s;
  c.orig_vm = vm;
  c.generation = gen;
  c.egress_rule = egress;
  c.ingress_rule = ingress;
  c.express = (gen << 32) | 0x10002u;  // what the packet path would store: kept as given
  return later ? t.insert(c, now, pos, *later) : t.insert(c, now, pos);
}

inline std::vector<bool> vm_set(std::initializer_list<uint32_t> ids) {
  std::vector<bool> b(16);
  for (uint32_t i : ids) b[i] = true;
  return b;
}

inline InsertResult ins(FlowTable& t, uint32_t i, ConnState s, uint32_t vm, uint64_t now, int32_t* pos = nullptr,
                        LinkLater* later = nullptr) {
  int32_t p = -1;
  Conn c = conn(i);
  InsertResult r = insert_conn(t, c.fwd(), c.src, c.sport, s, vm, 1, 0, 0, now, &p, later);
  if (pos) *pos = p;
  return r;
}

inline size_t count_present(const FlowTable& t, uint32_t from, uint32_t to) {
  size_t n = 0;
  for (uint32_t i = from; i < to; ++i) n += t.lookup(key(i)) >= 0;
  return n;
}

inline size_t for_each_count(const FlowTable& t) {
  size_t n = 0;
  t.for_each([&](int32_t, const FlowEntry&, const FlowCold&) { ++n; });
  return n;
}

}  // namespace flow_test
