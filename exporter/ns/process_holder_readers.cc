// The holder readers that look into each process.
#include "ns/process_holder_readers.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ns/discovery.h"

namespace nsexp {

namespace {

using Opened = std::set<std::pair<NamespaceType, std::uint64_t>>;

// Records one holder of "link" and, when the run has not resolved that
// namespace yet, opens it as "name" relative to "dir_fd".
void Hold(const HolderScope& scope, const NamespaceLink& link, int dir_fd,
          const std::string& name, const std::string& how, Opened* opened,
          HolderFindings* out) {
  ++out->stats.holders;
  out->held.push_back(link);
  if (scope.describe) out->how.push_back(how);
  if (!scope.unresolved(link) || opened->count({link.type, link.inode})) {
    return;
  }
  NsHandle handle;
  const Status s = scope.ops.OpenAt(dir_fd, name, link, &handle);
  if (!s.ok()) {
    CountHolderError(s, &out->stats);
    return;
  }
  opened->insert({link.type, link.inode});
  out->opened.push_back(std::move(handle));
}

}  // namespace

std::string DescribeProcess(const ProcFs& procfs, pid_t pid) {
  std::string comm;
  if (!procfs.ReadCommOf(pid, &comm).ok()) return std::to_string(pid);
  return std::to_string(pid) + " (" + comm + ")";
}

// ---------------------------------------------------------------------------

bool ForChildrenReader::Enabled(const DiscoveryOptions& options) const {
  return options.for_children;
}

void ForChildrenReader::Read(const HolderScope& scope, HolderFindings* out) {
  struct Pair {
    NamespaceType type;
    const char* own;
    const char* children;
  };
  static constexpr Pair kPairs[] = {
      {NamespaceType::kPid, "pid", "pid_for_children"},
      {NamespaceType::kTime, "time", "time_for_children"},
  };
  if (!scope.selected(NamespaceType::kPid) &&
      !scope.selected(NamespaceType::kTime)) {
    return;
  }
  Opened opened;
  for (std::size_t i = 0; i < scope.pids.size(); ++i) {
    const pid_t pid = scope.pids[i];
    UniqueFd ns_dir;
    const Status s = scope.procfs.OpenPidNs(pid, &ns_dir);
    if (!s.ok()) {
      CountHolderError(s, &out->stats);
      continue;
    }
    for (const Pair& p : kPairs) {
      if (!scope.selected(p.type)) continue;
      NamespaceLink child{};
      Status cs =
          ProcFs::ReadNamespaceLinkNamed(ns_dir.get(), p.children, &child);
      // ENOENT: no child namespace yet, no time namespaces, or gone.
      if (cs.IsNotFound()) continue;
      // The walk has read the process's own link already; read it here only
      // where it has not.
      NamespaceLink own{p.type, scope.own_inode ? scope.own_inode(i, p.type)
                                                : std::uint64_t{0}};
      if (cs.ok() && own.inode == 0) {
        cs = ProcFs::ReadNamespaceLinkNamed(ns_dir.get(), p.own, &own);
      }
      if (cs.IsNotFound()) continue;
      if (!cs.ok()) {
        CountHolderError(cs, &out->stats);
        continue;
      }
      if (child == own || child.type != p.type) continue;
      Hold(scope, child, ns_dir.get(), p.children,
           std::string(p.children) + " of " +
               (scope.describe ? DescribeProcess(scope.procfs, pid) : ""),
           &opened, out);
    }
  }
}

// ---------------------------------------------------------------------------

bool ThreadReader::Enabled(const DiscoveryOptions& options) const {
  return options.threads;
}

void ThreadReader::Read(const HolderScope& scope, HolderFindings* out) {
  // The types a thread can have apart from its process.
  static constexpr NamespaceType kTypes[] = {
      NamespaceType::kCgroup, NamespaceType::kIpc,  NamespaceType::kMnt,
      NamespaceType::kNet,    NamespaceType::kTime, NamespaceType::kUts};
  Opened opened;
  std::vector<pid_t> tids;
  for (std::size_t i = 0; i < scope.pids.size(); ++i) {
    const pid_t pid = scope.pids[i];
    const Status ls = scope.procfs.ListTasks(pid, &tids);
    if (!ls.ok()) {
      if (!ls.IsNotFound()) CountHolderError(ls, &out->stats);
      continue;
    }
    if (tids.size() < 2) continue;  // only the main thread
    UniqueFd own_dir;
    if (!scope.procfs.OpenPidNs(pid, &own_dir).ok()) continue;
    // The ptrace read check covers every thread of a process alike: one
    // denial is counted once and ends the process.
    bool denied = false;
    for (pid_t tid : tids) {
      if (denied) break;
      if (tid == pid) continue;
      UniqueFd task_dir;
      const Status ts = scope.procfs.OpenTaskNs(pid, tid, &task_dir);
      if (!ts.ok()) {
        if (!ts.IsNotFound()) CountHolderError(ts, &out->stats);
        continue;
      }
      for (NamespaceType type : kTypes) {
        if (!scope.selected(type)) continue;
        NamespaceLink link{};
        const Status rs =
            ProcFs::ReadNamespaceLinkIn(task_dir.get(), type, &link);
        if (rs.IsNotFound()) continue;  // the thread exited
        if (!rs.ok()) {
          CountHolderError(rs, &out->stats);
          denied = rs.IsPermissionDenied();
          break;
        }
        // The process's own link, as the walk read it or read here; a
        // process whose main thread exited has none to differ from.
        NamespaceLink own{type, scope.own_inode ? scope.own_inode(i, type)
                                                : std::uint64_t{0}};
        if (own.inode == 0 &&
            !ProcFs::ReadNamespaceLinkIn(own_dir.get(), type, &own).ok()) {
          continue;
        }
        if (own == link) continue;
        Hold(scope, link, task_dir.get(), std::string(NamespaceTypeName(type)),
             "thread " + std::to_string(tid) + " of " +
                 (scope.describe ? DescribeProcess(scope.procfs, pid) : ""),
             &opened, out);
      }
    }
  }
}

// ---------------------------------------------------------------------------

bool FdReader::Enabled(const DiscoveryOptions& options) const {
  return options.fds;
}

void FdReader::Read(const HolderScope& scope, HolderFindings* out) {
  pid_t self = 0;
  (void)scope.procfs.ReadSelfPid(&self);
  Opened opened;
  std::vector<NamespaceFd> fds;
  for (pid_t pid : scope.pids) {
    if (pid == self) continue;
    UniqueFd fd_dir;
    const Status s = scope.procfs.ReadNamespaceFds(pid, &fd_dir, &fds);
    if (!s.ok()) {
      CountHolderError(s, &out->stats);
      continue;
    }
    for (const NamespaceFd& f : fds) {
      if (!scope.selected(f.link.type)) continue;
      Hold(scope, f.link, fd_dir.get(), std::to_string(f.fd),
           scope.describe ? "fd " + std::to_string(f.fd) + " of " +
                                DescribeProcess(scope.procfs, pid)
                          : std::string(),
           &opened, out);
    }
  }
}

}  // namespace nsexp
