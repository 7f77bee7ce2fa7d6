// Why a connection left its table (docs/logs.md, "End reasons"): the `end` record's
// `reason`. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "flow/conn_state.hpp"

namespace sgfw::flow {

// A TCP connection removed in a closed state after a FIN (fin-wait, closing,
// time-wait) ends with kFin, after a RST with kRst, instead of kTimeout or kEvicted.
enum class EndReason : uint8_t { kTimeout, kFin, kRst, kRevoked, kFlushed, kEvicted };
inline constexpr size_t kEndReasonCount = 6;

// "timeout", "fin", "rst", "revoked", "flushed", "evicted".
[[nodiscard]] const char* to_string(EndReason r);

// `why`, except that kTimeout and kEvicted become kFin or kRst when `s` (the state the
// connection was removed in) is a closed TCP state.
[[nodiscard]] EndReason closing_reason(ConnState s, EndReason why);

}  // namespace sgfw::flow
