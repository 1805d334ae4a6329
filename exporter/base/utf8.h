// Making untrusted bytes safe to print or export.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nsexp {

// Returns "in" as valid UTF-8: every byte that does not start a valid,
// shortest-form sequence (and every encoded surrogate) becomes U+FFFD.
// Control characters other than tab are also replaced with U+FFFD. The
// result is cut to at most "max_bytes" bytes on a character boundary.
// Pure; thread-safe.
std::string SanitizeUtf8(std::string_view in, std::size_t max_bytes);

}  // namespace nsexp
