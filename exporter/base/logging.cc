// Logging: one mutex-guarded write per line to stderr.
#include "base/logging.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "base/utf8.h"

namespace nsexp {

namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kLogfmt)};
std::mutex g_write_mu;

constexpr std::size_t kMaxValueBytes = 4096;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Escapes for a double-quoted logfmt or JSON string (same rules suffice:
// backslash, quote, and control characters).
void AppendQuoted(std::string* out, std::string_view raw) {
  const std::string value =
      SanitizeUtf8(raw, kMaxValueBytes, Controls::kReplaceButTab);
  out->push_back('"');
  for (char c : value) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('"');
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '"' || c == '=' || c == '\\' || u >= 0x7F) {
      return true;
    }
  }
  return false;
}

void AppendLogfmtPair(std::string* out, std::string_view key,
                      std::string_view value) {
  if (!out->empty()) out->push_back(' ');
  out->append(key);
  out->push_back('=');
  if (NeedsQuotes(value)) {
    AppendQuoted(out, value);
  } else {
    out->append(value);
  }
}

std::string NowTimestamp() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char buf[40];
  const std::size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &utc);
  char out[64];
  std::snprintf(out, sizeof(out), "%.*s.%03ldZ", static_cast<int>(n), buf,
                ts.tv_nsec / 1000000);
  return out;
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "logfmt") return LogFormat::kLogfmt;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

void SetLogOptions(LogLevel level, LogFormat format) {
  g_level.store(static_cast<int>(level));
  g_format.store(static_cast<int>(format));
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load();
}

std::string FormatLogLine(LogFormat format, std::string_view ts, LogLevel level,
                          std::string_view msg,
                          std::initializer_list<LogField> fields) {
  std::string line;
  if (format == LogFormat::kJson) {
    line.push_back('{');
    AppendQuoted(&line, "ts");
    line.push_back(':');
    AppendQuoted(&line, ts);
    auto pair = [&line](std::string_view k, std::string_view v) {
      line.push_back(',');
      AppendQuoted(&line, k);
      line.push_back(':');
      AppendQuoted(&line, v);
    };
    pair("level", LevelName(level));
    pair("msg", msg);
    for (const auto& f : fields) pair(f.first, f.second);
    line.push_back('}');
  } else {
    AppendLogfmtPair(&line, "ts", ts);
    AppendLogfmtPair(&line, "level", LevelName(level));
    AppendLogfmtPair(&line, "msg", msg);
    for (const auto& f : fields) AppendLogfmtPair(&line, f.first, f.second);
  }
  line.push_back('\n');
  return line;
}

void Log(LogLevel level, std::string_view msg,
         std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  const std::string line =
      FormatLogLine(static_cast<LogFormat>(g_format.load()), NowTimestamp(),
                    level, msg, fields);
  std::lock_guard<std::mutex> lock(g_write_mu);
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n =
        ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace nsexp
