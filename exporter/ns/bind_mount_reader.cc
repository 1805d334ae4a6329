// BindMountReader: nsfs mounts from the mountinfo of every mount namespace,
// opened through /proc/PID/root.
#include "ns/bind_mount_reader.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/workers.h"
#include "ns/discovery.h"

namespace nsexp {

namespace {

// Every mount namespace, ascending by inode, with its lowest member PID
// (0: none), from the scope or, when mnt is not collected, from each
// process's mnt link.
std::vector<std::pair<std::uint64_t, pid_t>> MountNamespaces(
    const HolderScope& scope, HolderStats* stats) {
  if (scope.members && scope.selected(NamespaceType::kMnt)) {
    return scope.members(NamespaceType::kMnt);
  }
  std::map<std::uint64_t, pid_t> lowest;
  for (pid_t pid : scope.pids) {
    UniqueFd ns_dir;
    NamespaceLink link{};
    Status s = scope.procfs.OpenPidNs(pid, &ns_dir);
    if (s.ok()) {
      s = ProcFs::ReadNamespaceLinkIn(ns_dir.get(), NamespaceType::kMnt, &link);
    }
    if (!s.ok()) {
      // The walk has counted the process already; a vanished one is normal.
      if (!s.IsNotFound()) CountHolderError(s, stats);
      continue;
    }
    lowest.emplace(link.inode, pid);  // PIDs ascend: the first is lowest
  }
  return {lowest.begin(), lowest.end()};
}

// The nsfs mounts of one mount namespace, as its mountinfo listed them.
struct MountTable {
  Status status;
  std::vector<NsfsMount> mounts;
};

// Reads the mountinfo of every mount namespace that has a member process,
// spread over "workers" threads (each file is a few dozen microseconds of
// the kernel writing every mount's line: the reader's whole cost).
std::vector<MountTable> ReadMountTables(
    const HolderScope& scope,
    const std::vector<std::pair<std::uint64_t, pid_t>>& namespaces) {
  std::vector<MountTable> tables(namespaces.size());
  const std::size_t n = namespaces.size();
  // Below this many files a thread costs more than it saves.
  constexpr std::size_t kPerWorker = 16;
  const std::size_t workers =
      std::max<std::size_t>(std::min(scope.workers, n / kPerWorker), 1);
  RunOnWorkers(workers, [&](std::size_t w) {
    for (std::size_t i = n * w / workers; i < n * (w + 1) / workers; ++i) {
      const pid_t pid = namespaces[i].second;
      if (pid == 0) continue;
      tables[i].status =
          scope.procfs.ReadNsfsMounts(std::to_string(pid), &tables[i].mounts);
    }
  });
  return tables;
}

}  // namespace

std::string BindMountName(std::string_view mount_point) {
  for (std::string_view dir : {"/run/netns/", "/var/run/netns/"}) {
    if (mount_point.substr(0, dir.size()) != dir) continue;
    const std::string_view name = mount_point.substr(dir.size());
    if (name.empty() || name.find('/') != std::string_view::npos) return "";
    return std::string(name);
  }
  return "";
}

bool BindMountReader::Enabled(const DiscoveryOptions& options) const {
  return options.bind_mounts;
}

void BindMountReader::Read(const HolderScope& scope, HolderFindings* out) {
  // A mount that several mount namespaces list (propagation) is opened once.
  std::set<std::pair<NamespaceType, std::uint64_t>> opened;
  // Mount namespaces known to have no process, each counted once: those
  // found before this reader and those this reader finds bind-mounted.
  const std::vector<std::pair<std::uint64_t, pid_t>> namespaces =
      MountNamespaces(scope, &out->stats);
  std::set<std::uint64_t> known;
  for (const auto& entry : namespaces) known.insert(entry.first);
  const std::vector<MountTable> tables = ReadMountTables(scope, namespaces);
  for (std::size_t i = 0; i < namespaces.size(); ++i) {
    const auto& [mnt_inode, pid] = namespaces[i];
    if (pid == 0) {
      ++out->stats.unscanned;
      continue;
    }
    if (!tables[i].status.ok()) {
      CountHolderError(tables[i].status, &out->stats);
      continue;
    }
    const std::string source = std::to_string(pid);
    for (const NsfsMount& m : tables[i].mounts) {
      // A bind-mounted mount namespace that no process is in: its own
      // mountinfo cannot be read.
      if (m.link.type == NamespaceType::kMnt &&
          known.insert(m.link.inode).second) {
        ++out->stats.unscanned;
      }
      if (!scope.selected(m.link.type)) continue;
      ++out->stats.holders;
      out->held.push_back(m.link);
      if (scope.describe) {
        out->how.push_back("bind mount " + m.mount_point + " in mnt:[" +
                           std::to_string(mnt_inode) + "]");
      }
      out->bind_mounts.push_back(BindMountRecord{m.link.type, m.link.inode,
                                                 mnt_inode, m.mount_point,
                                                 BindMountName(m.mount_point)});
      if (!scope.unresolved(m.link) ||
          opened.count({m.link.type, m.link.inode}) != 0) {
        continue;
      }
      NsHandle handle;
      const Status os = scope.ops.OpenMounted(scope.procfs, source, m, &handle);
      if (!os.ok()) {
        CountHolderError(os, &out->stats);
        continue;
      }
      opened.insert({m.link.type, m.link.inode});
      out->opened.push_back(std::move(handle));
    }
  }
}

}  // namespace nsexp
