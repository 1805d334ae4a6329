// The namespace hierarchy as the tree view shows it: one model, rendered
// as text (the CLI and /tree), JSON (a versioned schema) or, in
// http/tree_page.h, an HTML page.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ns/discovery.h"
#include "ns/namespace_graph.h"
#include "proc/proc_fs.h"

namespace nsexp {

enum class TreeFormat { kText, kJson };

// The version of the JSON document RenderTreeJson() writes (its
// "schema_version" field). Raised when a field is removed or changes
// meaning; new optional fields keep it. docs/tree-json.md describes it.
inline constexpr int kTreeJsonSchemaVersion = 1;

// One member process of a namespace, as /proc/PID/status said it.
struct TreeMember {
  pid_t pid = 0;
  bool exited = false;        // gone between the walk and the status read
  std::vector<pid_t> nstgid;  // outermost first; {pid} when unknown
  // Valid UTF-8, every control character as U+FFFD, at most 256 bytes:
  // the command label of the metrics. Empty when exited.
  std::string command;
};

// A bind mount of a namespace's nsfs file (BindMountRecord), sanitised
// for display.
struct TreeBindMount {
  std::string path;  // the mount point; valid UTF-8, no control characters
  std::string name;  // NAME of /run/netns/NAME; empty otherwise
  std::uint64_t mount_ns_inode = 0;  // the mount namespace it is mounted in
};

// The member processes of a namespace that belong to one container.
struct TreeContainer {
  std::string runtime;  // "podman", "containerd", ...; empty when unknown
  std::string id;       // "podman://<64 hex>", as the metrics label it
  std::string pod_uid;  // empty outside Kubernetes
  std::uint32_t processes = 0;
};

// The container that one /proc/PID/cgroup text names (its strings valid
// UTF-8, "processes" ignored), or nullopt for a host process. Supplied by
// the caller, which knows the runtimes' cgroup layouts (workload/).
using CgroupClassifier =
    std::function<std::optional<TreeContainer>(const std::string& text)>;

// One namespace in the tree. A node is either "shown" (its type is the
// type asked for: it lists its members) or "grouping" (a user namespace
// shown only to hold the namespaces of a non-hierarchical type it owns).
struct TreeNode {
  const NamespaceInfo* ns = nullptr;  // points into the graph rendered
  bool grouping = false;
  std::vector<TreeMember> members;  // shown nodes only
  std::vector<TreeNode> owned;      // grouping nodes: owned namespaces
  std::vector<TreeNode> children;   // child namespaces (pid or user)
  // How a holder other than a member process holds it
  // (NamespaceInfo::held_by), sanitised, at most 512 bytes; may be empty.
  std::string held_by;
  std::vector<TreeBindMount> bind_mounts;  // in graph order
  // By container, sorted by (runtime, id, pod_uid); shown nodes only, and
  // only when a classifier was given.
  std::vector<TreeContainer> containers;
};

// What a renderer needs: the type's hierarchy, read once.
struct TreeModel {
  NamespaceType type = NamespaceType::kPid;
  std::vector<TreeNode> roots;
  // Non-hierarchical types: namespaces whose owning user namespace is not
  // in the graph (e.g. outside the exporter's view). Always empty for pid
  // and user.
  std::vector<TreeNode> unowned;
  std::uint64_t permission_denied = 0;  // processes not inspected
};

// The discovery the tree view needs: members, every holder reader (a
// person asks for the whole picture once, so the readers that /metrics
// leaves off by default for their cost run here) and cgroups. Sockets only
// with "sockets" (collection.sockets): without CAP_NET_ADMIN every socket
// would be refused. Pure.
DiscoveryOptions TreeDiscoveryOptions(bool sockets);

// Builds the model of "graph" (discovered with
// DiscoveryOptions::collect_members) for one type. For pid and user: the
// namespace tree. For the other types: the user namespace tree, with the
// namespaces of "type" under the user namespace that owns them. Reads
// /proc/PID/status of each member through "procfs" (a member that has
// exited is marked so). "classify" (may be empty: no containers) turns the
// graph's cgroup texts into containers. The model points into "graph",
// which must outlive it. Thread-safe.
TreeModel BuildTreeModel(const ProcFs& procfs, const NamespaceGraph& graph,
                         NamespaceType type,
                         const CgroupClassifier& classify = nullptr);

// Colour in the text rendering: ANSI SGR sequences, or none at all.
enum class TreeColor { kNever, kAlways };

// The model as text: each namespace indented by depth ("pid:[INODE]
// ns_id=N processes=N", then "holders=bind_mount:1,fd:2" when any, and
// "(held_by)" when it has no process), its members as "[NStgid...]  comm"
// below it, then one line per bind mount ("bind mount PATH (ip netns
// NAME) in mnt:[INODE]") and per container ("container ID runtime=R
// pod=UID processes=N"). Grouping lines say what they count ("owns 2 net
// namespaces").
// kNever writes no escape sequence. Pure.
std::string RenderTreeText(const TreeModel& model, TreeColor color);

// The model as one JSON object (RFC 8259) with "schema_version", ending
// in a newline. Strings are escaped once: the sanitised commands need
// only quote and backslash escaped. Pure.
std::string RenderTreeJson(const TreeModel& model);

// BuildTreeModel() then RenderTreeText() without colour or
// RenderTreeJson(). Thread-safe.
std::string RenderTree(const ProcFs& procfs, const NamespaceGraph& graph,
                       NamespaceType type, TreeFormat format);

// "1 process could not be inspected" or "N processes could not be
// inspected", followed by " (first: <stats.first_denied>)" when one is
// known; empty when none was denied. What the tree command prints on
// stderr after a partial picture. Pure.
std::string DeniedSummary(const ScanStats& stats);

// "1 net namespace", "2 net namespaces", "0 processes": count and noun,
// singular for exactly one. Pure.
std::string CountOf(std::uint64_t n, const std::string& singular,
                    const std::string& plural);

}  // namespace nsexp
