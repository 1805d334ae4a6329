// Making untrusted bytes safe to print or export.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nsexp {

// What SanitizeUtf8 does with the C0 control characters and DEL.
enum class Controls {
  kReplace,        // every one becomes U+FFFD (names shown to people: labels,
                   // the tree view), so that all renderings agree
  kReplaceButTab,  // tab is kept for the caller to escape (log values)
};

// Returns "in" as valid UTF-8: every byte that does not start a valid,
// shortest-form sequence (and every encoded surrogate) becomes U+FFFD.
// Control characters (U+0000-U+001F and U+007F) are also replaced with
// U+FFFD, tab included unless "controls" keeps it. The result is cut to at
// most "max_bytes" bytes on a character boundary. Pure; thread-safe.
std::string SanitizeUtf8(std::string_view in, std::size_t max_bytes,
                         Controls controls = Controls::kReplace);

}  // namespace nsexp
