// The text of a trace reply (docs/capture.md, "Trace"): one block per packet.
#include <algorithm>
#include <sstream>

#include "ctl/tap_commands.hpp"

namespace sgfw::ctl {

namespace {

std::string text_of(const Json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string tcp_flags(uint32_t f) {
  static constexpr char kNames[] = "FSRPAUEC";
  std::string s;
  for (int b = 0; b < 8; ++b)
    if (f & (1u << b)) s += kNames[b];
  return s.empty() ? "none" : s;
}

std::string event_text(const Json& e) {
  const std::string stage = e.at("stage").get<std::string>();
  std::ostringstream s;
  if (e.contains("direction")) {
    s << e["direction"].get<std::string>() << " check of " << text_of(e["vm"]) << ": " << e["verdict"].get<std::string>();
    if (!e["rule"].is_null()) s << " by " << e["rule"].get<std::string>();
    return s.str();
  }
  const std::string result = e.at("result").get<std::string>();
  s << result;
  if (result == "parsed") {
    s << " " << e["family"].get<std::string>() << " protocol " << e["protocol"].dump();
    if (e.contains("tcp_flags")) s << " flags " << tcp_flags(e["tcp_flags"].get<uint32_t>());
    if (e.contains("icmp_type")) s << " type " << e["icmp_type"].dump();
  } else if (result == "dropped") {
    s << ": " << e["reason"].get<std::string>();
  } else if (result == "admitted") {
    s << " from " << text_of(e["from_vm"]) << " to " << text_of(e["to_vm"]) << ", out port " << text_of(e["out_port"]);
  } else if (result == "miss") {
    s << " (connection: " << e["connection"].get<std::string>() << ")";
  }
  if (e.contains("state")) s << " (state " << text_of(e["state"]) << ")";
  return s.str();
}

}  // namespace

std::string trace_text(const Json& result) {
  std::ostringstream s;
  size_t n = 0;
  for (const auto& p : result.at("packets")) {
    s << "packet " << ++n << " (port " << text_of(p.at("port")) << ", generation " << p.at("generation").dump() << ")\n";
    for (const auto& e : p.at("stages")) {
      std::string stage = e.at("stage").get<std::string>();
      stage.resize(std::max<size_t>(stage.size(), 12), ' ');
      s << "  " << stage << " " << event_text(e) << "\n";
    }
  }
  s << n << (n == 1 ? " packet" : " packets") << " followed (lost " << result.at("lost").dump() << ", ended by "
    << result.at("ended").get<std::string>() << ")\n";
  return s.str();
}

}  // namespace sgfw::ctl
