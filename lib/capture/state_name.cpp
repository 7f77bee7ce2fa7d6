// Connection-state names for trace events (docs/capture.md, "Trace").
#include "capture/trace_record.hpp"
#include "flow/conn_state.hpp"

namespace sgfw::capture {

const char* state_name(uint16_t state) {
  if (state == kNoState) return nullptr;
  return flow::to_string(static_cast<flow::ConnState>(state));
}

}  // namespace sgfw::capture
