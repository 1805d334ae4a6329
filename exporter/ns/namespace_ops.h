// NamespaceOps: the seam in front of the nsfs ioctls (ioctl_ns(2)).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/namespace_type.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "proc/proc_fs.h"

namespace nsexp {

// An open reference to one namespace. "fd" is the nsfs file descriptor for
// the real implementation; a fake may leave it invalid and go by "inode".
struct NsHandle {
  UniqueFd fd;
  NamespaceType type = NamespaceType::kUser;
  std::uint64_t inode = 0;
};

// The questions discovery asks the kernel about one namespace. Fixture trees
// cannot answer ioctls, so tests replace this with a fake.
// Implementations must be safe to call from one thread at a time per
// instance; the real one is stateless and fully thread-safe.
class NamespaceOps {
 public:
  virtual ~NamespaceOps() = default;

  // Opens the namespace that <link.type> of a ProcFs::OpenPidNs handle
  // refers to. "link" is what readlink said, for implementations that go
  // by inode. Errors as ProcFs::OpenNamespaceIn.
  [[nodiscard]] virtual Status Open(int ns_dir, const NamespaceLink& link,
                                    NsHandle* out) = 0;

  // Opens a namespace held by a bind mount, as "pid" ("self" or a number)
  // sees its mount point. The default answers kUnsupported, for fakes that
  // have no mounts.
  [[nodiscard]] virtual Status OpenMounted(const ProcFs& procfs,
                                           const std::string& pid,
                                           const NsfsMount& mount,
                                           NsHandle* out) {
    (void)procfs;
    (void)pid;
    (void)mount;
    (void)out;
    return Status::Unsupported("no bind-mounted namespaces");
  }

  // Opens the nsfs file "name" relative to the directory "dir_fd" (a
  // /proc/PID/ns or /proc/PID/task/TID/ns handle with "pid_for_children"
  // or "net", a /proc/PID/fd handle with "3"), expecting the namespace
  // "link" that readlink named there. kNotFound when it is gone or now
  // names another namespace. The default answers kUnsupported, for fakes.
  [[nodiscard]] virtual Status OpenAt(int dir_fd, const std::string& name,
                                      const NamespaceLink& link,
                                      NsHandle* out) {
    (void)dir_fd;
    (void)name;
    (void)link;
    (void)out;
    return Status::Unsupported("no namespace files");
  }

  // Opens a pidfd for "pid" (pidfd_open(2)), as the exporter's pid
  // namespace numbers it, for OpenSocketNamespace(). kNotFound when the
  // process has exited; kUnsupported before Linux 5.3. The default answers
  // kUnsupported, for fakes without sockets.
  [[nodiscard]] virtual Status OpenProcess(pid_t pid, UniqueFd* out) {
    (void)pid;
    (void)out;
    return Status::Unsupported("no processes to open");
  }

  // Opens the net namespace that socket "fd" of the process behind "pidfd"
  // was created in: a copy of the socket by pidfd_getfd(2), SIOCGSKNS on it
  // (socket(7)), the copy closed before returning. "socket_inode" is what
  // readlink named; a copy that is another file (the fd was closed and its
  // number reused, or the pidfd names another process) answers kNotFound,
  // as does a closed fd or an exited process. kPermissionDenied when the
  // ptrace attach check fails (pidfd_getfd) or without CAP_NET_ADMIN over
  // the socket's namespace (SIOCGSKNS); kUnsupported before Linux 5.6. The
  // default answers kUnsupported, for fakes without sockets.
  [[nodiscard]] virtual Status OpenSocketNamespace(int pidfd, int fd,
                                                   std::uint64_t socket_inode,
                                                   NsHandle* out) {
    (void)pidfd;
    (void)fd;
    (void)socket_inode;
    (void)out;
    return Status::Unsupported("no sockets");
  }

  // NS_GET_PARENT, for pid and user namespaces. kPermissionDenied means the
  // top of the visible hierarchy (the initial namespace, or a parent outside
  // the caller's view: the kernel does not tell the two apart).
  [[nodiscard]] virtual Status Parent(const NsHandle& ns, NsHandle* out) = 0;

  // NS_GET_USERNS: the owning user namespace (for a user namespace, its
  // parent). kPermissionDenied when the owner is outside the caller's view.
  [[nodiscard]] virtual Status Owner(const NsHandle& ns, NsHandle* out) = 0;

  // NS_GET_OWNER_UID, for user namespaces: the creator's uid as seen by the
  // caller.
  [[nodiscard]] virtual Status OwnerUid(const NsHandle& ns, uid_t* out) = 0;

  // NS_GET_ID (Linux 6.18): the 64-bit id, never reused within a boot.
  // kUnsupported on older kernels.
  [[nodiscard]] virtual Status Id(const NsHandle& ns, std::uint64_t* out) = 0;
};

// Options of the kernel-backed implementation.
struct RealNamespaceOpsOptions {
  // Ask the kernel NS_GET_ID. False makes Id() answer kUnsupported as
  // kernels before 6.18 do, so that tests on newer kernels also exercise
  // discovery without ids.
  bool use_ns_get_id = true;
};

// The kernel-backed implementation. Thread-safe.
std::unique_ptr<NamespaceOps> NewRealNamespaceOps(
    const RealNamespaceOpsOptions& options = RealNamespaceOpsOptions());

}  // namespace nsexp
