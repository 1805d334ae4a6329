// The real NamespaceOps: ioctl_ns(2) on nsfs file descriptors.
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "ns/namespace_ops.h"

// Debian 12's kernel headers (6.1) stop at NS_GET_OWNER_UID's generation;
// NS_GET_ID arrived in Linux 6.18 (include/uapi/linux/nsfs.h).
#ifndef NS_GET_ID
#define NS_GET_ID _IOR(NSIO, 13, __u64)
#endif

namespace nsexp {

namespace {

Status Describe(int fd, NamespaceType type, NsHandle* out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return StatusFromErrno(errno, "fstat nsfs");
  out->type = type;
  out->inode = static_cast<std::uint64_t>(st.st_ino);
  return Status::Ok();
}

// Runs an ioctl that returns a new namespace fd (O_CLOEXEC, per ioctl_ns(2)).
Status IoctlHandle(const NsHandle& ns, unsigned long request,
                   NamespaceType result_type, const char* what, NsHandle* out) {
  const int fd = ::ioctl(ns.fd.get(), request);
  if (fd < 0) return StatusFromErrno(errno, what);
  out->fd.Reset(fd);
  return Describe(fd, result_type, out);
}

// pidfd_getfd(2) as a Status: EBADF (the fd is closed) is kNotFound.
Status GetFd(int pidfd, int fd, UniqueFd* out) {
  out->Reset(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, fd, 0)));
  if (out->valid()) return Status::Ok();
  const int err = errno;
  if (err == EBADF) return Status::NotFound("pidfd_getfd: fd closed");
  return StatusFromErrno(err, "pidfd_getfd");
}

class RealNamespaceOps final : public NamespaceOps {
 public:
  explicit RealNamespaceOps(const RealNamespaceOpsOptions& options)
      : options_(options) {}

  Status Open(int ns_dir, const NamespaceLink& link, NsHandle* out) override {
    Status s = ProcFs::OpenNamespaceIn(ns_dir, link.type, &out->fd);
    if (!s.ok()) return s;
    // The process may have moved to another namespace since readlink (and
    // the old one's inode gone to a new namespace): ask nothing of a
    // namespace other than the one meant. One fstat per namespace per walk.
    s = Describe(out->fd.get(), link.type, out);
    if (!s.ok()) return s;
    if (out->inode != link.inode) {
      return Status::NotFound("namespace " + std::to_string(link.inode) +
                              " changed between readlink and open");
    }
    return Status::Ok();
  }

  Status OpenMounted(const ProcFs& procfs, const std::string& pid,
                     const NsfsMount& mount, NsHandle* out) override {
    Status s = procfs.OpenMountedNamespace(pid, mount.mount_point, &out->fd);
    if (!s.ok()) return s;
    s = Describe(out->fd.get(), mount.link.type, out);
    if (!s.ok()) return s;
    // The mount may have been replaced between mountinfo and open.
    if (out->inode != mount.link.inode) {
      return Status::NotFound("mount " + mount.mount_point + " changed");
    }
    return Status::Ok();
  }

  Status OpenAt(int dir_fd, const std::string& name, const NamespaceLink& link,
                NsHandle* out) override {
    out->fd.Reset(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC));
    if (!out->fd.valid()) return StatusFromErrno(errno, "open " + name);
    Status s = Describe(out->fd.get(), link.type, out);
    if (!s.ok()) return s;
    // Not cheap to skip: an fd may have been closed and its number reused
    // between readlink and open.
    if (out->inode != link.inode) {
      return Status::NotFound(name + " changed");
    }
    return Status::Ok();
  }

  Status OpenProcess(pid_t pid, UniqueFd* out) override {
    out->Reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!out->valid()) return StatusFromErrno(errno, "pidfd_open");
    return Status::Ok();
  }

  Status OpenSocketNamespace(int pidfd, int fd, std::uint64_t socket_inode,
                             NsHandle* out) override {
    UniqueFd copy;
    Status s = GetFd(pidfd, fd, &copy);
    if (!s.ok()) return s;
    struct stat st {};
    if (::fstat(copy.get(), &st) != 0) {
      return StatusFromErrno(errno, "fstat socket");
    }
    if (!S_ISSOCK(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_ino) != socket_inode) {
      return Status::NotFound("fd " + std::to_string(fd) + " changed");
    }
    const int ns = ::ioctl(copy.get(), SIOCGSKNS);
    if (ns < 0) return StatusFromErrno(errno, "ioctl SIOCGSKNS");
    out->fd.Reset(ns);
    return Describe(ns, NamespaceType::kNet, out);
  }

  Status Parent(const NsHandle& ns, NsHandle* out) override {
    return IoctlHandle(ns, NS_GET_PARENT, ns.type, "ioctl NS_GET_PARENT", out);
  }

  Status Owner(const NsHandle& ns, NsHandle* out) override {
    return IoctlHandle(ns, NS_GET_USERNS, NamespaceType::kUser,
                       "ioctl NS_GET_USERNS", out);
  }

  Status OwnerUid(const NsHandle& ns, uid_t* out) override {
    uid_t uid = 0;
    if (::ioctl(ns.fd.get(), NS_GET_OWNER_UID, &uid) != 0) {
      return StatusFromErrno(errno, "ioctl NS_GET_OWNER_UID");
    }
    *out = uid;
    return Status::Ok();
  }

  Status Id(const NsHandle& ns, std::uint64_t* out) override {
    if (!options_.use_ns_get_id) {
      return Status::Unsupported("ioctl NS_GET_ID: switched off");
    }
    __u64 id = 0;
    if (::ioctl(ns.fd.get(), NS_GET_ID, &id) != 0) {
      const int err = errno;
      // Kernels before 6.18 answer ENOTTY (unknown nsfs ioctl) or EINVAL.
      if (err == ENOTTY || err == EINVAL) {
        return Status::Unsupported("ioctl NS_GET_ID: not in this kernel");
      }
      return StatusFromErrno(err, "ioctl NS_GET_ID");
    }
    *out = id;
    return Status::Ok();
  }

 private:
  const RealNamespaceOpsOptions options_;
};

}  // namespace

std::unique_ptr<NamespaceOps> NewRealNamespaceOps(
    const RealNamespaceOpsOptions& options) {
  return std::make_unique<RealNamespaceOps>(options);
}

}  // namespace nsexp
