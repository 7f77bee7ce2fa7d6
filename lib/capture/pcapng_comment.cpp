// The drop reason as an EPB comment (docs/capture.md, "File format").
#include "capture/pcapng_comment.hpp"

#include <cstring>

namespace sgfw::capture {

namespace {

constexpr uint32_t kEpbType = 6;
constexpr size_t kEpbHeader = 28;  // type, length, interface, timestamp (2), captured, original

}  // namespace

bool add_epb_comment(rte_mbuf* m, std::string_view text) {
  if (m->nb_segs != 1 || rte_pktmbuf_data_len(m) < kEpbHeader + 4) return false;
  uint8_t* base = rte_pktmbuf_mtod(m, uint8_t*);
  uint32_t type, len;
  std::memcpy(&type, base, 4);
  std::memcpy(&len, base + 4, 4);
  if (type != kEpbType || len != rte_pktmbuf_data_len(m)) return false;
  uint8_t opt[kCommentRoom];
  const size_t n = encode_comment_option(opt, sizeof(opt), text);
  if (n == 0 || rte_pktmbuf_tailroom(m) < n) return false;
  uint8_t* tail = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(n)));
  if (tail == nullptr) return false;
  uint8_t* trailer = tail - 4;  // the old trailing block length moves to the new end
  std::memcpy(trailer, opt, n);
  const uint32_t new_len = len + static_cast<uint32_t>(n);
  std::memcpy(base + 4, &new_len, 4);
  std::memcpy(trailer + n, &new_len, 4);
  return true;
}

}  // namespace sgfw::capture
