// Tree rendering: the reference program's view, for all eight types.
#include "ns/tree_view.h"

#include <map>
#include <vector>

#include "base/utf8.h"

namespace nsexp {

namespace {

constexpr std::size_t kMaxCommandBytes = 256;
// Bound on a holder description (a mount point can be long).
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

class Renderer {
 public:
  Renderer(const ProcFs& procfs, const NamespaceGraph& graph,
           NamespaceType type, TreeFormat format)
      : procfs_(procfs), graph_(graph), type_(type), format_(format) {
    // Children by parent, for the hierarchical type shown.
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

  std::string Render() {
    if (format_ == TreeFormat::kJson) {
      out_ =
          "{\"type\":" + JsonString(NamespaceTypeName(type_)) + ",\"roots\":[";
      for (std::size_t i = 0; i < roots_.size(); ++i) {
        if (i) out_.push_back(',');
        JsonNode(*roots_[i]);
      }
      out_ += "]";
      if (!IsHierarchical(type_)) {
        out_ += ",\"unowned\":[";
        for (std::size_t i = 0; i < unowned_.size(); ++i) {
          if (i) out_.push_back(',');
          JsonLeaf(*unowned_[i]);
        }
        out_ += "]";
      }
      out_ += "}\n";
    } else {
      for (const NamespaceInfo* r : roots_) TextNode(*r, 0);
      if (!IsHierarchical(type_) && !unowned_.empty()) {
        out_ += "(owner not visible)\n";
        for (const NamespaceInfo* n : unowned_) TextLeaf(*n, 1);
      }
    }
    return std::move(out_);
  }

 private:
  Member ReadMember(pid_t pid) const {
    Member m;
    m.pid = pid;
    ProcessStatus st;
    if (procfs_.ReadStatus(pid, &st).ok()) {
      m.nstgid = std::move(st.nstgid);
      m.command = SanitizeUtf8(UnescapeStatusName(st.name), kMaxCommandBytes);
    } else {
      m.exited = true;  // exited between the walk and this read
    }
    if (m.nstgid.empty()) m.nstgid.push_back(pid);
    return m;
  }

  static std::string Label(const NamespaceInfo& n) {
    return std::string(NamespaceTypeName(n.type)) + ":[" +
           std::to_string(n.inode) + "]";
  }

  void TextMembers(const NamespaceInfo& n, std::size_t level) {
    const std::string indent(level * 4 + 8, ' ');
    for (pid_t pid : n.members) {
      const Member m = ReadMember(pid);
      out_ += indent + "[";
      for (std::size_t i = 0; i < m.nstgid.size(); ++i) {
        if (i) out_.push_back(' ');
        out_ += std::to_string(m.nstgid[i]);
      }
      out_ += "]  ";
      out_ += m.exited ? std::string("(exited)") : m.command;
      out_.push_back('\n');
    }
  }

  void TextHeader(const NamespaceInfo& n, std::size_t level) {
    out_ += std::string(level * 4, ' ') + Label(n);
    if (n.ns_id) out_ += " ns_id=" + std::to_string(*n.ns_id);
    if (n.owner_uid) out_ += " owner_uid=" + std::to_string(*n.owner_uid);
    out_ += " processes=" + std::to_string(n.processes);
    // How a namespace without processes is held, when a holder reader said.
    if (n.processes == 0 && !n.held_by.empty()) {
      out_ += " (" + SanitizeUtf8(n.held_by, kMaxHeldByBytes) + ")";
    }
    out_.push_back('\n');
  }

  void TextLeaf(const NamespaceInfo& n, std::size_t level) {
    TextHeader(n, level);
    TextMembers(n, level);
  }

  void TextNode(const NamespaceInfo& n, std::size_t level) {
    TextHeader(n, level);
    if (n.type == type_) {
      TextMembers(n, level);
    } else {
      auto it = owned_.find(n.inode);
      if (it != owned_.end()) {
        for (const NamespaceInfo* o : it->second) TextLeaf(*o, level + 1);
      }
    }
    auto it = children_.find(n.inode);
    if (it == children_.end()) return;
    for (const NamespaceInfo* c : it->second) TextNode(*c, level + 1);
  }

  void JsonAttrs(const NamespaceInfo& n) {
    out_ += "\"type\":" + JsonString(NamespaceTypeName(n.type)) +
            ",\"inode\":" + std::to_string(n.inode);
    out_ += ",\"ns_id\":" + (n.ns_id ? std::to_string(*n.ns_id) : "null");
    out_ += ",\"parent_inode\":" +
            (n.parent_inode ? std::to_string(*n.parent_inode) : "null");
    out_ += ",\"owner_inode\":" +
            (n.owner_inode ? std::to_string(*n.owner_inode) : "null");
    if (n.type == NamespaceType::kUser) {
      out_ += ",\"owner_uid\":" +
              (n.owner_uid ? std::to_string(*n.owner_uid) : "null");
    }
    if (IsHierarchical(n.type)) {
      out_ += ",\"depth\":" + std::to_string(n.depth);
    }
    out_ += ",\"processes\":" + std::to_string(n.processes);
    if (!n.held_by.empty()) {
      out_ += ",\"held_by\":" +
              JsonString(SanitizeUtf8(n.held_by, kMaxHeldByBytes));
    }
  }

  void JsonMembers(const NamespaceInfo& n) {
    out_ += ",\"members\":[";
    for (std::size_t i = 0; i < n.members.size(); ++i) {
      if (i) out_.push_back(',');
      const Member m = ReadMember(n.members[i]);
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

  void JsonLeaf(const NamespaceInfo& n) {
    out_.push_back('{');
    JsonAttrs(n);
    JsonMembers(n);
    out_.push_back('}');
  }

  void JsonNode(const NamespaceInfo& n) {
    out_.push_back('{');
    JsonAttrs(n);
    if (n.type == type_) {
      JsonMembers(n);
    } else {
      out_ += ",\"owned\":[";
      auto it = owned_.find(n.inode);
      if (it != owned_.end()) {
        for (std::size_t i = 0; i < it->second.size(); ++i) {
          if (i) out_.push_back(',');
          JsonLeaf(*it->second[i]);
        }
      }
      out_ += "]";
    }
    out_ += ",\"children\":[";
    auto it = children_.find(n.inode);
    if (it != children_.end()) {
      for (std::size_t i = 0; i < it->second.size(); ++i) {
        if (i) out_.push_back(',');
        JsonNode(*it->second[i]);
      }
    }
    out_ += "]}";
  }

  const ProcFs& procfs_;
  const NamespaceGraph& graph_;
  const NamespaceType type_;
  const TreeFormat format_;
  std::vector<const NamespaceInfo*> roots_;
  std::map<std::uint64_t, std::vector<const NamespaceInfo*>> children_;
  std::map<std::uint64_t, std::vector<const NamespaceInfo*>> owned_;
  std::vector<const NamespaceInfo*> unowned_;
  std::string out_;
};

}  // namespace

std::string DeniedSummary(const ScanStats& stats) {
  if (stats.permission_denied == 0) return "";
  std::string out = std::to_string(stats.permission_denied) +
                    (stats.permission_denied == 1 ? " process" : " processes") +
                    " could not be inspected";
  if (!stats.first_denied.empty()) {
    out += " (first: " + stats.first_denied + ")";
  }
  return out;
}

std::string RenderTree(const ProcFs& procfs, const NamespaceGraph& graph,
                       NamespaceType type, TreeFormat format) {
  return Renderer(procfs, graph, type, format).Render();
}

}  // namespace nsexp
