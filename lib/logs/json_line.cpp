#include "logs/json_line.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <ctime>

#include "core/drop_reason.hpp"
#include "flow/end_reason.hpp"

namespace sgfw::logs {

namespace {

void append_string(std::string& o, std::string_view s) {
  o += '"';
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      o += buf;
    } else {
      o += c;
    }
  }
  o += '"';
}

void key(std::string& o, const char* k) {
  if (o.size() > 1) o += ',';
  o += '"';
  o += k;
  o += "\":";
}

void field(std::string& o, const char* k, std::string_view v) {
  key(o, k);
  append_string(o, v);
}

void field(std::string& o, const char* k, uint64_t v) {
  key(o, k);
  o += std::to_string(v);
}

std::string address(uint8_t family, const uint8_t* a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, sizeof(buf));
  return buf;
}

const char* proto_name(uint8_t family, uint8_t p) {
  if (p == IPPROTO_TCP) return "tcp";
  if (p == IPPROTO_UDP) return "udp";
  if (p == IPPROTO_ICMP && family == 4) return "icmp";
  if (p == IPPROTO_ICMPV6 && family == 6) return "icmpv6";
  return nullptr;
}

void vm_field(std::string& o, const char* k, uint32_t id, const Names& names) {
  key(o, k);
  const std::string* n = id == kNoVm ? nullptr : names.vm(id);
  if (n) append_string(o, *n);
  else o += "null";
}

void rule_field(std::string& o, const char* k, const Record& r, int d, const Names& names) {
  key(o, k);
  uint32_t v = r.rule[d];
  if (!(r.checks & (1u << d)) || v == 0) {
    o += "null";
    return;
  }
  if (const std::string* l = names.rule(r.generation, v - 1)) append_string(o, *l);
  else append_string(o, "generation " + std::to_string(r.generation) + " rule #" + std::to_string(v - 1));
}

const char* event_name(Kind k) {
  switch (k) {
    case Kind::kAdmit: return "admit";
    case Kind::kEnd: return "end";
    case Kind::kDrop: return "drop";
  }
  return "?";
}

}  // namespace

int64_t TimeBase::unix_ns(uint64_t tsc) const {
  // Whole seconds and the remainder apart: no overflow of ticks * 1e9.
  const bool before = tsc < tsc0;
  const uint64_t d = before ? tsc0 - tsc : tsc - tsc0;
  const uint64_t ns = d / tsc_hz * 1000000000ull + d % tsc_hz * 1000000000ull / tsc_hz;
  return before ? unix_ns0 - static_cast<int64_t>(ns) : unix_ns0 + static_cast<int64_t>(ns);
}

std::string format_time(int64_t unix_ns) {
  int64_t sec = unix_ns / 1000000000;
  int64_t ms = (unix_ns % 1000000000) / 1000000;
  if (ms < 0) {
    ms += 1000;
    --sec;
  }
  time_t t = static_cast<time_t>(sec);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[80];  // 24 bytes in practice; room for any int the format could print
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string format_record(const Record& r, const Names& names, const TimeBase& tb) {
  std::string o = "{";
  o.reserve(384);
  field(o, "time", format_time(tb.unix_ns(r.tsc)));
  field(o, "event", event_name(r.kind));
  if (r.kind == Kind::kEnd) field(o, "reason", flow::to_string(static_cast<flow::EndReason>(r.reason)));
  if (r.kind == Kind::kDrop) {
    const size_t reason = r.reason < core::kDropReasonCount ? r.reason : 0;
    field(o, "reason", core::kDropReasonNames[reason]);
  }
  if (const char* p = proto_name(r.family, r.proto)) field(o, "proto", p);
  else field(o, "proto", uint64_t{r.proto});
  field(o, "src", address(r.family, r.src));
  const bool ports = r.proto == IPPROTO_TCP || r.proto == IPPROTO_UDP;
  const bool icmp = (r.proto == IPPROTO_ICMP && r.family == 4) || (r.proto == IPPROTO_ICMPV6 && r.family == 6);
  if (ports) field(o, "sport", uint64_t{ntohs(r.sport_be)});
  field(o, "dst", address(r.family, r.dst));
  if (ports) field(o, "dport", uint64_t{ntohs(r.dport_be)});
  if (icmp) field(o, "icmp_id", uint64_t{ntohs(r.sport_be != 0 ? r.sport_be : r.dport_be)});
  vm_field(o, "src_vm", r.vm[0], names);
  vm_field(o, "dst_vm", r.vm[1], names);
  if (r.kind == Kind::kDrop) {
    key(o, "denied_by");
    if (r.denied_check == 0 || r.denied_check == 1) {
      o += "{\"direction\":";
      o += r.denied_check == 0 ? "\"egress\"" : "\"ingress\"";
      o += ",\"vm\":";
      const uint32_t vm = r.vm[r.denied_check];
      const std::string* n = vm == kNoVm ? nullptr : names.vm(vm);
      if (n) append_string(o, *n);
      else o += "null";
      o += '}';
    } else {
      o += "null";
    }
  }
  rule_field(o, "egress_rule", r, 0, names);
  rule_field(o, "ingress_rule", r, 1, names);
  field(o, "generation", r.generation);
  if (r.kind == Kind::kEnd) {
    char dur[32];
    std::snprintf(dur, sizeof(dur), "%.3f", static_cast<double>(r.age_tsc) / static_cast<double>(tb.tsc_hz));
    key(o, "duration_s");
    o += dur;
    field(o, "orig_packets", r.packets[0]);
    field(o, "orig_bytes", r.bytes[0]);
    field(o, "reply_packets", r.packets[1]);
    field(o, "reply_bytes", r.bytes[1]);
  }
  o += '}';
  return o;
}

std::string format_suppressed(int64_t second, uint64_t count) {
  std::string o = "{";
  field(o, "time", format_time(second * 1000000000));
  field(o, "event", "suppressed");
  field(o, "lines", count);
  o += '}';
  return o;
}

}  // namespace sgfw::logs
