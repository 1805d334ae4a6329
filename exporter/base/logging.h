// Structured logging to stderr in logfmt or JSON.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace nsexp {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };
enum class LogFormat { kLogfmt, kJson };

// "debug" | "info" | "warn" | "error" -> level; nullopt otherwise.
std::optional<LogLevel> ParseLogLevel(std::string_view name);
// "logfmt" | "json" -> format; nullopt otherwise.
std::optional<LogFormat> ParseLogFormat(std::string_view name);

// Sets the process-wide minimum level and format. Thread-safe.
void SetLogOptions(LogLevel level, LogFormat format);
// True when a message at "level" would be written. Thread-safe.
bool LogEnabled(LogLevel level);

using LogField = std::pair<std::string_view, std::string>;

// Writes one line: ts, level, msg, then the fields in order. Values are
// escaped for the format (quotes, control bytes; invalid UTF-8 replaced).
// Thread-safe: lines never interleave.
void Log(LogLevel level, std::string_view msg,
         std::initializer_list<LogField> fields = {});

// Formats one line without writing it; "ts" is given. Pure; for tests.
std::string FormatLogLine(LogFormat format, std::string_view ts, LogLevel level,
                          std::string_view msg,
                          std::initializer_list<LogField> fields);

}  // namespace nsexp
