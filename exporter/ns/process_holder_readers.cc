// The holder readers that look into each process.
#include "ns/process_holder_readers.h"

#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/logging.h"
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

// ---------------------------------------------------------------------------

namespace {

// The net namespace of the index-th process, as the walk read it or read
// here; 0 when it cannot be read.
std::uint64_t OwnNetInode(const HolderScope& scope, std::size_t index) {
  if (scope.own_inode) {
    const std::uint64_t inode = scope.own_inode(index, NamespaceType::kNet);
    if (inode != 0) return inode;
  }
  UniqueFd ns_dir;
  NamespaceLink own{};
  if (!scope.procfs.OpenPidNs(scope.pids[index], &ns_dir).ok() ||
      !ProcFs::ReadNamespaceLinkIn(ns_dir.get(), NamespaceType::kNet, &own)
           .ok()) {
    return 0;
  }
  return own.inode;
}

}  // namespace

// What one Read() keeps across processes.
struct SocketReader::Run {
  std::unordered_set<std::uint64_t> seen;  // sockets resolved this run
  Opened opened;                           // namespaces handed to discovery
};

bool SocketReader::Enabled(const DiscoveryOptions& options) const {
  return options.sockets;
}

bool SocketReader::DisableIfUnsupported(const Status& s) {
  if (!s.IsUnsupported()) return false;
  disabled_ = true;
  Log(LogLevel::kWarn,
      "socket holders switched off: this kernel lacks pidfd_open, "
      "pidfd_getfd (Linux 5.6) or SIOCGSKNS",
      {{"err", s.ToString()}});
  return true;
}

void SocketReader::Read(const HolderScope& scope, HolderFindings* out) {
  if (disabled_ || !scope.selected(NamespaceType::kNet)) return;
  pid_t self = 0;
  (void)scope.procfs.ReadSelfPid(&self);
  Run run;
  std::vector<SocketFd> sockets;
  for (std::size_t i = 0; i < scope.pids.size() && !disabled_; ++i) {
    if (scope.pids[i] == self) continue;
    const Status s = scope.procfs.ReadSocketFds(scope.pids[i], &sockets);
    if (!s.ok()) {
      CountHolderError(s, &out->stats);
      continue;
    }
    ReadProcess(scope, i, sockets, &run, out);
  }
}

// Resolves the sockets of the index-th process that no process before it
// held; the pidfd is opened at the first of them.
void SocketReader::ReadProcess(const HolderScope& scope, std::size_t index,
                               const std::vector<SocketFd>& sockets, Run* run,
                               HolderFindings* out) {
  const pid_t pid = scope.pids[index];
  UniqueFd pidfd;
  bool opened_pidfd = false;
  std::uint64_t own = 0;
  for (const SocketFd& sock : sockets) {
    if (run->seen.count(sock.inode) != 0) continue;
    if (!opened_pidfd) {
      const Status ps = scope.ops.OpenProcess(pid, &pidfd);
      if (!ps.ok()) {
        if (!DisableIfUnsupported(ps)) CountHolderError(ps, &out->stats);
        return;
      }
      opened_pidfd = true;
    }
    NsHandle netns;
    const Status s =
        scope.ops.OpenSocketNamespace(pidfd.get(), sock.fd, sock.inode, &netns);
    if (!s.ok()) {
      if (DisableIfUnsupported(s)) return;
      CountHolderError(s, &out->stats);
      // A refusal (ptrace or CAP_NET_ADMIN) refuses the next sockets too.
      if (s.IsPermissionDenied()) return;
      continue;
    }
    run->seen.insert(sock.inode);
    if (own == 0) own = OwnNetInode(scope, index);
    if (own == 0 || netns.inode == own) continue;
    const NamespaceLink link{NamespaceType::kNet, netns.inode};
    ++out->stats.holders;
    out->held.push_back(link);
    if (scope.describe) {
      out->how.push_back("socket " + std::to_string(sock.fd) + " of " +
                         DescribeProcess(scope.procfs, pid));
    }
    if (scope.unresolved(link) &&
        run->opened.insert({link.type, link.inode}).second) {
      out->opened.push_back(std::move(netns));
    }
  }
}

}  // namespace nsexp
