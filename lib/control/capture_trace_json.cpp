// A traced packet as JSON (docs/capture.md, "Trace").
#include "control/capture_trace_json.hpp"

#include "core/drop_reason.hpp"

namespace sgfw::control {

namespace {

using Json = nlohmann::ordered_json;
using capture::Stage;
using capture::What;

constexpr const char* kStageNames[] = {"parse", "express", "admit", "connections", "rules", "verdict"};
constexpr const char* kPathNames[] = {"new", "stateless", "re-check", "established", "related", "fragment"};
constexpr uint32_t kNoVm = 0xffffffffu;  // acl::kNoVm

Json state_json(uint16_t s) {
  const char* n = capture::state_name(s);
  return n ? Json(n) : Json(nullptr);
}

}  // namespace

Json trace_packet_json(const capture::TraceRecord& r, const runtime::Snapshot* snap,
                       const std::vector<std::string>& port_names) {
  const bool named = snap != nullptr && snap->generation() == r.generation;
  auto vm = [&](uint32_t i) -> Json {
    if (i == kNoVm) return nullptr;
    if (named && i < snap->tables().compiled().vms.size()) return snap->vm(i).name;
    return "vm #" + std::to_string(i) + " of generation " + std::to_string(r.generation);
  };
  auto port = [&](uint32_t p) -> Json {
    if (p < port_names.size()) return port_names[p];
    return "port #" + std::to_string(p);
  };
  Json stages = Json::array();
  for (uint8_t k = 0; k < r.nevents && k < capture::kMaxEvents; ++k) {
    const capture::TraceEvent& e = r.ev[k];
    const auto si = static_cast<size_t>(e.stage);
    Json j{{"stage", si < std::size(kStageNames) ? kStageNames[si] : "?"}};
    switch (e.what) {
      case What::kParsed:
        j["result"] = "parsed";
        j["family"] = e.c == 6 ? "IPv6" : "IPv4";
        j["protocol"] = e.a;
        if (e.a == 6) j["tcp_flags"] = e.b;
        else if (e.a == 1 || e.a == 58) j["icmp_type"] = e.b;
        break;
      case What::kExpressPass:
        j["result"] = "passed";
        j["state"] = state_json(e.a);
        break;
      case What::kExpressMiss:
        j["result"] = "miss";
        j["connection"] = e.b == 1 ? "found, not eligible" : "none";
        break;
      case What::kQueued:
        j["result"] = "admitted";
        j["from_vm"] = vm(e.b);
        j["to_vm"] = vm(e.c);
        j["out_port"] = port(e.a);
        break;
      case What::kLinkService:
        j["result"] = "link-service";
        break;
      case What::kLookup:
        j["result"] = e.b < std::size(kPathNames) ? kPathNames[e.b] : "?";
        j["state"] = state_json(e.a);
        break;
      case What::kCheck: {
        j["direction"] = e.a == 0 ? "egress" : "ingress";
        j["vm"] = vm(e.b);
        j["verdict"] = e.c == 0 ? "deny" : "allow";
        if (e.c == 0) j["rule"] = nullptr;
        else if (named && e.c - 1 < snap->tables().compiled().rules.size())
          j["rule"] = snap->tables().compiled().rules[e.c - 1].label();
        else j["rule"] = "rule #" + std::to_string(e.c - 1) + " of generation " + std::to_string(r.generation);
        break;
      }
      case What::kCreated:
        j["result"] = "created";
        j["state"] = state_json(e.a);
        break;
      case What::kAdvanced:
        j["result"] = "advanced";
        j["state"] = state_json(e.a);
        break;
      case What::kPassed:
        j["result"] = "passed";
        break;
      case What::kDropped:
        j["result"] = "dropped";
        j["reason"] = e.a < core::kDropReasonCount ? std::string(core::kDropReasonNames[e.a]) : "?";
        break;
    }
    stages.push_back(std::move(j));
  }
  return Json{{"port", port(r.port)}, {"generation", r.generation}, {"stages", std::move(stages)}};
}

}  // namespace sgfw::control
