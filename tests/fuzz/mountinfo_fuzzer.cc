// Fuzz target: ParseNsfsMounts, the reader of /proc/PID/mountinfo, whose
// mount points anyone who can mount chooses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "proc/proc_fs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const nsexp::NsfsMount& m : nsexp::ParseNsfsMounts(in)) {
    // Unescaping (\040 -> ' ') only shortens a mount point.
    FUZZ_CHECK(m.mount_point.size() <= size);
  }
  return 0;
}
