// Fuzz target: ParseNamespaceLink, the reader of /proc/PID/ns/* link
// targets ("net:[4026531993]").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "proc/proc_fs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto link = nsexp::ParseNamespaceLink(in);
  if (link) {
    // Whatever is accepted names its type first and is bracketed.
    const std::string prefix =
        std::string(nsexp::NamespaceTypeName(link->type)) + ":[";
    FUZZ_CHECK(in.substr(0, prefix.size()) == prefix);
    FUZZ_CHECK(in.back() == ']');
  }
  return 0;
}
