// The pcapng comment option (docs/capture.md, "File format"): the bytes of an
// opt_comment and opt_endofopt, as the drop reason is written into an Enhanced Packet
// Block. No DPDK (unit-tested byte by byte). Thread-safety: pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sgfw::capture {

inline constexpr uint16_t kOptComment = 1;     // opt_comment (pcapng §3.5)
inline constexpr size_t kMaxCommentBytes = 64; // longer text is cut
// Room a comment option takes at most: its header, the padded text, opt_endofopt.
inline constexpr size_t kCommentRoom = 4 + kMaxCommentBytes + 4;

// Writes opt_comment(text) followed by opt_endofopt into `out` (host byte order, as
// rte_pcapng writes the rest of the file): code 1, length, text padded with zeros to 4
// bytes; then 4 zero bytes. Returns the bytes written, or 0 if `cap` is too small.
// Text longer than kMaxCommentBytes is cut to it.
[[nodiscard]] size_t encode_comment_option(uint8_t* out, size_t cap, std::string_view text);

}  // namespace sgfw::capture
