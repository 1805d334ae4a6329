// Fuzz target: ParseProcessStatus, the reader of /proc/PID/status (whose
// Name: field a process sets itself).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "proc/proc_fs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  nsexp::ProcessStatus st;
  const nsexp::Status s = nsexp::ParseProcessStatus(in, &st);
  // The name is a substring of the input: never longer.
  if (s.ok()) FUZZ_CHECK(st.name.size() <= size);
  return 0;
}
