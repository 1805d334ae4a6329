// Fuzz target: ParseConfigYaml, the reader of --config.file (YAML, with
// durations, regular expressions and listen addresses inside).
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_file.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Documented never to throw: an exception escaping here is a finding.
  nsexp::FileConfig first;
  const nsexp::Status s = nsexp::ParseConfigYaml(text, "fuzz.yml", &first);
  // An error always says where and what.
  if (!s.ok()) FUZZ_CHECK(!s.message().empty());
  return 0;
}
