// Holder readers that look into each process: its *_for_children links, its
// threads' ns links and its open file descriptors.
#pragma once

#include <cstddef>
#include <vector>

#include "ns/holder_reader.h"
#include "proc/proc_fs.h"

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
// their net namespace (SocketReader does that). Stateless; switched on by
// DiscoveryOptions::fds.
class FdReader final : public HolderReader {
 public:
  HolderKind kind() const override { return HolderKind::kFd; }
  bool Enabled(const DiscoveryOptions& options) const override;
  void Read(const HolderScope& scope, HolderFindings* out) override;
};

// Finds the net namespaces that sockets pin (/proc/PID/fd/N whose link
// reads "socket:[inode]"), of every process but the exporter itself. Each
// socket is resolved once per run however many fds and processes share it:
// a pidfd of the first process found holding it (pidfd_open), a copy of
// the socket (pidfd_getfd), SIOCGSKNS on the copy; every descriptor is
// closed as soon as it has been read, so a run holds at most three at a
// time besides the namespaces it opens for discovery. A socket counts as a
// holder only where its namespace differs from the net namespace of that
// first process: a socket in its own process's namespace pins nothing the
// process does not pin already, so only those that keep an otherwise
// processless (or foreign) namespace alive are counted. One getdents per
// process, one readlink per fd, and the three system calls per socket.
//
// Needs ptrace access to each process (CAP_SYS_PTRACE) and CAP_NET_ADMIN
// over each socket's net namespace; refusals count as permission_denied
// (one per process: the next sockets of a refused process are not tried).
// A kernel without pidfd_getfd (before 5.6) switches the reader off for the
// object's lifetime, with one warning in the log. Switched on by
// DiscoveryOptions::sockets.
class SocketReader final : public HolderReader {
 public:
  HolderKind kind() const override { return HolderKind::kSocket; }
  bool Enabled(const DiscoveryOptions& options) const override;
  void Read(const HolderScope& scope, HolderFindings* out) override;

 private:
  struct Run;
  void ReadProcess(const HolderScope& scope, std::size_t index,
                   const std::vector<SocketFd>& sockets, Run* run,
                   HolderFindings* out);
  // True, and the reader switched off, when "s" says the kernel lacks a
  // system call the reader needs.
  bool DisableIfUnsupported(const Status& s);

  bool disabled_ = false;
};

}  // namespace nsexp
