#include "bench/traffic_frames.hpp"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "bench/policy_generator.hpp"

namespace sgfw::bench {

namespace {

constexpr unsigned kMaxGroups = 16;  // VMs share at most 16 distinct rule sets
constexpr unsigned kEth = 14;
constexpr unsigned kIp4 = kEth + sizeof(rte_ipv4_hdr);  // UDP header offset, IPv4
constexpr unsigned kIp6 = kEth + sizeof(rte_ipv6_hdr);  // UDP header offset, IPv6

core::Mac vm_mac(unsigned i) { return core::Mac{{0x02, 0x00, 0x00, 0x01, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}}; }

// An IPv4 block, or its IPv6 twin with family 6.
core::IpCidr block(unsigned family, uint32_t net, uint8_t prefix) {
  if (family == 6) return ipv6_twin(core::Cidr{core::Ipv4{net}, prefix});
  return core::IpCidr{core::Ipv4{net}, prefix};
}

core::Ipv6 twin6(uint32_t addr) { return ipv6_twin(core::Cidr{core::Ipv4{addr}, 32}).base.v6; }

void write_ethernet(uint8_t* d, unsigned vm, uint16_t ether_type) {
  const uint8_t dmac[6] = {0x02, 0x00, 0x00, 0xff, 0x00, 0x01};
  core::Mac smac = vm_mac(vm);
  std::memcpy(d, dmac, 6);
  std::memcpy(d + 6, smac.bytes.data(), 6);
  d[12] = static_cast<uint8_t>(ether_type >> 8);
  d[13] = static_cast<uint8_t>(ether_type);
}

void set_udp6_checksum(rte_mbuf* m) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, kEth);
  auto* udp = rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, kIp6);
  udp->dgram_cksum = 0;
  udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
}

}  // namespace

unsigned min_traffic_frame(unsigned family) { return family == 6 ? kIp6 + sizeof(rte_udp_hdr) : 60; }

policy::Policy make_traffic_policy(const TrafficOptions& o) {
  policy::Policy p;
  unsigned groups = std::min(o.vms, kMaxGroups);
  for (unsigned g = 0; g < groups; ++g) {
    policy::Group grp;
    grp.name = "bench-" + std::to_string(g);
    for (unsigned r = 0; r + 1 < o.rules_per_vm; ++r) {
      policy::Rule rule;
      rule.name = "r" + std::to_string(r);
      rule.direction = r % 2 ? policy::Direction::kIngress : policy::Direction::kEgress;
      rule.protocol = r % 3 == 0 ? policy::Protocol::kUdp : policy::Protocol::kTcp;
      rule.ports = policy::PortRange{static_cast<uint16_t>(1000 + r % 50000), static_cast<uint16_t>(1000 + r % 50000)};
      uint32_t net = 0xac100000u + ((r * 7 + g) % 4096) * 256;  // 172.16.0.0/12 in /24s
      rule.remote.cidr = block(o.family, net, 24);
      grp.rules.push_back(rule);
    }
    policy::Rule allow;
    allow.name = "allow";
    allow.direction = policy::Direction::kEgress;
    allow.protocol = policy::Protocol::kUdp;
    allow.remote.cidr = block(o.family, kTrafficAllowNet, 15);
    grp.rules.push_back(allow);
    p.groups.push_back(std::move(grp));
  }
  for (unsigned i = 0; i < o.vms; ++i) {
    policy::Vm vm;
    vm.name = "vm-" + std::to_string(i);
    vm.port = "vms";
    vm.mac = vm_mac(i);
    vm.ips = {block(o.family, kTrafficVmNet + i + 1, 32).base};
    vm.groups = {"bench-" + std::to_string(i % groups)};
    p.vms.push_back(std::move(vm));
  }
  p.finalize();
  return p;
}

void write_traffic_frame(rte_mbuf* m, unsigned family, unsigned size, unsigned vm, uint32_t dst, uint16_t sport,
                         uint16_t dport) {
  rte_pktmbuf_reset(m);
  uint8_t* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(size)));
  std::memset(d, 0, size);
  if (family == 6) {
    write_ethernet(d, vm, RTE_ETHER_TYPE_IPV6);
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(d + kEth);
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(size - kEth - sizeof(rte_ipv6_hdr)));
    ip->proto = IPPROTO_UDP;
    ip->hop_limits = 64;
    core::Ipv6 src = twin6(kTrafficVmNet + vm + 1), dst6 = twin6(dst);
    std::memcpy(ip->src_addr, src.bytes.data(), 16);
    std::memcpy(ip->dst_addr, dst6.bytes.data(), 16);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(d + kIp6);
    udp->src_port = rte_cpu_to_be_16(sport);
    udp->dst_port = rte_cpu_to_be_16(dport);
    udp->dgram_len = ip->payload_len;
    set_udp6_checksum(m);
    return;
  }
  write_ethernet(d, vm, RTE_ETHER_TYPE_IPV4);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(d + kEth);
  ip->version_ihl = 0x45;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(size - kEth));
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_UDP;
  ip->src_addr = rte_cpu_to_be_32(kTrafficVmNet + vm + 1);
  ip->dst_addr = rte_cpu_to_be_32(dst);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(d + kIp4);
  udp->src_port = rte_cpu_to_be_16(sport);
  udp->dst_port = rte_cpu_to_be_16(dport);
  udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(size - kIp4));
}

void renew_traffic_frame(rte_mbuf* m, unsigned family, uint16_t sport, uint32_t dst) {
  if (family == 6) {
    rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, kIp6)->src_port = rte_cpu_to_be_16(sport);
    uint8_t* a = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, kEth)->dst_addr;
    const uint32_t be = rte_cpu_to_be_32(dst);  // the twin's last 32 bits
    std::memcpy(a + 12, &be, 4);
    set_udp6_checksum(m);
    return;
  }
  auto* udp = rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, kIp4);
  udp->src_port = rte_cpu_to_be_16(sport);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, kEth);
  ip->dst_addr = rte_cpu_to_be_32(dst);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

}  // namespace sgfw::bench
