// RuntimeConfig: the settings the exporter runs with, built from the flags
// and the configuration file in one place.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "base/logging.h"
#include "base/namespace_type.h"
#include "base/status.h"
#include "config/config.h"
#include "config/config_file.h"

namespace nsexp {

// Every setting, validated: what the server, the collector and the logger
// take. The collection settings are the file's (see CollectionSettings).
// Plain value; copyable.
struct RuntimeConfig : CollectionSettings {
  std::string listen_address = ":19101";    // ParseListenAddress() accepts it
  std::string telemetry_path = "/metrics";  // CheckTelemetryPath() accepts it
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kLogfmt;
  // filters.exclude_commands compiled (ECMAScript; the caller matches them
  // against the whole command name).
  std::vector<std::regex> exclude_commands;
};

// Puts "file" and "flags" together into *out: each of --web.listen-address,
// --web.telemetry-path, --log.level and --log.format wins over the file when
// given on the command line; otherwise the file's value is used, and the
// flag's default where the file has none. Validates the result with the
// checks the server uses: kInvalidArgument naming the flag or key and the
// value otherwise. *out is untouched on error. Pure; thread-safe.
[[nodiscard]] Status MergeRuntimeConfig(const Config& flags,
                                        const FileConfig& file,
                                        RuntimeConfig* out);

// Loads flags.config_file (when set; see LoadConfigFile for its errors),
// then MergeRuntimeConfig(). The one way from flags and file to the settings
// the exporter runs with, at start-up, for --config.check and on reload.
// *out is untouched on error. Thread-safe.
[[nodiscard]] Status BuildRuntimeConfig(const Config& flags,
                                        RuntimeConfig* out);

}  // namespace nsexp
