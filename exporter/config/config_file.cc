// YAML configuration: strict parsing with positions in every message.
#include "config/config_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <regex>
#include <string>
#include <utility>

#include "base/listen_address.h"
#include "base/logging.h"
#include "config/yaml_support.h"

namespace nsexp {

namespace {

[[noreturn]] void Fail(const YAML::Node& node, std::string message) {
  YamlFail(node.Mark(), std::move(message));
}

NamespaceTypeSet GetTypeSet(const YAML::Node& n, const std::string& what) {
  NamespaceTypeSet set;
  if (n.IsNull()) return set;
  if (!n.IsSequence()) {
    Fail(n, what + ": found " + YamlKindName(n) +
                ", want a list of namespace types");
  }
  for (const auto& item : n) {
    const std::string name = YamlString(item, what + "[]");
    const std::optional<NamespaceType> type = ParseNamespaceType(name);
    if (!type) {
      Fail(item, what + ": unknown namespace type \"" + name + "\"; want " +
                     NamespaceTypeNameList());
    }
    set.Add(*type);
  }
  return set;
}

void ParseWeb(const YAML::Node& n, FileConfig* c) {
  CheckYamlKeys(n, "web", {"listen_address", "telemetry_path"});
  // The server's own checks, so that --config.check accepts exactly what
  // the server will take.
  if (n["listen_address"]) {
    const std::string v = YamlString(n["listen_address"], "web.listen_address");
    ListenAddress parsed;
    const Status s = ParseListenAddress(v, &parsed);
    if (!s.ok())
      Fail(n["listen_address"], "web.listen_address: " + s.message());
    c->listen_address = v;
  }
  if (n["telemetry_path"]) {
    const std::string v = YamlString(n["telemetry_path"], "web.telemetry_path");
    const Status s = CheckTelemetryPath(v);
    if (!s.ok())
      Fail(n["telemetry_path"], "web.telemetry_path: " + s.message());
    c->telemetry_path = v;
  }
}

void ParseLog(const YAML::Node& n, FileConfig* c) {
  CheckYamlKeys(n, "log", {"level", "format"});
  if (n["level"]) {
    const std::string v = YamlString(n["level"], "log.level");
    if (!ParseLogLevel(v)) {
      Fail(n["level"],
           "log.level: found \"" + v + "\", want debug, info, warn or error");
    }
    c->log_level = v;
  }
  if (n["format"]) {
    const std::string v = YamlString(n["format"], "log.format");
    if (!ParseLogFormat(v)) {
      Fail(n["format"], "log.format: found \"" + v + "\", want logfmt or json");
    }
    c->log_format = v;
  }
}

void ParseCollection(const YAML::Node& n, FileConfig* c) {
  CheckYamlKeys(n, "collection",
                {"types", "min_interval", "exclude_kernel_threads",
                 "bind_mounts", "fds", "sockets", "for_children", "threads",
                 "containers", "workers", "verify_namespace_ids"});
  if (n["types"]) {
    c->types = GetTypeSet(n["types"], "collection.types");
    if (c->types.empty()) {
      Fail(n["types"], "collection.types: name at least one type");
    }
  }
  if (n["min_interval"]) {
    const std::string v =
        YamlString(n["min_interval"], "collection.min_interval");
    const auto d = ParseDuration(v);
    if (!d) {
      Fail(n["min_interval"], "collection.min_interval: found \"" + v +
                                  "\", want a duration such as 0s, 500ms, "
                                  "15s or 1m");
    }
    c->min_interval = *d;
  }
  const std::pair<const char*, bool*> switches[] = {
      {"bind_mounts", &c->bind_mounts},
      {"fds", &c->fds},
      {"sockets", &c->sockets},
      {"for_children", &c->for_children},
      {"threads", &c->threads},
      {"containers", &c->containers},
      {"verify_namespace_ids", &c->verify_namespace_ids},
  };
  for (const auto& [key, field] : switches) {
    if (n[key]) *field = YamlBool(n[key], std::string("collection.") + key);
  }
  if (n["workers"]) {
    const YAML::Node& w = n["workers"];
    const std::string v = YamlString(w, "collection.workers");
    const std::string want = "want a whole number from " +
                             std::to_string(kMinWorkers) + " to " +
                             std::to_string(kMaxWorkers);
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec != std::errc() || end != v.data() + v.size() ||
        value < kMinWorkers || value > kMaxWorkers) {
      Fail(w, "collection.workers: found \"" + v + "\", " + want);
    }
    c->workers = value;
  }
  if (n["exclude_kernel_threads"]) {
    c->exclude_kernel_threads = YamlBool(n["exclude_kernel_threads"],
                                         "collection.exclude_kernel_threads");
  }
}

void ParseMetrics(const YAML::Node& n, FileConfig* c) {
  CheckYamlKeys(n, "metrics", {"per_namespace_series"});
  if (n["per_namespace_series"]) {
    c->per_namespace_series =
        YamlBool(n["per_namespace_series"], "metrics.per_namespace_series");
  }
}

void ParseFilters(const YAML::Node& n, FileConfig* c) {
  CheckYamlKeys(n, "filters", {"exclude_types", "exclude_commands"});
  if (n["exclude_types"]) {
    c->exclude_types = GetTypeSet(n["exclude_types"], "filters.exclude_types");
  }
  if (n["exclude_commands"]) {
    const YAML::Node list = n["exclude_commands"];
    c->exclude_commands = YamlStringList(list, "filters.exclude_commands");
    std::size_t i = 0;
    for (const auto& item : list) {
      if (const auto why = CheckRegexNumbers(c->exclude_commands[i])) {
        Fail(item, "filters.exclude_commands: invalid regular expression \"" +
                       c->exclude_commands[i] + "\": " + *why);
      }
      try {
        std::regex re(c->exclude_commands[i], std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        Fail(item, "filters.exclude_commands: invalid regular expression \"" +
                       c->exclude_commands[i] + "\": " + e.what());
      }
      ++i;
    }
  }
}

}  // namespace

std::optional<std::string> CheckRegexNumbers(std::string_view pattern) {
  // Length of the run of decimal digits at "from".
  const auto digits = [pattern](std::size_t from) {
    std::size_t n = 0;
    while (from + n < pattern.size() &&
           std::isdigit(static_cast<unsigned char>(pattern[from + n])) != 0) {
      ++n;
    }
    return n;
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (digits(i + 1) > kMaxRegexNumberDigits) {
        return "a back-reference number longer than " +
               std::to_string(kMaxRegexNumberDigits) + " digits";
      }
      ++i;  // the escaped character is not an operator
    } else if (pattern[i] == '{') {
      std::size_t j = i + 1;
      std::size_t n = digits(j);
      if (n == 0) continue;  // a literal '{'
      j += n;
      if (j < pattern.size() && pattern[j] == ',')
        n = std::max(n, digits(j + 1));
      if (n > kMaxRegexNumberDigits) {
        return "a repeat count longer than " +
               std::to_string(kMaxRegexNumberDigits) + " digits";
      }
    }
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& s) {
  if (s == "0") return std::chrono::milliseconds(0);
  if (s.empty()) return std::nullopt;
  // Units in the order Prometheus allows them: y w d h m s ms.
  static const std::regex kRe(
      "^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?"
      "(([0-9]+)s)?(([0-9]+)ms)?$");
  std::smatch m;
  if (!std::regex_match(s, m, kRe)) return std::nullopt;
  static const long long kUnits[] = {365LL * 24 * 3600 * 1000,
                                     7LL * 24 * 3600 * 1000,
                                     24LL * 3600 * 1000,
                                     3600LL * 1000,
                                     60LL * 1000,
                                     1000LL,
                                     1LL};
  long long total = 0;
  bool any = false;
  for (std::size_t i = 0; i < 7; ++i) {
    const auto& g = m[2 + 2 * i];
    if (!g.matched) continue;
    any = true;
    if (g.length() > 9) return std::nullopt;  // overflow guard
    // As Prometheus, refuse what a signed 64-bit count of nanoseconds cannot
    // hold (about 292 years): steady_clock compares in nanoseconds.
    constexpr long long kMaxMs = 9223372036854LL;
    const long long v = std::stoll(g.str());
    if (v > (kMaxMs - total) / kUnits[i]) return std::nullopt;
    total += v * kUnits[i];
  }
  if (!any) return std::nullopt;
  return std::chrono::milliseconds(total);
}

Status ParseConfigYaml(const std::string& text, const std::string& name,
                       FileConfig* out) {
  FileConfig c;
  Status s = ParseYamlDocument(text, name, [&c](const YAML::Node& root) {
    CheckYamlKeys(root, "top level",
                  {"web", "log", "collection", "metrics", "filters"});
    if (root.IsNull()) return;
    if (root["web"]) ParseWeb(root["web"], &c);
    if (root["log"]) ParseLog(root["log"], &c);
    if (root["collection"]) ParseCollection(root["collection"], &c);
    if (root["metrics"]) ParseMetrics(root["metrics"], &c);
    if (root["filters"]) ParseFilters(root["filters"], &c);
  });
  if (!s.ok()) return s;
  *out = std::move(c);
  return Status::Ok();
}

Status LoadConfigFile(const std::string& path, FileConfig* out) {
  std::string text;
  Status s = ReadYamlFile("--config.file", path, &text);
  if (!s.ok()) return s;
  return ParseConfigYaml(text, path, out);
}

}  // namespace nsexp
