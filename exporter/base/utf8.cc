// UTF-8 validation with U+FFFD replacement (RFC 3629 well-formed sequences).
#include "base/utf8.h"

#include <cstdint>

namespace nsexp {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at in[i], or 0 if it is not valid.
std::size_t ValidSequenceLength(std::string_view in, std::size_t i) {
  const auto b0 = static_cast<std::uint8_t>(in[i]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  std::uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 == 0xE0) {
    len = 3;
    lo = 0xA0;
    // One branch per row of RFC 3629's table, equal bodies or not.
    // NOLINTNEXTLINE(bugprone-branch-clone)
  } else if (b0 >= 0xE1 && b0 <= 0xEC) {
    len = 3;
  } else if (b0 == 0xED) {
    len = 3;
    hi = 0x9F;  // excludes UTF-16 surrogates
  } else if (b0 >= 0xEE && b0 <= 0xEF) {
    len = 3;
  } else if (b0 == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    len = 4;
  } else if (b0 == 0xF4) {
    len = 4;
    hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > in.size()) return 0;
  const auto b1 = static_cast<std::uint8_t>(in[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    const auto b = static_cast<std::uint8_t>(in[i + k]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

}  // namespace

std::string SanitizeUtf8(std::string_view in, std::size_t max_bytes,
                         Controls controls) {
  const bool keep_tab = controls == Controls::kReplaceButTab;
  std::string out;
  out.reserve(in.size() < max_bytes ? in.size() : max_bytes);
  std::size_t i = 0;
  while (i < in.size()) {
    std::size_t len = ValidSequenceLength(in, i);
    std::string_view piece;
    if (len == 0) {
      piece = kReplacement;
      len = 1;
    } else if (len == 1 &&
               (static_cast<std::uint8_t>(in[i]) < 0x20 || in[i] == 0x7F) &&
               !(keep_tab && in[i] == '\t')) {
      piece = kReplacement;
    } else {
      piece = in.substr(i, len);
    }
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    i += len;
  }
  return out;
}

}  // namespace nsexp
