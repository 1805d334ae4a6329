// FileConfig: the YAML configuration file (--config.file), parsed and
// validated.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/namespace_type.h"
#include "base/status.h"

namespace nsexp {

// The bounds of collection.workers.
inline constexpr unsigned kMinWorkers = 1;
inline constexpr unsigned kMaxWorkers = 64;

// The settings of collection, metrics and filters that the file holds and
// the exporter runs with as they are, with their defaults (those of an
// exporter run without a file). Plain value; copyable.
struct CollectionSettings {
  // collection:
  // Types to walk. All by default; never empty after a successful parse.
  NamespaceTypeSet types = NamespaceTypeSet::All();
  // Scrapes closer together than this share one collection. 0: every scrape
  // collects.
  std::chrono::milliseconds min_interval{0};
  // Leave kernel threads out of process counts (costs one read of
  // /proc/PID/stat per process).
  bool exclude_kernel_threads = false;
  // The holders besides member processes (see docs/performance.md for
  // their cost): bind mounts of nsfs files (ip netns add) in every mount
  // namespace; open nsfs fds; sockets in a net namespace other than their
  // process's (needs CAP_NET_ADMIN, kept at start only when this is on);
  // pid_for_children and time_for_children; threads in namespaces of their
  // own.
  bool bind_mounts = true;
  bool fds = false;
  bool sockets = false;
  bool for_children = false;
  bool threads = false;
  // Read /proc/PID/cgroup of every process to attribute member processes
  // to containers and pods (linux_namespace_container_processes).
  bool containers = true;
  // Threads that share the process walk, kMinWorkers..kMaxWorkers. Raise
  // it when the walk's wall time matters more than its CPU time and cores
  // are free (see README and docs/performance.md).
  unsigned workers = 1;
  // Re-check every cached namespace on every collection (open + NS_GET_ID)
  // instead of trusting a member process that stayed in it (see
  // DiscoveryOptions::verify_namespace_ids and docs/performance.md).
  bool verify_namespace_ids = false;
  // metrics:
  // Export one series per namespace; off leaves the aggregates only.
  bool per_namespace_series = true;
  // filters: drop per-namespace series of these types (aggregates still
  // count them).
  NamespaceTypeSet exclude_types;
};

// Every setting the file can hold: the web and log settings, which flags
// can override (absent when the file does not set them), and the
// collection settings. Plain value; copyable.
struct FileConfig : CollectionSettings {
  // web:
  std::optional<std::string> listen_address;
  std::optional<std::string> telemetry_path;
  // log:
  std::optional<std::string> log_level;
  std::optional<std::string> log_format;
  // filters: drop per-namespace series whose command fully matches one of
  // these (anchored ECMAScript regexes, checked by the parser).
  std::vector<std::string> exclude_commands;
};

// Parses YAML text with the rules of config/yaml_support.h (the same as the
// web configuration file's); "name" is the file name used in messages.
// Errors are kInvalidArgument with "name:line:column: where: found X, want
// Y" (1-based line and column): YAML syntax, unknown or duplicate keys,
// wrong types, bad durations, bad regular expressions, unknown namespace
// types, bad log level or format, a listen address or telemetry path the
// server would refuse (ParseListenAddress, CheckTelemetryPath). An empty
// file is valid (all defaults). *out is untouched on error. Never throws.
// Thread-safe.
[[nodiscard]] Status ParseConfigYaml(const std::string& text,
                                     const std::string& name, FileConfig* out);

// Reads and parses a file. kNotFound / kPermissionDenied / kIoError when it
// cannot be read and kInvalidArgument for a directory, with "--config.file
// PATH" in the message.
[[nodiscard]] Status LoadConfigFile(const std::string& path, FileConfig* out);

// The most digits a back-reference ("\\12") or a repeat count ("{2,15}") of
// an exclude_commands expression may have.
inline constexpr std::size_t kMaxRegexNumberDigits = 9;

// Why "pattern" (ECMAScript) must not reach std::regex, or nullopt:
// libstdc++'s regex compiler (GCC 12) reads the number of a back-reference
// or of a repeat count into a long without an overflow check (undefined
// behaviour, found by fuzzing), so numbers longer than
// kMaxRegexNumberDigits are refused first. Pure.
std::optional<std::string> CheckRegexNumbers(std::string_view pattern);

// Parses a Prometheus-style duration: "0", "500ms", "15s", "1m", "1h30m".
// nullopt for anything else (including negative values). Pure.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& s);

}  // namespace nsexp
