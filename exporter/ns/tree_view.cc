// Tree model and its text and JSON renderings, for all eight types.
#include "ns/tree_view.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "base/utf8.h"

namespace nsexp {

namespace {

constexpr std::size_t kMaxCommandBytes = 256;
// Bound on a holder description or a mount point (paths can be long).
constexpr std::size_t kMaxHeldByBytes = 512;

struct Member {
  pid_t pid = 0;
  bool exited = false;
  std::vector<pid_t> nstgid;
  std::string command;  // sanitised: valid UTF-8, no control characters
};

// The comm as the process set it. The "Name:" line of /proc/PID/status
// escapes it (fs/proc/array.c, proc_task_name(): newline as "\n" and
// backslash as "\\", nothing else), while /proc/PID/comm, which the
// metrics read, does not: undo the escaping so that both start from the
// same bytes.
std::string UnescapeStatusName(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '\\' && i + 1 < escaped.size()) {
      if (escaped[i + 1] == 'n') {
        out.push_back('\n');
        ++i;
        continue;
      }
      if (escaped[i + 1] == '\\') {
        out.push_back('\\');
        ++i;
        continue;
      }
    }
    out.push_back(escaped[i]);
  }
  return out;
}

// A JSON string (RFC 8259) of "v", which SanitizeUtf8 has already made
// valid UTF-8 without control characters: only quote and backslash remain
// to escape.
std::string JsonString(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Builds the model: children by parent for the hierarchical type shown,
// owned namespaces by owner for the others.
class ModelBuilder {
 public:
  ModelBuilder(const ProcFs& procfs, const NamespaceGraph& graph,
               NamespaceType type, const CgroupClassifier& classify)
      : procfs_(procfs), graph_(graph), type_(type), classify_(classify) {
    const NamespaceType tree_type =
        IsHierarchical(type) ? type : NamespaceType::kUser;
    for (const NamespaceInfo& n : graph_.namespaces) {
      if (n.type == tree_type) {
        if (n.parent_inode && graph_.Find(tree_type, *n.parent_inode)) {
          children_[*n.parent_inode].push_back(&n);
        } else {
          roots_.push_back(&n);
        }
      }
      if (!IsHierarchical(type) && n.type == type) {
        if (n.owner_inode &&
            graph_.Find(NamespaceType::kUser, *n.owner_inode)) {
          owned_[*n.owner_inode].push_back(&n);
        } else {
          unowned_.push_back(&n);
        }
      }
    }
  }

  TreeModel Build() {
    TreeModel model;
    model.type = type_;
    model.permission_denied = graph_.stats.permission_denied;
    for (const NamespaceInfo* r : roots_) model.roots.push_back(Node(*r));
    for (const NamespaceInfo* n : unowned_) model.unowned.push_back(Leaf(*n));
    return model;
  }

 private:
  TreeMember ReadMember(pid_t pid) const {
    TreeMember m;
    m.pid = pid;
    ProcessStatus st;
    // A process reaped while its status is read shows 0 for each of its
    // PIDs (fs/proc/array.c: task_tgid_nr_ns() of a released task); it has
    // exited as surely as one whose status cannot be opened.
    if (procfs_.ReadStatus(pid, &st).ok() &&
        std::find(st.nstgid.begin(), st.nstgid.end(), 0) == st.nstgid.end()) {
      m.nstgid = std::move(st.nstgid);
      m.command = SanitizeUtf8(UnescapeStatusName(st.name), kMaxCommandBytes);
    } else {
      m.exited = true;  // exited between the walk and this read
    }
    if (m.nstgid.empty()) m.nstgid.push_back(pid);
    return m;
  }

  // The container of cgroup text "index", classified once per build.
  const std::optional<TreeContainer>& Workload(std::uint32_t index) {
    if (workloads_.empty()) workloads_.resize(graph_.cgroups.size());
    std::optional<std::optional<TreeContainer>>& w = workloads_[index];
    if (!w) w = classify_(graph_.cgroups[index]);
    return *w;
  }

  std::vector<TreeContainer> Containers(const NamespaceInfo& n) {
    std::vector<TreeContainer> out;
    if (!classify_) return out;
    // Several cgroups (a container's sub-cgroups) can name one container.
    std::map<std::tuple<std::string, std::string, std::string>, std::uint32_t>
        by_container;
    for (const auto& [index, count] : graph_.CgroupMembers(n)) {
      if (index >= graph_.cgroups.size()) continue;
      const std::optional<TreeContainer>& w = Workload(index);
      if (w) by_container[{w->runtime, w->id, w->pod_uid}] += count;
    }
    for (const auto& [key, count] : by_container) {
      TreeContainer c;
      std::tie(c.runtime, c.id, c.pod_uid) = key;
      c.processes = count;
      out.push_back(std::move(c));
    }
    return out;
  }

  std::vector<TreeBindMount> BindMounts(const NamespaceInfo& n) const {
    std::vector<TreeBindMount> out;
    const auto& mounts = graph_.bind_mounts;
    auto it =
        std::lower_bound(mounts.begin(), mounts.end(), n,
                         [](const BindMountRecord& m, const NamespaceInfo& ns) {
                           return std::make_pair(m.type, m.inode) <
                                  std::make_pair(ns.type, ns.inode);
                         });
    for (; it != mounts.end() && it->type == n.type && it->inode == n.inode;
         ++it) {
      out.push_back({SanitizeUtf8(it->path, kMaxHeldByBytes),
                     SanitizeUtf8(it->name, kMaxHeldByBytes),
                     it->mount_ns_inode});
    }
    return out;
  }

  // What every node carries, shown or grouping.
  TreeNode Base(const NamespaceInfo& n) const {
    TreeNode node;
    node.ns = &n;
    if (!n.held_by.empty()) {
      node.held_by = SanitizeUtf8(n.held_by, kMaxHeldByBytes);
    }
    node.bind_mounts = BindMounts(n);
    return node;
  }

  TreeNode Leaf(const NamespaceInfo& n) {
    TreeNode node = Base(n);
    for (pid_t pid : n.members) node.members.push_back(ReadMember(pid));
    node.containers = Containers(n);
    return node;
  }

  TreeNode Node(const NamespaceInfo& n) {
    TreeNode node;
    if (n.type == type_) {
      node = Leaf(n);
    } else {
      node = Base(n);
      node.grouping = true;
      auto it = owned_.find(n.inode);
      if (it != owned_.end()) {
        for (const NamespaceInfo* o : it->second) {
          node.owned.push_back(Leaf(*o));
        }
      }
    }
    auto it = children_.find(n.inode);
    if (it != children_.end()) {
      for (const NamespaceInfo* c : it->second) {
        node.children.push_back(Node(*c));
      }
    }
    return node;
  }

  const ProcFs& procfs_;
  const NamespaceGraph& graph_;
  const NamespaceType type_;
  const CgroupClassifier& classify_;
  std::vector<const NamespaceInfo*> roots_;
  std::map<std::uint64_t, std::vector<const NamespaceInfo*>> children_;
  std::map<std::uint64_t, std::vector<const NamespaceInfo*>> owned_;
  std::vector<const NamespaceInfo*> unowned_;
  // By cgroup index: not yet classified, or the classifier's answer.
  std::vector<std::optional<std::optional<TreeContainer>>> workloads_;
};

std::string Label(const NamespaceInfo& n) {
  return std::string(NamespaceTypeName(n.type)) + ":[" +
         std::to_string(n.inode) + "]";
}

// ANSI SGR sequences (ECMA-48), or nothing without colour.
class Paint {
 public:
  explicit Paint(TreeColor color) : on_(color == TreeColor::kAlways) {}
  std::string operator()(const char* sgr, const std::string& text) const {
    if (!on_) return text;
    return std::string("\x1b[") + sgr + "m" + text + "\x1b[0m";
  }

 private:
  bool on_;
};

constexpr const char* kBold = "1";
constexpr const char* kDim = "2";
constexpr const char* kYellow = "33";
constexpr const char* kCyan = "36";

class TextWriter {
 public:
  TextWriter(const TreeModel& model, TreeColor color)
      : model_(model), paint_(color) {}

  std::string Write() {
    for (const TreeNode& r : model_.roots) Node(r, 0);
    if (!model_.unowned.empty()) {
      out_ += paint_(kDim, "owner not visible: " + OwnedCount(model_.unowned));
      out_.push_back('\n');
      for (const TreeNode& n : model_.unowned) Shown(n, 1);
    }
    return std::move(out_);
  }

 private:
  std::string OwnedCount(const std::vector<TreeNode>& owned) const {
    const std::string noun =
        std::string(NamespaceTypeName(model_.type)) + " namespace";
    return CountOf(owned.size(), noun, noun + "s");
  }

  void Members(const TreeNode& n, std::size_t level) {
    const std::string indent(level * 4 + 8, ' ');
    for (const TreeMember& m : n.members) {
      std::string ids = "[";
      for (std::size_t i = 0; i < m.nstgid.size(); ++i) {
        if (i) ids.push_back(' ');
        ids += std::to_string(m.nstgid[i]);
      }
      ids += "]";
      out_ += indent + paint_(kCyan, ids) + "  ";
      out_ += m.exited ? paint_(kYellow, "(exited)") : m.command;
      out_.push_back('\n');
    }
  }

  std::string Attrs(const NamespaceInfo& n) const {
    std::string out;
    if (n.ns_id) out += " ns_id=" + std::to_string(*n.ns_id);
    if (n.owner_uid) out += " owner_uid=" + std::to_string(*n.owner_uid);
    return out;
  }

  // " holders=bind_mount:1,fd:2" for the kinds that hold it; empty when
  // only processes do.
  static std::string Holders(const NamespaceInfo& n) {
    std::string out;
    for (HolderKind k : kAllHolderKinds) {
      const std::uint32_t count = n.holders[static_cast<std::size_t>(k)];
      if (count == 0) continue;
      out += (out.empty() ? " holders=" : ",") +
             std::string(HolderKindName(k)) + ":" + std::to_string(count);
    }
    return out;
  }

  void Extras(const TreeNode& n, std::size_t level) {
    const std::string indent(level * 4 + 8, ' ');
    for (const TreeBindMount& b : n.bind_mounts) {
      out_ += indent + "bind mount " + b.path;
      if (!b.name.empty()) out_ += " (ip netns " + b.name + ")";
      out_ += " in mnt:[" + std::to_string(b.mount_ns_inode) + "]\n";
    }
    for (const TreeContainer& c : n.containers) {
      out_ += indent + "container " + paint_(kCyan, c.id);
      if (!c.runtime.empty()) out_ += " runtime=" + c.runtime;
      if (!c.pod_uid.empty()) out_ += " pod=" + c.pod_uid;
      out_ += " processes=" + std::to_string(c.processes) + "\n";
    }
  }

  void Shown(const TreeNode& n, std::size_t level) {
    const NamespaceInfo& ns = *n.ns;
    out_ += std::string(level * 4, ' ') + paint_(kBold, Label(ns)) + Attrs(ns);
    const std::string count = "processes=" + std::to_string(ns.processes);
    out_ += " " + (ns.processes == 0 ? paint_(kYellow, count) : count);
    out_ += Holders(ns);
    // How a namespace without processes is held, when a holder reader said.
    if (ns.processes == 0 && !n.held_by.empty()) {
      out_ += " (" + n.held_by + ")";
    }
    out_.push_back('\n');
    Members(n, level);
    Extras(n, level);
  }

  // A user namespace that only groups: what it counts is the namespaces of
  // the type shown that it owns, not processes.
  void Grouping(const TreeNode& n, std::size_t level) {
    out_ += std::string(level * 4, ' ') +
            paint_(kDim, Label(*n.ns) + Attrs(*n.ns) + " owns " +
                             OwnedCount(n.owned));
    out_.push_back('\n');
    for (const TreeNode& o : n.owned) Shown(o, level + 1);
  }

  void Node(const TreeNode& n, std::size_t level) {
    if (n.grouping) {
      Grouping(n, level);
    } else {
      Shown(n, level);
    }
    for (const TreeNode& c : n.children) Node(c, level + 1);
  }

  const TreeModel& model_;
  const Paint paint_;
  std::string out_;
};

std::string OptionalNumber(const std::optional<std::uint64_t>& v) {
  return v ? std::to_string(*v) : "null";
}

class JsonWriter {
 public:
  explicit JsonWriter(const TreeModel& model) : model_(model) {}

  std::string Write() {
    out_ = "{\"schema_version\":" + std::to_string(kTreeJsonSchemaVersion) +
           ",\"type\":" + JsonString(NamespaceTypeName(model_.type)) +
           ",\"processes_not_inspected\":" +
           std::to_string(model_.permission_denied) + ",\"roots\":";
    List(model_.roots);
    if (!IsHierarchical(model_.type)) {
      out_ += ",\"unowned\":";
      List(model_.unowned);
    }
    out_ += "}\n";
    return std::move(out_);
  }

 private:
  void List(const std::vector<TreeNode>& nodes) {
    out_.push_back('[');
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (i) out_.push_back(',');
      Node(nodes[i]);
    }
    out_.push_back(']');
  }

  void Attrs(const NamespaceInfo& n) {
    out_ += "\"type\":" + JsonString(NamespaceTypeName(n.type)) +
            ",\"inode\":" + std::to_string(n.inode);
    out_ += ",\"ns_id\":" + OptionalNumber(n.ns_id);
    out_ += ",\"parent_inode\":" + OptionalNumber(n.parent_inode);
    out_ += ",\"owner_inode\":" + OptionalNumber(n.owner_inode);
    if (n.type == NamespaceType::kUser) {
      out_ += ",\"owner_uid\":" +
              (n.owner_uid ? std::to_string(*n.owner_uid) : "null");
    }
    if (IsHierarchical(n.type)) {
      out_ += ",\"depth\":" + std::to_string(n.depth);
    }
    out_ += ",\"processes\":" + std::to_string(n.processes);
    out_ += ",\"holders\":{";
    for (std::size_t i = 0; i < kHolderKindCount; ++i) {
      if (i) out_.push_back(',');
      out_ += JsonString(HolderKindName(kAllHolderKinds[i])) + ":" +
              std::to_string(n.holders[i]);
    }
    out_ += "}";
  }

  // held_by, bind_mounts and containers.
  void Holders(const TreeNode& n) {
    out_ += ",\"held_by\":" +
            (n.held_by.empty() ? std::string("null") : JsonString(n.held_by));
    out_ += ",\"bind_mounts\":[";
    for (std::size_t i = 0; i < n.bind_mounts.size(); ++i) {
      const TreeBindMount& b = n.bind_mounts[i];
      if (i) out_.push_back(',');
      out_ += "{\"path\":" + JsonString(b.path) + ",\"name\":" +
              (b.name.empty() ? std::string("null") : JsonString(b.name)) +
              ",\"mount_ns_inode\":" + std::to_string(b.mount_ns_inode) + "}";
    }
    out_ += "]";
    if (n.grouping) return;
    out_ += ",\"containers\":[";
    for (std::size_t i = 0; i < n.containers.size(); ++i) {
      const TreeContainer& c = n.containers[i];
      if (i) out_.push_back(',');
      out_ +=
          "{\"runtime\":" +
          (c.runtime.empty() ? std::string("null") : JsonString(c.runtime)) +
          ",\"id\":" + JsonString(c.id) + ",\"pod_uid\":" +
          (c.pod_uid.empty() ? std::string("null") : JsonString(c.pod_uid)) +
          ",\"processes\":" + std::to_string(c.processes) + "}";
    }
    out_ += "]";
  }

  void Members(const TreeNode& n) {
    out_ += ",\"members\":[";
    for (std::size_t i = 0; i < n.members.size(); ++i) {
      if (i) out_.push_back(',');
      const TreeMember& m = n.members[i];
      out_ += "{\"pid\":" + std::to_string(m.pid) + ",\"nstgid\":[";
      for (std::size_t k = 0; k < m.nstgid.size(); ++k) {
        if (k) out_.push_back(',');
        out_ += std::to_string(m.nstgid[k]);
      }
      out_ += "],\"command\":" + JsonString(m.command) +
              ",\"exited\":" + (m.exited ? "true" : "false") + "}";
    }
    out_ += "]";
  }

  void Node(const TreeNode& n) {
    out_.push_back('{');
    Attrs(*n.ns);
    Holders(n);
    if (n.grouping) {
      out_ += ",\"owned\":";
      List(n.owned);
    } else {
      Members(n);
    }
    if (IsHierarchical(n.ns->type)) {
      out_ += ",\"children\":";
      List(n.children);
    }
    out_.push_back('}');
  }

  const TreeModel& model_;
  std::string out_;
};

}  // namespace

std::string DeniedSummary(const ScanStats& stats) {
  if (stats.permission_denied == 0) return "";
  std::string out = CountOf(stats.permission_denied, "process", "processes") +
                    " could not be inspected";
  if (!stats.first_denied.empty()) {
    out += " (first: " + stats.first_denied + ")";
  }
  return out;
}

std::string CountOf(std::uint64_t n, const std::string& singular,
                    const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

DiscoveryOptions TreeDiscoveryOptions(bool sockets) {
  DiscoveryOptions o;
  o.collect_members = true;
  o.bind_mounts = true;
  o.fds = true;
  o.sockets = sockets;
  o.for_children = true;
  o.threads = true;
  o.cgroups = true;
  return o;
}

TreeModel BuildTreeModel(const ProcFs& procfs, const NamespaceGraph& graph,
                         NamespaceType type, const CgroupClassifier& classify) {
  return ModelBuilder(procfs, graph, type, classify).Build();
}

std::string RenderTreeText(const TreeModel& model, TreeColor color) {
  return TextWriter(model, color).Write();
}

std::string RenderTreeJson(const TreeModel& model) {
  return JsonWriter(model).Write();
}

std::string RenderTree(const ProcFs& procfs, const NamespaceGraph& graph,
                       NamespaceType type, TreeFormat format) {
  const TreeModel model = BuildTreeModel(procfs, graph, type);
  return format == TreeFormat::kJson ? RenderTreeJson(model)
                                     : RenderTreeText(model, TreeColor::kNever);
}

}  // namespace nsexp
