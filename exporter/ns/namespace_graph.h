// NamespaceGraph: what one discovery found, as plain structs.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/namespace_type.h"

namespace nsexp {

// The kinds of holder besides member processes, as the `holder` label of
// linux_namespace_holders names them (HolderKindName).
enum class HolderKind {
  kThread,       // a thread whose namespace differs from its process's
  kFd,           // an open nsfs file descriptor
  kSocket,       // a socket created in that net namespace
  kBindMount,    // a bind mount of the nsfs file
  kForChildren,  // pid_for_children / time_for_children
};
inline constexpr std::size_t kHolderKindCount = 5;
inline constexpr HolderKind kAllHolderKinds[kHolderKindCount] = {
    HolderKind::kThread, HolderKind::kFd, HolderKind::kSocket,
    HolderKind::kBindMount, HolderKind::kForChildren};

// "thread", "fd", "socket", "bind_mount", "for_children".
constexpr std::string_view HolderKindName(HolderKind kind) {
  constexpr std::string_view kNames[kHolderKindCount] = {
      "thread", "fd", "socket", "bind_mount", "for_children"};
  return kNames[static_cast<std::size_t>(kind)];
}

// Member processes of one namespace in one cgroup: (index into
// NamespaceGraph::cgroups, number of member processes).
using CgroupCount = std::pair<std::uint32_t, std::uint32_t>;

// One namespace and what the kernel said about it.
struct NamespaceInfo {
  NamespaceType type = NamespaceType::kUser;
  std::uint64_t inode = 0;                    // nsfs inode, as readlink shows
  std::optional<std::uint64_t> ns_id;         // NS_GET_ID, Linux 6.18+
  std::optional<std::uint64_t> parent_inode;  // pid and user; empty at the top
  std::optional<std::uint64_t> owner_inode;   // owning user namespace
  std::optional<uid_t> owner_uid;             // user namespaces only
  std::uint32_t processes = 0;  // thread groups whose ns link names this one
  pid_t pid = 0;                // lowest member PID; 0 when none
  std::string command;          // comm of "pid", raw bytes; empty when none
  std::uint32_t depth = 0;      // pid and user: 0 at the topmost visible
  std::uint32_t children = 0;   // pid and user: direct child namespaces
  std::vector<pid_t> members;   // ascending; filled only on request
  // Holders other than member processes, by kind (index: HolderKind).
  std::array<std::uint32_t, kHolderKindCount> holders{};
  // How one non-process holder holds it ("bind mount /run/netns/t1 in
  // mnt:[4026531841]", "fd 3 of 4242 (python3)"); filled only with
  // members, for the tree view; empty when none was described.
  std::string held_by;
  // Member processes by cgroup: entries [cgroup_first, cgroup_first +
  // cgroup_count) of NamespaceGraph::cgroup_counts (see CgroupMembers()),
  // ascending by cgroup index; none unless cgroups are read
  // (DiscoveryOptions::cgroups). One array for the whole graph, not a block
  // per namespace: those would outlive the walk scattered among its freed
  // blocks and keep the heap's pages resident.
  std::uint32_t cgroup_first = 0;
  std::uint32_t cgroup_count = 0;
};

// A namespace's CgroupCount entries, for range-for.
struct CgroupCounts {
  const CgroupCount* first = nullptr;
  const CgroupCount* last = nullptr;
  const CgroupCount* begin() const { return first; }
  const CgroupCount* end() const { return last; }
  std::size_t size() const { return static_cast<std::size_t>(last - first); }
  bool empty() const { return first == last; }
  const CgroupCount& operator[](std::size_t i) const { return first[i]; }
};

// One bind mount of a namespace's nsfs file, as one mount namespace's
// mountinfo lists it.
struct BindMountRecord {
  NamespaceType type = NamespaceType::kNet;
  std::uint64_t inode = 0;           // the namespace mounted
  std::uint64_t mount_ns_inode = 0;  // the mount namespace it is mounted in
  std::string path;                  // the mount point, unescaped; raw bytes
  std::string name;  // NAME for /run/netns/NAME and /var/run/netns/NAME
};

// What one kind of holder besides member processes (HolderReader) found
// and could not read in one discovery.
struct HolderStats {
  std::string kind;                     // HolderReader::kind(), "bind_mount"
  std::uint64_t holders = 0;            // holders found (e.g. nsfs mounts)
  std::uint64_t vanished = 0;           // gone before they could be read
  std::uint64_t permission_denied = 0;  // EACCES/EPERM
  std::uint64_t other = 0;              // anything else
  // Places the reader could not look into at all (bind_mount: mount
  // namespaces that no process is in, whose mountinfo cannot be read).
  std::uint64_t unscanned = 0;
  std::string first_error;  // one example, for the log
};

// Counts of what a discovery could not see. Thread-compatible.
struct ScanStats {
  std::uint64_t processes_scanned = 0;  // PIDs listed in the procfs root
  std::uint64_t vanished = 0;           // exited mid-walk (ENOENT/ESRCH/...)
  std::uint64_t permission_denied = 0;  // EACCES/EPERM on a process
  std::uint64_t other = 0;              // anything else
  // Processes whose main thread had exited (state Z): a process waiting to
  // be reaped, or one whose leader thread exited while others run. Their
  // pid and user links still count; the others are gone. Not an error: a
  // long-lived zombie is counted here on every walk, never in "vanished".
  std::uint64_t zombies = 0;
  std::string first_denied;          // one example, for the log
  std::string first_other;           // one example, for the log
  std::vector<HolderStats> holders;  // one per holder reader that ran
};

// All namespaces found, sorted by (type, inode). Plain value; thread-safe
// to share once built.
struct NamespaceGraph {
  std::vector<NamespaceInfo> namespaces;
  // Every bind mount found, sorted by (type, inode, mount_ns_inode, path).
  std::vector<BindMountRecord> bind_mounts;
  // The distinct /proc/PID/cgroup texts of member processes, as read;
  // cgroup_counts indexes them. Empty unless cgroups are read.
  std::vector<std::string> cgroups;
  // Every namespace's member counts by cgroup, one namespace after another.
  std::vector<CgroupCount> cgroup_counts;
  std::array<std::uint64_t, kNamespaceTypeCount> count_by_type{};
  ScanStats stats;

  // Binary search by (type, inode); nullptr when absent.
  const NamespaceInfo* Find(NamespaceType type, std::uint64_t inode) const;
  // The member counts by cgroup of "n", a namespace of this graph.
  CgroupCounts CgroupMembers(const NamespaceInfo& n) const {
    const CgroupCount* first = cgroup_counts.data() + n.cgroup_first;
    return CgroupCounts{first, first + n.cgroup_count};
  }
  // Appends "counts" to cgroup_counts as the member counts of *n.
  void SetCgroupMembers(const std::vector<CgroupCount>& counts,
                        NamespaceInfo* n) {
    n->cgroup_first = static_cast<std::uint32_t>(cgroup_counts.size());
    n->cgroup_count = static_cast<std::uint32_t>(counts.size());
    cgroup_counts.insert(cgroup_counts.end(), counts.begin(), counts.end());
  }
};

}  // namespace nsexp
