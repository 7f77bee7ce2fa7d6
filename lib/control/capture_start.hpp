// Starting a `capture` or `trace` (docs/capture.md): names resolved against the running
// policy and ports, then the session started on the process's TapService. Control
// thread only. Errors: unknown VM or port, a VM not on this appliance, a session of the
// same kind running, DPDK resources.
#pragma once

#include "control/capture_request.hpp"
#include "control/dataplane_access.hpp"
#include "core/expected.hpp"
#include "runtime/publisher.hpp"

namespace sgfw::control {

[[nodiscard]] core::Status start_tap(const TapRequest& request, uint64_t connection, const runtime::Publisher* publisher,
                                     const DataplaneAccess* dataplane);

}  // namespace sgfw::control
