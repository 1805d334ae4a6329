// Fuzz target: DecodeBase64, which decodes the client's
// "Authorization: Basic ..." header before any password is checked.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/basic_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out;
  if (nsexp::DecodeBase64(in, &out)) {
    // Four characters carry at most three bytes.
    FUZZ_CHECK(in.size() % 4 == 0);
    FUZZ_CHECK(out.size() <= in.size() / 4 * 3);
  }
  return 0;
}
