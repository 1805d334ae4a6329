// FakeNamespaceOps: a NamespaceOps that answers from a table, for tests.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/namespace_type.h"
#include "base/status.h"
#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"

namespace nsexp {

// What the fake says about one namespace, keyed by its inode.
struct FakeNamespace {
  NamespaceType type = NamespaceType::kUser;
  // NS_GET_PARENT: the parent's inode; nullopt answers kPermissionDenied
  // (the top of the visible tree). Ignored for non-hierarchical types,
  // which get kInvalidArgument as from the kernel's EINVAL.
  std::optional<std::uint64_t> parent;
  // NS_GET_USERNS: the owning user namespace; nullopt answers
  // kPermissionDenied (owner outside the caller's view).
  std::optional<std::uint64_t> owner;
  // NS_GET_OWNER_UID, for user namespaces.
  uid_t owner_uid = 0;
  // NS_GET_ID; nullopt answers kUnsupported (a kernel before 6.18).
  std::optional<std::uint64_t> id;
  // Open() fails with kNotFound this many times before it succeeds: a member
  // process that exits between readlink and open.
  int open_not_found = 0;
  // Open() always fails with this, when set (kPermissionDenied, ...).
  std::optional<Status> open_error;
  // Parent(), Owner() and OwnerUid() fail with this, when set: an ioctl
  // that fails with an errno the kernel does not document for it (EIO,
  // ENOTTY, EINVAL on a hierarchical type, ...).
  std::optional<Status> relation_error;
};

// Answers every NamespaceOps call by inode from a table and counts the
// calls, in total and per inode. Handles carry no descriptor. An inode not
// in the table answers kIoError, which a test sees in ScanStats::other.
// Not thread-safe.
class FakeNamespaceOps final : public NamespaceOps {
 public:
  struct Calls {
    int open = 0;
    int open_mounted = 0;
    int open_at = 0;
    int parent = 0;
    int owner = 0;
    int owner_uid = 0;
    int id = 0;
    int open_process = 0;
    int open_socket = 0;
    // Parent + Owner + OwnerUid: the ioctls the cache is meant to save.
    int relations() const { return parent + owner + owner_uid; }
  };

  // Adds or replaces the entry for "inode".
  void Set(std::uint64_t inode, FakeNamespace ns) {
    table_[inode] = std::move(ns);
  }
  FakeNamespace& at(std::uint64_t inode) { return table_.at(inode); }

  // Says that socket "socket_inode" was created in net namespace "netns"
  // (an inode of the table), for OpenSocketNamespace().
  void SetSocket(std::uint64_t socket_inode, std::uint64_t netns) {
    sockets_[socket_inode] = netns;
  }
  // Makes OpenSocketNamespace() of "socket_inode" fail with "error".
  void SetSocketError(std::uint64_t socket_inode, Status error) {
    socket_errors_[socket_inode] = std::move(error);
  }
  // Makes every OpenProcess() fail with "error" (kUnsupported: an old
  // kernel).
  void SetProcessError(Status error) { process_error_ = std::move(error); }
  // The (pid, fd) pairs OpenSocketNamespace() was asked about, in order;
  // the pid is the one last passed to OpenProcess().
  const std::vector<std::pair<int, int>>& socket_fds() const {
    return socket_fds_;
  }

  const Calls& total() const { return total_; }
  Calls calls(std::uint64_t inode) const {
    auto it = per_inode_.find(inode);
    return it == per_inode_.end() ? Calls() : it->second;
  }
  void ResetCalls() {
    total_ = Calls();
    per_inode_.clear();
    mount_points_.clear();
    open_at_names_.clear();
    socket_fds_.clear();
  }
  // The mount points OpenMounted() was asked about, in order.
  const std::vector<std::string>& mount_points() const { return mount_points_; }

  Status Open(int ns_dir, const NamespaceLink& link, NsHandle* out) override {
    (void)ns_dir;
    ++total_.open;
    ++per_inode_[link.inode].open;
    FakeNamespace* ns = Find(link.inode);
    if (ns == nullptr) return Unknown(link.inode);
    if (ns->type != link.type) {
      return Status::InvalidArgument("fake: type mismatch");
    }
    if (ns->open_error) return *ns->open_error;
    if (ns->open_not_found > 0) {
      --ns->open_not_found;
      return Status::NotFound("fake: process exited");
    }
    out->fd.Reset();
    out->type = link.type;
    out->inode = link.inode;
    return Status::Ok();
  }

  // Answers as Open() does, by the inode mountinfo named.
  Status OpenMounted(const ProcFs& procfs, const std::string& pid,
                     const NsfsMount& mount, NsHandle* out) override {
    (void)procfs;
    (void)pid;
    ++total_.open_mounted;
    ++per_inode_[mount.link.inode].open_mounted;
    mount_points_.push_back(mount.mount_point);
    FakeNamespace* ns = Find(mount.link.inode);
    if (ns == nullptr) return Unknown(mount.link.inode);
    if (ns->type != mount.link.type) {
      return Status::InvalidArgument("fake: type mismatch");
    }
    if (ns->open_error) return *ns->open_error;
    out->fd.Reset();
    out->type = mount.link.type;
    out->inode = mount.link.inode;
    return Status::Ok();
  }

  // Answers as Open() does, by the inode readlink named; records the name.
  Status OpenAt(int dir_fd, const std::string& name, const NamespaceLink& link,
                NsHandle* out) override {
    (void)dir_fd;
    ++total_.open_at;
    ++per_inode_[link.inode].open_at;
    open_at_names_.push_back(name);
    FakeNamespace* ns = Find(link.inode);
    if (ns == nullptr) return Unknown(link.inode);
    if (ns->type != link.type) {
      return Status::InvalidArgument("fake: type mismatch");
    }
    if (ns->open_error) return *ns->open_error;
    out->fd.Reset();
    out->type = link.type;
    out->inode = link.inode;
    return Status::Ok();
  }
  // The names OpenAt() was asked to open, in order.
  const std::vector<std::string>& open_at_names() const {
    return open_at_names_;
  }

  // A pidfd that is no descriptor: *out is left invalid, and the PID is
  // remembered for socket_fds().
  Status OpenProcess(pid_t pid, UniqueFd* out) override {
    ++total_.open_process;
    if (process_error_) return *process_error_;
    out->Reset();
    last_pid_ = pid;
    return Status::Ok();
  }

  // Answers from SetSocket() and SetSocketError() by socket inode; an
  // unknown socket answers kNotFound (closed meanwhile).
  Status OpenSocketNamespace(int pidfd, int fd, std::uint64_t socket_inode,
                             NsHandle* out) override {
    (void)pidfd;
    ++total_.open_socket;
    socket_fds_.emplace_back(last_pid_, fd);
    auto err = socket_errors_.find(socket_inode);
    if (err != socket_errors_.end()) return err->second;
    auto it = sockets_.find(socket_inode);
    if (it == sockets_.end()) return Status::NotFound("fake: no socket");
    out->fd.Reset();
    out->type = NamespaceType::kNet;
    out->inode = it->second;
    return Status::Ok();
  }

  Status Parent(const NsHandle& handle, NsHandle* out) override {
    ++total_.parent;
    ++per_inode_[handle.inode].parent;
    FakeNamespace* ns = Find(handle.inode);
    if (ns == nullptr) return Unknown(handle.inode);
    if (ns->relation_error) return *ns->relation_error;
    if (!IsHierarchical(ns->type)) {
      return Status::InvalidArgument("fake: NS_GET_PARENT on a flat type");
    }
    if (!ns->parent) return Status::PermissionDenied("fake: top");
    out->type = ns->type;
    out->inode = *ns->parent;
    return Status::Ok();
  }

  Status Owner(const NsHandle& handle, NsHandle* out) override {
    ++total_.owner;
    ++per_inode_[handle.inode].owner;
    FakeNamespace* ns = Find(handle.inode);
    if (ns == nullptr) return Unknown(handle.inode);
    if (ns->relation_error) return *ns->relation_error;
    if (!ns->owner) return Status::PermissionDenied("fake: owner hidden");
    out->type = NamespaceType::kUser;
    out->inode = *ns->owner;
    return Status::Ok();
  }

  Status OwnerUid(const NsHandle& handle, uid_t* out) override {
    ++total_.owner_uid;
    ++per_inode_[handle.inode].owner_uid;
    FakeNamespace* ns = Find(handle.inode);
    if (ns == nullptr) return Unknown(handle.inode);
    if (ns->relation_error) return *ns->relation_error;
    if (ns->type != NamespaceType::kUser) {
      return Status::InvalidArgument("fake: NS_GET_OWNER_UID on non-user");
    }
    *out = ns->owner_uid;
    return Status::Ok();
  }

  Status Id(const NsHandle& handle, std::uint64_t* out) override {
    ++total_.id;
    ++per_inode_[handle.inode].id;
    FakeNamespace* ns = Find(handle.inode);
    if (ns == nullptr) return Unknown(handle.inode);
    if (!ns->id) return Status::Unsupported("fake: no NS_GET_ID");
    *out = *ns->id;
    return Status::Ok();
  }

 private:
  FakeNamespace* Find(std::uint64_t inode) {
    auto it = table_.find(inode);
    return it == table_.end() ? nullptr : &it->second;
  }
  static Status Unknown(std::uint64_t inode) {
    return Status::IoError("fake: unknown inode " + std::to_string(inode));
  }

  std::map<std::uint64_t, FakeNamespace> table_;
  Calls total_;
  std::map<std::uint64_t, Calls> per_inode_;
  std::vector<std::string> mount_points_;
  std::vector<std::string> open_at_names_;
  std::map<std::uint64_t, std::uint64_t> sockets_;
  std::map<std::uint64_t, Status> socket_errors_;
  std::optional<Status> process_error_;
  pid_t last_pid_ = 0;
  std::vector<std::pair<int, int>> socket_fds_;
};

}  // namespace nsexp
