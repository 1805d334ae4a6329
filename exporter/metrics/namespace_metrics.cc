// The linux_namespace_* families, as DESIGN.md names them.
#include "metrics/namespace_metrics.h"

#include <map>
#include <utility>

#include "base/utf8.h"

namespace nsexp {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric Gauge(std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

std::string OptionalNumber(const std::optional<std::uint64_t>& v) {
  return v ? std::to_string(*v) : std::string();
}

}  // namespace

std::string UntrustedLabelValue(std::string_view raw) {
  return SanitizeUtf8(raw, kMaxLabelValueBytes);
}

std::vector<MetricFamily> BuildNamespaceFamilies(
    const NamespaceGraph& graph, const NamespaceLimits& limits,
    const MetricsOptions& options) {
  MetricFamily info = Family(
      "linux_namespace_info",
      "Namespace attributes from the nsfs ioctls; value is always 1. pid and "
      "command name the lowest member process.",
      MetricType::Gauge);
  MetricFamily processes = Family(
      "linux_namespace_processes",
      "Processes (thread groups) whose /proc/PID/ns/<type> is this namespace.",
      MetricType::Gauge);
  MetricFamily depth = Family(
      "linux_namespace_depth",
      "Nesting level of a pid or user namespace, 0 for the topmost visible.",
      MetricType::Gauge);
  MetricFamily children = Family(
      "linux_namespace_children",
      "Direct child namespaces of a pid or user namespace.", MetricType::Gauge);
  info.metric.reserve(graph.namespaces.size());
  processes.metric.reserve(graph.namespaces.size());

  // Namespaces per depth level, for pid and user: always exported, since
  // its cardinality is bounded by the kernel's 32-level nesting limit.
  std::map<std::pair<NamespaceType, std::uint32_t>, std::uint64_t> by_depth;
  for (const NamespaceInfo& n : graph.namespaces) {
    if (!options.types[TypeIndex(n.type)]) continue;
    if (IsHierarchical(n.type)) ++by_depth[{n.type, n.depth}];
    if (!options.per_namespace_series) continue;
    if (options.exclude_types[TypeIndex(n.type)]) continue;
    if (!options.exclude_commands.empty() && n.pid > 0) {
      bool excluded = false;
      for (const std::regex& re : options.exclude_commands) {
        if (std::regex_match(n.command, re)) {
          excluded = true;
          break;
        }
      }
      if (excluded) continue;
    }
    const std::string type(NamespaceTypeName(n.type));
    const std::string inode = std::to_string(n.inode);
    info.metric.push_back(
        Gauge({{"type", type},
               {"inode", inode},
               {"ns_id", OptionalNumber(n.ns_id)},
               {"parent_inode", OptionalNumber(n.parent_inode)},
               {"owner_inode", OptionalNumber(n.owner_inode)},
               {"owner_uid", n.owner_uid ? std::to_string(*n.owner_uid) : ""},
               {"pid", n.pid > 0 ? std::to_string(n.pid) : ""},
               {"command", UntrustedLabelValue(n.command)}},
              1));
    processes.metric.push_back(
        Gauge({{"type", type}, {"inode", inode}}, n.processes));
    if (IsHierarchical(n.type)) {
      depth.metric.push_back(
          Gauge({{"type", type}, {"inode", inode}}, n.depth));
      children.metric.push_back(
          Gauge({{"type", type}, {"inode", inode}}, n.children));
    }
  }

  MetricFamily counts = Family(
      "linux_namespaces", "Namespaces of each type found.", MetricType::Gauge);
  MetricFamily limit = Family("linux_namespace_limit",
                              "Per-user limit on namespaces of each type, from "
                              "/proc/sys/user/max_<type>_namespaces.",
                              MetricType::Gauge);
  for (NamespaceType t : kAllNamespaceTypes) {
    if (!options.types[TypeIndex(t)]) continue;
    const std::string type(NamespaceTypeName(t));
    counts.metric.push_back(
        Gauge({{"type", type}},
              static_cast<double>(graph.count_by_type[TypeIndex(t)])));
    if (limits[TypeIndex(t)]) {
      limit.metric.push_back(
          Gauge({{"type", type}}, static_cast<double>(*limits[TypeIndex(t)])));
    }
  }

  MetricFamily depth_counts = Family(
      "linux_namespaces_by_depth",
      "Pid and user namespaces at each nesting level (0 = topmost visible).",
      MetricType::Gauge);
  for (const auto& [key, count] : by_depth) {
    depth_counts.metric.push_back(
        Gauge({{"type", std::string(NamespaceTypeName(key.first))},
               {"depth", std::to_string(key.second)}},
              static_cast<double>(count)));
  }

  std::vector<MetricFamily> out;
  out.reserve(7);
  out.push_back(std::move(info));
  out.push_back(std::move(processes));
  out.push_back(std::move(depth));
  out.push_back(std::move(children));
  out.push_back(std::move(counts));
  out.push_back(std::move(limit));
  out.push_back(std::move(depth_counts));
  return out;
}

}  // namespace nsexp
