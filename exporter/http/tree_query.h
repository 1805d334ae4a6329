// The parameters of a /tree request, from its query string.
#pragma once

#include <string_view>

#include "base/namespace_type.h"
#include "base/status.h"

namespace nsexp {

// The renderings of /tree.
enum class TreeBodyFormat { kText, kJson, kHtml };

// What one /tree request asks for.
struct TreeQuery {
  NamespaceType type = NamespaceType::kPid;
  TreeBodyFormat format = TreeBodyFormat::kText;
  bool operator==(const TreeQuery& o) const {
    return type == o.type && format == o.format;
  }
};

// Parses the raw query string of a /tree request ("type=user&format=json",
// percent-encoded as the client sent it), split and decoded by CivetWeb's
// getParam; the first occurrence of a parameter counts. "type" is one of the
// eight kernel names (default pid); "format" is text, json or html (default
// html when "accept", the request's Accept header or empty, names
// text/html, as a browser's does; else text). kInvalidArgument, with the
// message the client is sent, for any other value. Pure; thread-safe.
[[nodiscard]] Status ParseTreeQuery(std::string_view query,
                                    std::string_view accept, TreeQuery* out);

}  // namespace nsexp
