// The drop reason as an Enhanced Packet Block comment (docs/capture.md, "File format"):
// DPDK 22.11's rte_pcapng_copy() writes no comment, so the option (pcapng_option.hpp)
// is spliced in before the block's trailing length. Control path (the collecting thread).
// Thread-safety: changes only the mbuf it is given.
#pragma once

#include <rte_mbuf.h>

#include <string_view>

#include "capture/pcapng_option.hpp"

namespace sgfw::capture {

// Adds the comment to one rte_pcapng_copy() mbuf (one segment, EPB + trailing length):
// the option goes before the trailing length and both block lengths grow. Returns
// false, leaving the mbuf as it was, if it is not such a block or has no room.
[[nodiscard]] bool add_epb_comment(rte_mbuf* m, std::string_view text);

}  // namespace sgfw::capture
