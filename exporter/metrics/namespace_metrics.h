// Turning a NamespaceGraph into the linux_namespace_* series, as text. Pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "ns/namespace_graph.h"

namespace nsexp {

// /proc/sys/user/max_<type>_namespaces by TypeIndex(); nullopt if unread.
using NamespaceLimits =
    std::array<std::optional<std::int64_t>, kNamespaceTypeCount>;

// Longest label value taken from the system (a comm is at most 15 bytes
// today, but paths and names will be longer).
inline constexpr std::size_t kMaxLabelValueBytes = 256;

// Makes an untrusted value safe as a label value: valid UTF-8 (bad bytes
// become U+FFFD), no control characters, at most kMaxLabelValueBytes.
std::string UntrustedLabelValue(std::string_view raw);

struct MetricsOptions {
  // Types to export; others are left out entirely.
  NamespaceTypeSet types = NamespaceTypeSet::All();
  // One series per namespace (info, processes, depth, children). Off leaves
  // only the per-type aggregates, for very large hosts.
  bool per_namespace_series = true;
  // Per-namespace series of these types are left out; aggregates still
  // count them.
  NamespaceTypeSet exclude_types;
  // Per-namespace series whose representative command fully matches one of
  // these are left out; aggregates still count them.
  std::vector<std::regex> exclude_commands;
};

// Appends linux_namespace_info, _processes, _depth, _children (one series
// per namespace), linux_namespace_holders (one per namespace and holder
// kind it has), linux_namespace_bind_mount_info (one per bind mount),
// linux_namespace_container_processes (one per namespace and container of
// its members, when the graph has cgroups; host processes make none),
// linux_namespaces and linux_namespace_limit (one per type),
// and linux_namespaces_by_depth (one per pid/user depth level) to *out in
// the text exposition format, straight from the graph: the /metrics
// writer, whose memory is the text alone (no MetricFamily values; about 4x
// faster than building families and serialising them with prometheus-cpp).
// Families without samples are left out. The unit tests check it against
// prometheus-cpp's TextSerializer. Pure; thread-safe.
void AppendNamespaceText(const NamespaceGraph& graph,
                         const NamespaceLimits& limits,
                         const MetricsOptions& options, std::string* out);

}  // namespace nsexp
