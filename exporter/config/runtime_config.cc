// Flags over file, defaults and validation: the settings the exporter runs
// with.
#include "config/runtime_config.h"

#include <optional>
#include <utility>

#include "base/listen_address.h"

namespace nsexp {

namespace {

// The flag's value when given, else the file's, else the flag's default;
// *from names where the value came from, for messages.
std::string Pick(const std::string& flag_value, bool flag_set,
                 const std::optional<std::string>& file_value,
                 const char* flag_name, const char* file_key,
                 std::string* from) {
  if (flag_set || !file_value) {
    *from = flag_name;
    return flag_value;
  }
  *from = file_key;
  return *file_value;
}

}  // namespace

Status MergeRuntimeConfig(const Config& flags, const FileConfig& file,
                          RuntimeConfig* out) {
  RuntimeConfig c;
  std::string from;
  c.listen_address =
      Pick(flags.listen_address, flags.listen_address_set, file.listen_address,
           "--web.listen-address", "web.listen_address", &from);
  ListenAddress address;
  Status s = ParseListenAddress(c.listen_address, &address);
  if (!s.ok()) return Status::InvalidArgument(from + ": " + s.message());
  c.telemetry_path =
      Pick(flags.telemetry_path, flags.telemetry_path_set, file.telemetry_path,
           "--web.telemetry-path", "web.telemetry_path", &from);
  s = CheckTelemetryPath(c.telemetry_path);
  if (!s.ok()) return Status::InvalidArgument(from + ": " + s.message());
  const std::string level =
      Pick(flags.log_level, flags.log_level_set, file.log_level, "--log.level",
           "log.level", &from);
  const std::optional<LogLevel> log_level = ParseLogLevel(level);
  if (!log_level) {
    return Status::InvalidArgument(from + ": found \"" + level +
                                   "\", want debug, info, warn or error");
  }
  c.log_level = *log_level;
  const std::string format =
      Pick(flags.log_format, flags.log_format_set, file.log_format,
           "--log.format", "log.format", &from);
  const std::optional<LogFormat> log_format = ParseLogFormat(format);
  if (!log_format) {
    return Status::InvalidArgument(from + ": found \"" + format +
                                   "\", want logfmt or json");
  }
  c.log_format = *log_format;
  if (file.types.empty()) {
    return Status::InvalidArgument("collection.types: name at least one type");
  }
  static_cast<CollectionSettings&>(c) = file;
  for (const std::string& re : file.exclude_commands) {
    try {
      c.exclude_commands.emplace_back(re, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status::InvalidArgument(
          "filters.exclude_commands: invalid regular expression \"" + re +
          "\": " + e.what());
    }
  }
  *out = std::move(c);
  return Status::Ok();
}

Status BuildRuntimeConfig(const Config& flags, RuntimeConfig* out) {
  FileConfig file;
  if (!flags.config_file.empty()) {
    Status s = LoadConfigFile(flags.config_file, &file);
    if (!s.ok()) return s;
  }
  return MergeRuntimeConfig(flags, file, out);
}

}  // namespace nsexp
