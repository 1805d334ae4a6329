// Fuzz target: ParseProcessStat, the reader of /proc/PID/stat (whose comm
// field a process sets itself and may hold spaces and parentheses).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "proc/proc_fs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto stat = nsexp::ParseProcessStat(in);
  // A state is read after the comm's closing parenthesis.
  if (stat) FUZZ_CHECK(in.find(')') != std::string_view::npos);
  return 0;
}
