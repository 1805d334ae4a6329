// The linux_namespace_* families, as DESIGN.md names them.
#include "metrics/namespace_metrics.h"

#include <charconv>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "base/utf8.h"
#include "metrics/text_format.h"
#include "proc/proc_fs.h"
#include "workload/workload.h"

namespace nsexp {

std::string UntrustedLabelValue(std::string_view raw) {
  return SanitizeUtf8(raw, kMaxLabelValueBytes);
}

namespace {

struct FamilySpec {
  const char* name;
  const char* help;
};

constexpr FamilySpec kInfo = {
    "linux_namespace_info",
    "Namespace attributes from the nsfs ioctls; value is always 1. pid and "
    "command name the lowest member process."};
constexpr FamilySpec kProcesses = {
    "linux_namespace_processes",
    "Processes (thread groups) whose /proc/PID/ns/<type> is this namespace."};
constexpr FamilySpec kDepth = {
    "linux_namespace_depth",
    "Nesting level of a pid or user namespace, 0 for the topmost visible."};
constexpr FamilySpec kChildren = {
    "linux_namespace_children",
    "Direct child namespaces of a pid or user namespace."};
constexpr FamilySpec kCounts = {"linux_namespaces",
                                "Namespaces of each type found."};
constexpr FamilySpec kLimit = {
    "linux_namespace_limit",
    "Per-user limit on namespaces of each type, from "
    "/proc/sys/user/max_<type>_namespaces."};
constexpr FamilySpec kByDepth = {
    "linux_namespaces_by_depth",
    "Pid and user namespaces at each nesting level (0 = topmost visible)."};

constexpr FamilySpec kHolders = {
    "linux_namespace_holders",
    "Holders of a namespace other than its member processes, by kind: "
    "thread, fd, socket, bind_mount, for_children."};
constexpr FamilySpec kBindMountInfo = {
    "linux_namespace_bind_mount_info",
    "One bind mount of a namespace's nsfs file, in the mount namespace "
    "mount_ns_inode; name is NAME for /run/netns/NAME; value is always 1."};
constexpr FamilySpec kContainerProcesses = {
    "linux_namespace_container_processes",
    "Member processes of a namespace that belong to one container, from "
    "/proc/PID/cgroup; container_id as kube-state-metrics writes it."};

using LabelView = std::pair<std::string_view, std::string_view>;

// The container of each cgroup text of the graph, by index; nullopt for
// host processes.
std::vector<std::optional<Workload>> ClassifyCgroups(
    const NamespaceGraph& graph) {
  std::vector<std::optional<Workload>> out;
  out.reserve(graph.cgroups.size());
  for (const std::string& text : graph.cgroups) {
    const std::vector<CgroupEntry> entries = ParseCgroupFile(text);
    std::optional<Workload> w =
        ClassifyCgroupPaths(CgroupPathsByPreference(entries));
    if (w) {
      w->container_id = UntrustedLabelValue(w->container_id);
      w->pod_uid = UntrustedLabelValue(w->pod_uid);
    }
    out.push_back(std::move(w));
  }
  return out;
}

// Decimal text of a number in a caller-owned buffer, without allocating.
class Number {
 public:
  template <typename T>
  explicit Number(T v) {
    const auto [end, ec] = std::to_chars(buf_, buf_ + sizeof(buf_), v);
    len_ = ec == std::errc() ? static_cast<std::size_t>(end - buf_) : 0;
  }
  template <typename T>
  explicit Number(const std::optional<T>& v) : Number(v.value_or(0)) {
    if (!v) len_ = 0;
  }
  std::string_view view() const { return std::string_view(buf_, len_); }

 private:
  char buf_[24];
  std::size_t len_ = 0;
};

bool PerNamespaceExported(const NamespaceInfo& n,
                          const MetricsOptions& options) {
  if (!options.types.Contains(n.type)) return false;
  if (!options.per_namespace_series) return false;
  if (options.exclude_types.Contains(n.type)) return false;
  if (!options.exclude_commands.empty() && n.pid > 0) {
    for (const std::regex& re : options.exclude_commands) {
      if (std::regex_match(n.command, re)) return false;
    }
  }
  return true;
}

// Writes the families of the text exposition one sample at a time: the
// header before a family's first sample (as AppendTextFormat, a family
// without samples is left out), then one line per sample.
class TextSink {
 public:
  explicit TextSink(std::string* out) : out_(out) {}
  // No reservation per family: a guess per family (most namespaces have
  // no holder and no container) made the string's capacity 1.5x the text.
  // The caller reserves what the last body needed.
  void Begin(const FamilySpec& spec) {
    spec_ = &spec;
    header_written_ = false;
  }
  void Sample(std::initializer_list<LabelView> labels, double value) {
    if (!header_written_) {
      AppendFamilyHeader(spec_->name, spec_->help,
                         prometheus::MetricType::Gauge, out_);
      header_written_ = true;
    }
    out_->append(spec_->name);
    out_->push_back('{');
    bool first = true;
    for (const auto& [name, v] : labels) {
      if (!first) out_->push_back(',');
      first = false;
      out_->append(name).append("=\"");
      AppendEscaped(v, true, out_);
      out_->push_back('"');
    }
    out_->append("} ");
    AppendSampleValue(value, out_);
    out_->push_back('\n');
  }

 private:
  std::string* out_;
  const FamilySpec* spec_ = nullptr;
  bool header_written_ = false;
};

using Exported = std::vector<const NamespaceInfo*>;

// linux_namespace_info: one series per exported namespace.
void EmitInfo(const Exported& exported, TextSink* sink) {
  sink->Begin(kInfo);
  for (const NamespaceInfo* n : exported) {
    const Number inode(n->inode), ns_id(n->ns_id), parent(n->parent_inode),
        owner(n->owner_inode), uid(n->owner_uid),
        pid(n->pid > 0 ? std::optional<pid_t>(n->pid) : std::nullopt);
    const std::string command = UntrustedLabelValue(n->command);
    sink->Sample({{"type", NamespaceTypeName(n->type)},
                  {"inode", inode.view()},
                  {"ns_id", ns_id.view()},
                  {"parent_inode", parent.view()},
                  {"owner_inode", owner.view()},
                  {"owner_uid", uid.view()},
                  {"pid", pid.view()},
                  {"command", command}},
                 1);
  }
}

// One series per exported namespace (hierarchical ones only, if asked)
// with the value value(namespace).
template <typename Value>
void EmitPerNamespace(const FamilySpec& spec, bool hierarchical,
                      const Exported& exported, Value value, TextSink* sink) {
  sink->Begin(spec);
  for (const NamespaceInfo* n : exported) {
    if (hierarchical && !IsHierarchical(n->type)) continue;
    const Number inode(n->inode);
    sink->Sample(
        {{"type", NamespaceTypeName(n->type)}, {"inode", inode.view()}},
        static_cast<double>(value(*n)));
  }
}

// linux_namespace_holders: one series per namespace and holder kind it has.
void EmitHolders(const Exported& exported, TextSink* sink) {
  sink->Begin(kHolders);
  for (const NamespaceInfo* n : exported) {
    const Number inode(n->inode);
    for (HolderKind k : kAllHolderKinds) {
      const std::uint32_t count = n->holders[static_cast<std::size_t>(k)];
      if (count == 0) continue;
      sink->Sample({{"type", NamespaceTypeName(n->type)},
                    {"inode", inode.view()},
                    {"holder", HolderKindName(k)}},
                   count);
    }
  }
}

// linux_namespace_bind_mount_info: one series per bind mount of an exported
// namespace.
void EmitBindMounts(const NamespaceGraph& graph, const MetricsOptions& options,
                    TextSink* sink) {
  sink->Begin(kBindMountInfo);
  for (const BindMountRecord& b : graph.bind_mounts) {
    const NamespaceInfo* n = graph.Find(b.type, b.inode);
    if (n == nullptr || !PerNamespaceExported(*n, options)) continue;
    const Number inode(b.inode), mnt(b.mount_ns_inode);
    const std::string path = UntrustedLabelValue(b.path);
    const std::string name = UntrustedLabelValue(b.name);
    sink->Sample({{"type", NamespaceTypeName(b.type)},
                  {"inode", inode.view()},
                  {"mount_ns_inode", mnt.view()},
                  {"path", path},
                  {"name", name}},
                 1);
  }
}

// linux_namespace_container_processes: one series per exported namespace
// and container of its members.
void EmitContainers(const NamespaceGraph& graph, const Exported& exported,
                    TextSink* sink) {
  if (graph.cgroups.empty()) return;
  const std::vector<std::optional<Workload>> workloads = ClassifyCgroups(graph);
  sink->Begin(kContainerProcesses);
  // Several cgroups (a container's sub-cgroups) can name one container.
  std::map<std::tuple<std::string_view, std::string_view, std::string_view>,
           std::uint64_t>
      by_container;
  for (const NamespaceInfo* n : exported) {
    by_container.clear();
    for (const auto& [index, count] : graph.CgroupMembers(*n)) {
      if (index >= workloads.size() || !workloads[index]) continue;
      const Workload& w = *workloads[index];
      by_container[{w.container_runtime, w.container_id, w.pod_uid}] += count;
    }
    const Number inode(n->inode);
    for (const auto& [key, count] : by_container) {
      sink->Sample({{"type", NamespaceTypeName(n->type)},
                    {"inode", inode.view()},
                    {"container_runtime", std::get<0>(key)},
                    {"container_id", std::get<1>(key)},
                    {"pod_uid", std::get<2>(key)}},
                   static_cast<double>(count));
    }
  }
}

// linux_namespaces, linux_namespace_limit and linux_namespaces_by_depth:
// bounded by the number of types and nesting levels.
void EmitAggregates(const NamespaceGraph& graph, const NamespaceLimits& limits,
                    const MetricsOptions& options, TextSink* sink) {
  sink->Begin(kCounts);
  for (NamespaceType t : kAllNamespaceTypes) {
    if (!options.types.Contains(t)) continue;
    sink->Sample({{"type", NamespaceTypeName(t)}},
                 static_cast<double>(graph.count_by_type[TypeIndex(t)]));
  }

  sink->Begin(kLimit);
  for (NamespaceType t : kAllNamespaceTypes) {
    if (!options.types.Contains(t) || !limits[TypeIndex(t)]) continue;
    sink->Sample({{"type", NamespaceTypeName(t)}},
                 static_cast<double>(*limits[TypeIndex(t)]));
  }

  // Namespaces per depth level, for pid and user: always exported, since
  // its cardinality is bounded by the kernel's 32-level nesting limit.
  std::map<std::pair<NamespaceType, std::uint32_t>, std::uint64_t> by_depth;
  for (const NamespaceInfo& n : graph.namespaces) {
    if (options.types.Contains(n.type) && IsHierarchical(n.type)) {
      ++by_depth[{n.type, n.depth}];
    }
  }
  sink->Begin(kByDepth);
  for (const auto& [key, count] : by_depth) {
    const Number depth(key.second);
    sink->Sample(
        {{"type", NamespaceTypeName(key.first)}, {"depth", depth.view()}},
        static_cast<double>(count));
  }
}

// Walks the graph once per family, in export order, handing each sample to
// "sink", which writes it: the one place that decides which series exist
// and what their labels say.
void Emit(const NamespaceGraph& graph, const NamespaceLimits& limits,
          const MetricsOptions& options, TextSink* sink) {
  // Exported namespaces, so that the regexes run once per namespace.
  Exported exported;
  exported.reserve(graph.namespaces.size());
  for (const NamespaceInfo& n : graph.namespaces) {
    if (PerNamespaceExported(n, options)) exported.push_back(&n);
  }
  EmitInfo(exported, sink);
  EmitPerNamespace(
      kProcesses, false, exported,
      [](const NamespaceInfo& n) { return n.processes; }, sink);
  EmitHolders(exported, sink);
  EmitBindMounts(graph, options, sink);
  EmitContainers(graph, exported, sink);
  EmitPerNamespace(
      kDepth, true, exported, [](const NamespaceInfo& n) { return n.depth; },
      sink);
  EmitPerNamespace(
      kChildren, true, exported,
      [](const NamespaceInfo& n) { return n.children; }, sink);
  EmitAggregates(graph, limits, options, sink);
}

}  // namespace

void AppendNamespaceText(const NamespaceGraph& graph,
                         const NamespaceLimits& limits,
                         const MetricsOptions& options, std::string* out) {
  TextSink sink(out);
  Emit(graph, limits, options, &sink);
}

}  // namespace nsexp
