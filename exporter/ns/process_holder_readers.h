// Holder readers that look into each process: its *_for_children links, its
// threads' ns links and its open file descriptors.
#pragma once

#include "ns/holder_reader.h"

namespace nsexp {

// Finds the pid and time namespaces a process's future children will be in
// (/proc/PID/ns/pid_for_children, time_for_children) where they differ from
// the process's own: after unshare(CLONE_NEWPID), also once the first child
// has exited and no process is left in the namespace. Two readlinks per
// process and type. Links that read ENOENT (no child namespace set up yet,
// or a kernel without time namespaces) are not holders and not errors.
// Stateless; switched on by DiscoveryOptions::for_children.
class ForChildrenReader final : public HolderReader {
 public:
  HolderKind kind() const override { return HolderKind::kForChildren; }
  bool Enabled(const DiscoveryOptions& options) const override;
  void Read(const HolderScope& scope, HolderFindings* out) override;
};

// Finds the namespaces of threads that differ from their process's
// (/proc/PID/task/TID/ns/*): a thread may unshare mnt, net, uts, ipc,
// cgroup and time for itself; user and pid never differ. One getdents per
// process, and six readlinks per thread of a multi-threaded process.
// Stateless; switched on by DiscoveryOptions::threads.
class ThreadReader final : public HolderReader {
 public:
  HolderKind kind() const override { return HolderKind::kThread; }
  bool Enabled(const DiscoveryOptions& options) const override;
  void Read(const HolderScope& scope, HolderFindings* out) override;
};

// Finds namespaces held by an open file descriptor (/proc/PID/fd/N whose
// link reads "<type>:[inode]"), of every process but the exporter itself
// (whose own nsfs descriptors are discovery's handles). One getdents per
// process and one readlink per descriptor. Sockets are not followed to
// their net namespace. Stateless; switched on by DiscoveryOptions::fds.
class FdReader final : public HolderReader {
 public:
  HolderKind kind() const override { return HolderKind::kFd; }
  bool Enabled(const DiscoveryOptions& options) const override;
  void Read(const HolderScope& scope, HolderFindings* out) override;
};

}  // namespace nsexp
