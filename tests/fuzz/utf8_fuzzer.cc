// Fuzz target: SanitizeUtf8, which makes the commands and names of any
// process safe as label values, tree text and log values. Its output must
// always be valid UTF-8 (as the exposition format and promtool require),
// free of control characters, within the byte limit, and a fixed point.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "fuzz_check.h"

namespace {

// True when "s" is valid UTF-8 (RFC 3629: shortest form, no surrogates,
// nothing above U+10FFFF) holding no C0 control or DEL, a tab excepted
// when "tab_ok". Written apart from SanitizeUtf8 on purpose.
bool IsCleanUtf8(std::string_view s, bool tab_ok) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if ((b < 0x20 && !(tab_ok && b == '\t')) || b == 0x7F) return false;
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
      cp = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      cp = b & 0x0Fu;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      cp = b & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    if (cp > 0x10FFFF) return false;
    i += len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  // The first two bytes choose the limit (0-1023 bytes), the rest is the
  // text.
  if (size < 2) return 0;
  const std::size_t max_bytes = (std::size_t{data[0]} << 8 | data[1]) % 1024;
  const std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);
  for (const nsexp::Controls c :
       {nsexp::Controls::kReplace, nsexp::Controls::kReplaceButTab}) {
    const std::string out = nsexp::SanitizeUtf8(in, max_bytes, c);
    FUZZ_CHECK(out.size() <= max_bytes);
    FUZZ_CHECK(IsCleanUtf8(out, c == nsexp::Controls::kReplaceButTab));
    FUZZ_CHECK(nsexp::SanitizeUtf8(out, max_bytes, c) == out);
  }
  return 0;
}
