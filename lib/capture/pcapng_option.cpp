// The pcapng comment option (docs/capture.md, "File format").
#include "capture/pcapng_option.hpp"

#include <cstring>

namespace sgfw::capture {

size_t encode_comment_option(uint8_t* out, size_t cap, std::string_view text) {
  if (text.size() > kMaxCommentBytes) text = text.substr(0, kMaxCommentBytes);
  const size_t padded = (text.size() + 3) & ~size_t{3};
  const size_t total = 4 + padded + 4;
  if (cap < total) return 0;
  const uint16_t code = kOptComment, len = static_cast<uint16_t>(text.size());
  std::memcpy(out, &code, 2);
  std::memcpy(out + 2, &len, 2);
  std::memset(out + 4, 0, padded + 4);
  std::memcpy(out + 4, text.data(), text.size());
  return total;
}

}  // namespace sgfw::capture
