// Starting a `capture` or `trace` (docs/capture.md).
#include "control/capture_start.hpp"

#include "control/capture_service.hpp"
#include "core/escape.hpp"

namespace sgfw::control {

namespace {

std::vector<std::string> port_names_of(const DataplaneAccess* dataplane) {
  std::vector<std::string> names;
  if (dataplane != nullptr)
    for (const auto& p : dataplane->ports()) names.push_back(p.name);
  return names;
}

std::string listed(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "none" : s;
}

core::Status start_capture(const CaptureRequest& r, uint64_t connection, const runtime::Publisher* publisher,
                           const DataplaneAccess* dataplane) {
  const std::vector<std::string> ports = port_names_of(dataplane);
  CaptureFilter f;
  if (!r.port.empty()) {
    size_t i = 0;
    while (i < ports.size() && ports[i] != r.port) ++i;
    if (i == ports.size())
      return core::make_error("capture: no port named '" + core::escape_for_log(r.port, 64) + "' (ports: " +
                              listed(ports) + ")");
    f.port = static_cast<uint16_t>(i);
  }
  if (!r.vm.empty()) {
    const runtime::Snapshot* snap = publisher != nullptr ? publisher->current() : nullptr;
    const auto* vms = snap != nullptr ? &snap->tables().compiled().vms : nullptr;
    size_t i = 0;
    while (vms != nullptr && i < vms->size() && (*vms)[i].name != r.vm) ++i;
    if (vms == nullptr || i == vms->size())
      return core::make_error("capture: no VM named '" + core::escape_for_log(r.vm, 64) + "' in the running policy");
    if ((*vms)[i].port.empty())
      return core::make_error("capture: VM '" + r.vm + "' is not on this appliance (it has no port)");
    f.by_vm = true;
    f.vm_mac = snap->vm_mac(static_cast<uint32_t>(i));
    f.vm_port = snap->vm_port(static_cast<uint32_t>(i));
  }
  return tap_service().start_capture(r, f, connection, publisher);
}

}  // namespace

core::Status start_tap(const TapRequest& request, uint64_t connection, const runtime::Publisher* publisher,
                       const DataplaneAccess* dataplane) {
  if (const auto* c = std::get_if<CaptureRequest>(&request)) return start_capture(*c, connection, publisher, dataplane);
  return tap_service().start_trace(std::get<TraceRequest>(request), connection, publisher, port_names_of(dataplane));
}

}  // namespace sgfw::control
