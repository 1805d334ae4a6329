// Fuzz target: ParseWebConfig and CheckWebConfigSupported, the readers of
// --web.config.file (YAML, with bcrypt hashes, TLS settings and headers).
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/web_config.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Documented never to throw: an exception escaping here is a finding.
  nsexp::WebConfig config;
  nsexp::Status s = nsexp::ParseWebConfig(text, "web.yml", &config);
  if (!s.ok()) {
    FUZZ_CHECK(!s.message().empty());
    return 0;
  }
  s = nsexp::CheckWebConfigSupported(config, "web.yml");
  if (!s.ok()) FUZZ_CHECK(!s.message().empty());
  return 0;
}
