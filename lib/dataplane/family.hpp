// The address families of the packet path (docs/design/packet-path.md, "Two
// families"): what stages 2-4 need to know of IPv4 and IPv6 (address and key types,
// connection and fragment tables, rule tables, the ICMP of the family), so that one
// code serves both. Stage 1 (admission: anti-spoofing, ARP or neighbour discovery,
// link services) is written per family. Private to lib/dataplane.
// Data path: inline, no allocation. Thread-safety: pure over the immutable snapshot.
#pragma once

#include <cstdint>

#include "acl/check_plan.hpp"
#include "acl/check_plan6.hpp"
#include "core/protocols.hpp"
#include "dataplane/pipeline.hpp"
#include "flow/flow_key.hpp"
#include "flow/flow_table.hpp"
#include "packet/parsed_packet.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::dataplane {

struct Ipv4Family {
  using Addr = uint32_t;  // network order
  using Key = flow::FlowKey;
  using Table = flow::FlowTable;
  using Entry = flow::FlowEntry;
  using Cold = flow::FlowCold;
  using NewConnection = flow::NewConnection;
  using PendingInsert = flow::FlowTable::PendingInsert;
  using Plan = acl::CheckPlan;
  using AclKey = acl::AclKey;
  static constexpr uint8_t kIcmp = core::kProtoIcmp;
  static constexpr uint8_t kEchoReply = core::kIcmpEchoReply;

  static Table& table(const FlowContext& f) { return *f.table; }
  static ClassifyCache<AclKey>& cache(ClassifyCaches& c) { return c.v4; }
  static Table& fragments(const FlowContext& f) { return *f.fragments; }
  static Key flow_key(uint8_t proto, Addr src, uint16_t sport_be, Addr dst, uint16_t dport_be,
                      bool* src_is_lo = nullptr) {
    return flow::make_flow_key(proto, src, sport_be, dst, dport_be, src_is_lo);
  }
  // A fragment train: IPv4 keys it by (protocol, source, destination, identification).
  static Key fragment_key(uint8_t proto, Addr src, Addr dst, uint32_t frag_id_be) {
    return flow::make_fragment_key(proto, src, dst, static_cast<uint16_t>(frag_id_be));
  }
  static void plan(const compiler::CompiledPolicy& p, uint8_t proto, Addr a, uint16_t a_port_be,
                   const acl::AddressInfo& ai, Addr b, uint16_t b_port_be, const acl::AddressInfo& bi, Plan& c) {
    acl::plan_checks(p, proto, a, a_port_be, ai, b, b_port_be, bi, c);
  }
  static const acl::AclContext* context(const acl::PolicyTables& t, uint32_t image) { return t.context(image); }
  static uint32_t classify_one(const acl::PolicyTables& t, uint32_t image, const acl::AclKey& k) {
    return t.classify_one(image, k);
  }
  static acl::AddressInfo lookup(const runtime::Snapshot& s, Addr a) { return s.tables().addresses().lookup(a); }
  // The allowed address pairs of the family, and an address as their lookups take it.
  static const acl::PairTable& pairs(const runtime::Snapshot& s) { return s.pairs(); }
  static Addr pair_key(Addr a) { return a; }
  // The fragment train id of a parsed packet.
  static uint32_t frag_id(const packet::ParsedPacket& p) { return p.ip_id_be; }
};

struct Ipv6Family {
  using Addr = flow::Addr6;  // 16 bytes, network order
  using Key = flow::FlowKey6;
  using Table = flow::FlowTable6;
  using Entry = flow::FlowEntry6;
  using Cold = flow::FlowCold6;
  using NewConnection = flow::NewConnection6;
  using PendingInsert = flow::FlowTable6::PendingInsert;
  using Plan = acl::CheckPlan6;
  using AclKey = acl::AclKey6;
  static constexpr uint8_t kIcmp = core::kProtoIcmp6;
  static constexpr uint8_t kEchoReply = core::kIcmp6EchoReply;

  static Table& table(const FlowContext& f) { return *f.table6; }
  static ClassifyCache<AclKey>& cache(ClassifyCaches& c) { return c.v6; }
  static Table& fragments(const FlowContext& f) { return *f.fragments6; }
  static Key flow_key(uint8_t proto, const Addr& src, uint16_t sport_be, const Addr& dst, uint16_t dport_be,
                      bool* src_is_lo = nullptr) {
    return flow::make_flow_key6(proto, src.data(), sport_be, dst.data(), dport_be, src_is_lo);
  }
  // A fragment train: IPv6 keys it by (source, destination, identification) only: the
  // fragment header's next header of a later fragment need not be the upper-layer
  // protocol (RFC 8200 §4.5); the train remembers the first fragment's.
  static Key fragment_key(uint8_t /*proto*/, const Addr& src, const Addr& dst, uint32_t frag_id_be) {
    return flow::make_fragment_key6(0, src.data(), dst.data(), frag_id_be);
  }
  static void plan(const compiler::CompiledPolicy& p, uint8_t proto, const Addr& a, uint16_t a_port_be,
                   const acl::AddressInfo& ai, const Addr& b, uint16_t b_port_be, const acl::AddressInfo& bi,
                   Plan& c) {
    acl::plan_checks6(p, proto, a.data(), a_port_be, ai, b.data(), b_port_be, bi, c);
  }
  static const acl::AclContext* context(const acl::PolicyTables& t, uint32_t image) { return t.context6(image); }
  static uint32_t classify_one(const acl::PolicyTables& t, uint32_t image, const acl::AclKey6& k) {
    return t.classify6_one(image, k);
  }
  static acl::AddressInfo lookup(const runtime::Snapshot& s, const Addr& a) {
    return s.tables().addresses6().lookup(a.data());
  }
  static const acl::PairTable6& pairs(const runtime::Snapshot& s) { return s.pairs6(); }
  static const uint8_t* pair_key(const Addr& a) { return a.data(); }
  static uint32_t frag_id(const packet::ParsedPacket& p) { return p.frag_id6_be; }
};

}  // namespace sgfw::dataplane
