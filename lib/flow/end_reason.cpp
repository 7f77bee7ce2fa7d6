#include "flow/end_reason.hpp"

namespace sgfw::flow {

const char* to_string(EndReason r) {
  switch (r) {
    case EndReason::kTimeout: return "timeout";
    case EndReason::kFin: return "fin";
    case EndReason::kRst: return "rst";
    case EndReason::kRevoked: return "revoked";
    case EndReason::kFlushed: return "flushed";
    case EndReason::kEvicted: return "evicted";
  }
  return "?";
}

EndReason closing_reason(ConnState s, EndReason why) {
  if (why != EndReason::kTimeout && why != EndReason::kEvicted) return why;
  switch (s) {
    case ConnState::kTcpFinWait:
    case ConnState::kTcpClosing:
    case ConnState::kTcpTimeWait:
    case ConnState::kTcpLooseClosing: return EndReason::kFin;
    case ConnState::kTcpClosed: return EndReason::kRst;
    default: return why;
  }
}

}  // namespace sgfw::flow
