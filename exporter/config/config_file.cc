// YAML configuration: strict parsing with positions in every message.
#include "config/config_file.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/yaml_support.h"

namespace nsexp {

namespace {

constexpr std::array<const char*, 8> kTypeNames = {
    "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};

// Thrown inside this file only, and caught by ParseConfigYaml.
struct ConfigError {
  YAML::Mark mark;
  std::string message;
};

[[noreturn]] void Fail(const YAML::Node& node, std::string message) {
  throw ConfigError{node.Mark(), std::move(message)};
}

void RequireMap(const YAML::Node& n, const std::string& what) {
  if (!n.IsMap())
    Fail(n, what + ": expected a mapping, got " + YamlKindName(n));
}

// Rejects keys not in "allowed", as exporter-toolkit's strict unmarshalling
// does: a typo must not silently become a default.
void CheckKeys(const YAML::Node& map, const std::string& section,
               const std::set<std::string>& allowed) {
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) Fail(kv.first, "keys must be strings");
    const std::string key = kv.first.Scalar();
    if (allowed.count(key) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      Fail(kv.first, "unknown key \"" + key + "\" in " + section +
                         "; expected one of: " + list);
    }
  }
}

std::string GetString(const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar())
    Fail(n, what + ": expected a string, got " + YamlKindName(n));
  return n.Scalar();
}

bool GetBool(const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) Fail(n, what + ": expected true or false");
  const std::string& v = n.Scalar();
  if (v == "true" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "False" || v == "FALSE") return false;
  Fail(n, what + ": expected true or false, got \"" + v + "\"");
}

std::vector<std::string> GetStringList(const YAML::Node& n,
                                       const std::string& what) {
  if (n.IsNull()) return {};
  if (!n.IsSequence()) {
    Fail(n, what + ": expected a list, got " + YamlKindName(n));
  }
  std::vector<std::string> out;
  for (const auto& item : n) out.push_back(GetString(item, what + " item"));
  return out;
}

std::array<bool, 8> GetTypeSet(const YAML::Node& n, const std::string& what) {
  std::array<bool, 8> set{};
  if (n.IsNull()) return set;
  if (!n.IsSequence()) Fail(n, what + ": expected a list of namespace types");
  for (const auto& item : n) {
    const std::string name = GetString(item, what + " item");
    bool found = false;
    for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
      if (name == kTypeNames[i]) {
        set[i] = true;
        found = true;
      }
    }
    if (!found) {
      Fail(item, what + ": unknown namespace type \"" + name +
                     "\"; expected cgroup, ipc, mnt, net, pid, time, user "
                     "or uts");
    }
  }
  return set;
}

void ParseWeb(const YAML::Node& n, FileConfig* c) {
  RequireMap(n, "web");
  CheckKeys(n, "web", {"listen_address", "telemetry_path"});
  if (n["listen_address"]) {
    const std::string v = GetString(n["listen_address"], "web.listen_address");
    if (v.rfind(':') == std::string::npos) {
      Fail(n["listen_address"],
           "web.listen_address: expected [host]:port, got \"" + v + "\"");
    }
    c->listen_address = v;
  }
  if (n["telemetry_path"]) {
    const std::string v = GetString(n["telemetry_path"], "web.telemetry_path");
    if (v.empty() || v[0] != '/') {
      Fail(n["telemetry_path"],
           "web.telemetry_path: expected a path starting with '/'");
    }
    c->telemetry_path = v;
  }
}

void ParseLog(const YAML::Node& n, FileConfig* c) {
  RequireMap(n, "log");
  CheckKeys(n, "log", {"level", "format"});
  if (n["level"]) {
    const std::string v = GetString(n["level"], "log.level");
    if (v != "debug" && v != "info" && v != "warn" && v != "error") {
      Fail(n["level"],
           "log.level: expected debug, info, warn or error, got \"" + v + "\"");
    }
    c->log_level = v;
  }
  if (n["format"]) {
    const std::string v = GetString(n["format"], "log.format");
    if (v != "logfmt" && v != "json") {
      Fail(n["format"],
           "log.format: expected logfmt or json, got \"" + v + "\"");
    }
    c->log_format = v;
  }
}

void ParseCollection(const YAML::Node& n, FileConfig* c) {
  RequireMap(n, "collection");
  CheckKeys(n, "collection",
            {"types", "min_interval", "exclude_kernel_threads", "bind_mounts"});
  if (n["types"]) {
    c->types = GetTypeSet(n["types"], "collection.types");
    bool any = false;
    for (bool b : c->types) any = any || b;
    if (!any) Fail(n["types"], "collection.types: name at least one type");
  }
  if (n["min_interval"]) {
    const std::string v =
        GetString(n["min_interval"], "collection.min_interval");
    const auto d = ParseDuration(v);
    if (!d) {
      Fail(n["min_interval"],
           "collection.min_interval: expected a duration such as 0s, 500ms, "
           "15s or 1m, got \"" +
               v + "\"");
    }
    c->min_interval = *d;
  }
  if (n["bind_mounts"]) {
    c->bind_mounts = GetBool(n["bind_mounts"], "collection.bind_mounts");
  }
  if (n["exclude_kernel_threads"]) {
    c->exclude_kernel_threads = GetBool(n["exclude_kernel_threads"],
                                        "collection.exclude_kernel_threads");
  }
}

void ParseMetrics(const YAML::Node& n, FileConfig* c) {
  RequireMap(n, "metrics");
  CheckKeys(n, "metrics", {"per_namespace_series"});
  if (n["per_namespace_series"]) {
    c->per_namespace_series =
        GetBool(n["per_namespace_series"], "metrics.per_namespace_series");
  }
}

void ParseFilters(const YAML::Node& n, FileConfig* c) {
  RequireMap(n, "filters");
  CheckKeys(n, "filters", {"exclude_types", "exclude_commands"});
  if (n["exclude_types"]) {
    c->exclude_types = GetTypeSet(n["exclude_types"], "filters.exclude_types");
  }
  if (n["exclude_commands"]) {
    const YAML::Node list = n["exclude_commands"];
    c->exclude_commands = GetStringList(list, "filters.exclude_commands");
    std::size_t i = 0;
    for (const auto& item : list) {
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
  for (int i = 0; i < 7; ++i) {
    const auto& g = m[static_cast<std::size_t>(2 + 2 * i)];
    if (!g.matched) continue;
    any = true;
    if (g.length() > 9) return std::nullopt;  // overflow guard
    // As Prometheus, refuse what a signed 64-bit count of nanoseconds cannot
    // hold (about 292 years): steady_clock compares in nanoseconds.
    const long long kMaxMs = 9223372036854LL;
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
  try {
    const YAML::Node root = YAML::Load(text);
    if (root.IsNull()) {
      *out = c;
      return Status::Ok();
    }
    RequireMap(root, "the top level");
    CheckKeys(root, "the top level",
              {"web", "log", "collection", "metrics", "filters"});
    if (root["web"]) ParseWeb(root["web"], &c);
    if (root["log"]) ParseLog(root["log"], &c);
    if (root["collection"]) ParseCollection(root["collection"], &c);
    if (root["metrics"]) ParseMetrics(root["metrics"], &c);
    if (root["filters"]) ParseFilters(root["filters"], &c);
  } catch (const ConfigError& e) {
    return Status::InvalidArgument(YamlPosition(name, e.mark) + ": " +
                                   e.message);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(YamlPosition(name, e.mark) +
                                   ": YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(name + ": " + e.what());
  }
  *out = std::move(c);
  return Status::Ok();
}

Status LoadConfigFile(const std::string& path, FileConfig* out) {
  // An ifstream opens a directory and then reads nothing, which would pass
  // for an empty (valid) file.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return StatusFromErrno(EISDIR, "cannot read config file " + path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return StatusFromErrno(errno, "cannot read config file " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    return StatusFromErrno(errno, "cannot read config file " + path);
  return ParseConfigYaml(buf.str(), path, out);
}

}  // namespace nsexp
