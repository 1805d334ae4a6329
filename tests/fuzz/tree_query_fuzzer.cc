// Fuzz target: ParseTreeQuery, the reader of /tree's query string (any
// client chooses it; CivetWeb's getParam splits and percent-decodes it)
// and of the Accept header. The input is "<query>\n<accept>".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/namespace_type.h"
#include "fuzz_check.h"
#include "http/tree_query.h"

namespace {

std::string_view FormatName(nsexp::TreeBodyFormat f) {
  switch (f) {
    case nsexp::TreeBodyFormat::kText:
      return "text";
    case nsexp::TreeBodyFormat::kJson:
      return "json";
    case nsexp::TreeBodyFormat::kHtml:
      return "html";
  }
  return "";
}

// Whether "name=" starts a parameter of "query" (at its start or after
// '&'), compared without case as CivetWeb does.
bool HasParam(std::string_view query, std::string_view name) {
  for (std::size_t i = 0; i + name.size() < query.size(); ++i) {
    if (i > 0 && query[i - 1] != '&') continue;
    if (query[i + name.size()] != '=') continue;
    bool same = true;
    for (std::size_t k = 0; k < name.size() && same; ++k) {
      const char c = query[i + k];
      same = (c | 0x20) == name[k];
    }
    if (same) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  const std::string_view query = in.substr(0, nl);
  const std::string_view accept =
      nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  nsexp::TreeQuery q;
  const nsexp::Status s = nsexp::ParseTreeQuery(query, accept, &q);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == nsexp::Status::Code::kInvalidArgument);
    FUZZ_CHECK(!s.message().empty());
    // Only a parameter that is there can be wrong.
    FUZZ_CHECK(HasParam(query, "type") || HasParam(query, "format"));
    return 0;
  }
  const bool html_accept = accept.find("text/html") != std::string_view::npos;
  // Anything but the defaults came from a parameter.
  if (q.type != nsexp::NamespaceType::kPid) {
    FUZZ_CHECK(HasParam(query, "type"));
  }
  if (!HasParam(query, "format")) {
    FUZZ_CHECK(q.format == (html_accept ? nsexp::TreeBodyFormat::kHtml
                                        : nsexp::TreeBodyFormat::kText));
  }
  // The canonical query of what was understood means the same, and the
  // first occurrence of a parameter counts.
  const std::string canonical =
      "type=" + std::string(nsexp::NamespaceTypeName(q.type)) +
      "&format=" + std::string(FormatName(q.format));
  nsexp::TreeQuery again;
  FUZZ_CHECK(nsexp::ParseTreeQuery(canonical, "", &again).ok() && again == q);
  FUZZ_CHECK(nsexp::ParseTreeQuery(canonical + "&" + std::string(query), accept,
                                   &again)
                 .ok() &&
             again == q);
  return 0;
}
