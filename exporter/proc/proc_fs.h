// ProcFs: every read of the /proc tree, relative to one root directory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/namespace_type.h"
#include "base/status.h"
#include "base/unique_fd.h"

namespace nsexp {

// One /proc/PID/ns/<type> link: "net:[4026531993]".
struct NamespaceLink {
  NamespaceType type;
  std::uint64_t inode;
  bool operator==(const NamespaceLink& o) const {
    return type == o.type && inode == o.inode;
  }
};

// "net:[4026531993]" -> {kNet, 4026531993}; nullopt for anything malformed
// (unknown type, missing brackets, non-digits, overflow, trailing bytes).
// Pure.
std::optional<NamespaceLink> ParseNamespaceLink(std::string_view target);

// What the tree view needs of /proc/PID/status.
struct ProcessStatus {
  std::string name;           // "Name:" (the comm, escaped by the kernel)
  pid_t ppid = 0;             // "PPid:"
  std::vector<pid_t> nstgid;  // "NStgid:", outermost namespace first
  std::optional<uid_t> uid;   // real uid, first field of "Uid:"
};

// Parses the text of /proc/PID/status. Missing fields stay empty; a field
// that is present but malformed gives kInvalidArgument. Pure.
Status ParseProcessStatus(std::string_view text, ProcessStatus* out);

// What discovery needs of /proc/PID/stat.
struct ProcessStat {
  char state = 0;           // field 3: 'R', 'S', 'Z', ...
  unsigned long flags = 0;  // field 9: PF_* (include/linux/sched.h)

  // PF_KTHREAD: a kernel thread, which lives in the initial namespaces.
  bool kernel_thread() const { return (flags & kPfKthread) != 0; }
  // 'Z': the main thread has exited. Either the whole process has and
  // waits to be reaped, or only its leader thread has while others run;
  // in both cases ns/pid and ns/user still read and the other ns links
  // give ENOENT.
  bool zombie() const { return state == 'Z'; }

  static constexpr unsigned long kPfKthread = 0x00200000;
};

// Parses the text of /proc/PID/stat. The comm field may hold spaces and
// parentheses, so fields are counted from the last ')'. nullopt when the
// state or flags field is missing or malformed. Pure.
std::optional<ProcessStat> ParseProcessStat(std::string_view stat_text);

// A namespace held by a bind mount of its nsfs file (`ip netns add NAME`
// makes /run/netns/NAME), from /proc/PID/mountinfo.
struct NsfsMount {
  NamespaceLink link;
  std::string mount_point;  // unescaped (mountinfo escapes space as \040)
};

// Parses mountinfo text (proc(5)) and returns its nsfs mounts, whose root
// field names the namespace ("net:[4026532562]"). Malformed lines are
// skipped. Pure.
std::vector<NsfsMount> ParseNsfsMounts(std::string_view mountinfo);

// One line of /proc/PID/cgroup (cgroups(7)): "hierarchy-ID:controllers:path".
// Cgroup v2 has one line, "0::/path"; v1 one line per hierarchy. The path is
// relative to the reader's cgroup namespace, so it may start with "/..".
struct CgroupEntry {
  unsigned hierarchy_id = 0;
  std::string controllers;  // "cpu,cpuacct", "name=systemd"; empty for v2
  std::string path;
  bool operator==(const CgroupEntry& o) const {
    return hierarchy_id == o.hierarchy_id && controllers == o.controllers &&
           path == o.path;
  }
};

// Parses the text of /proc/PID/cgroup. Lines without two colons, with a
// non-numeric hierarchy ID or with a path that does not start with '/' are
// skipped. Pure.
std::vector<CgroupEntry> ParseCgroupFile(std::string_view text);

// The paths of "entries" in the order a container is best looked for: the
// v2 path (hierarchy 0) first, then "name=systemd", then the others as
// listed. Views into "entries". Pure.
std::vector<std::string_view> CgroupPathsByPreference(
    const std::vector<CgroupEntry>& entries);

// An open file descriptor whose /proc/PID/fd link names a namespace
// ("net:[4026532562]": an nsfs file held open).
struct NamespaceFd {
  int fd = -1;
  NamespaceLink link{NamespaceType::kUser, 0};
};

// An open file descriptor whose /proc/PID/fd link names a socket
// ("socket:[12345]": the socket's inode in sockfs, unique on the system).
struct SocketFd {
  int fd = -1;
  std::uint64_t inode = 0;
};

// "socket:[12345]" -> 12345; nullopt for anything else (another kind of
// file, missing brackets, non-digits, zero, overflow). Pure.
std::optional<std::uint64_t> ParseSocketLink(std::string_view target);

// One numeric entry of the procfs root: a PID and the inode number that
// getdents64 gives for its directory. A process that reuses a PID gets a
// /proc/PID directory with a new inode, so (pid, inode) names one process;
// the same process may also show a new inode when the kernel dropped its
// cached directory entry in between, which reads as a new process.
struct PidEntry {
  pid_t pid = 0;
  std::uint64_t inode = 0;
};

// The longest target a namespace's nsfs file has: "cgroup:[" (any type
// name is at most six bytes), 20 digits of a 64-bit inode and "]".
inline constexpr std::size_t kMaxNamespaceLinkSize = 29;

// Parses the target of a /proc/PID/fd/N link as readlink(2) returned it,
// possibly cut at the caller's buffer: the namespace of an nsfs file held
// open ("net:[4026532562]", as ParseNamespaceLink), nullopt for every other
// file: sockets ("socket:[123]"), pipes, anonymous inodes
// ("anon_inode:[eventfd]"), paths (which start with '/'), and anything
// longer than kMaxNamespaceLinkSize (a link that a small buffer cut). Pure.
std::optional<NamespaceLink> ParseFdLink(std::string_view target);

// Parses the text of a /proc/sys integer file ("31231\n"). Pure.
std::optional<std::int64_t> ParseSysctlInteger(std::string_view text);

// A /proc tree: "/proc" in production, a fixture tree in tests, or a host's
// /proc mounted elsewhere inside a container. Every access is an *at() call
// relative to the root's descriptor, so the root is resolved once.
// Thread-safe: all methods are const and use no shared mutable state.
class ProcFs {
 public:
  // The production root, used as the default of --path.procfs.
  static constexpr std::string_view kDefaultRoot = "/proc";

  // Opens the tree at "root". Errors: kNotFound if it does not exist or is
  // not a directory; kPermissionDenied; kIoError.
  [[nodiscard]] static Status Open(const std::string& root,
                                   std::unique_ptr<ProcFs>* out);

  ProcFs(const ProcFs&) = delete;
  ProcFs& operator=(const ProcFs&) = delete;

  const std::string& root() const { return root_; }

  // Lists the numeric entries of the root, ascending. Entries that are not
  // all digits are ignored.
  [[nodiscard]] Status ListPids(std::vector<pid_t>* pids) const;

  // Lists the PIDs as ListPids does, each with its directory's inode.
  [[nodiscard]] Status ListPidEntries(std::vector<PidEntry>* out) const;

  // Opens /proc/PID/ns as an O_PATH directory handle, for the walk: reading
  // the links relative to it looks up one path component per link instead
  // of two (measured 8% faster at 10k processes). kNotFound when the process
  // has exited.
  [[nodiscard]] Status OpenPidNs(pid_t pid, UniqueFd* out) const;

  // Reads <type> relative to an OpenPidNs handle. kNotFound: the process
  // (or, for types other than pid and user, its main thread) has exited;
  // kPermissionDenied: the ptrace read check failed; kInvalidArgument: the
  // link text is malformed or names another type.
  [[nodiscard]] static Status ReadNamespaceLinkIn(int ns_dir,
                                                  NamespaceType type,
                                                  NamespaceLink* out);

  // Reads the link "name" relative to "dir_fd" ("pid_for_children" in an
  // OpenPidNs handle, "net" in an OpenTaskNs one) as a namespace link of
  // any type. Errors as ReadNamespaceLinkIn.
  [[nodiscard]] static Status ReadNamespaceLinkNamed(int dir_fd,
                                                     const char* name,
                                                     NamespaceLink* out);

  // Opens /proc/PID/fd as a directory handle into *fd_dir and lists the
  // descriptors whose link names a namespace, ascending by fd; other
  // descriptors (files, sockets, pipes) are left out, and so are those that
  // close while being read. kNotFound when the process has exited;
  // kPermissionDenied when the ptrace read check fails.
  [[nodiscard]] Status ReadNamespaceFds(pid_t pid, UniqueFd* fd_dir,
                                        std::vector<NamespaceFd>* out) const;

  // Lists the descriptors of /proc/PID/fd whose link names a socket,
  // ascending by fd; those that close while being read are left out.
  // Errors as ReadNamespaceFds.
  [[nodiscard]] Status ReadSocketFds(pid_t pid,
                                     std::vector<SocketFd>* out) const;

  // Reads the "self" link of the root: the reading process's PID as this
  // tree numbers it. kNotFound when the tree has no "self" (the reader is
  // not in the pid namespace the tree belongs to).
  [[nodiscard]] Status ReadSelfPid(pid_t* out) const;

  // Lists /proc/PID/task: the thread IDs of a process, ascending, its own
  // PID among them. kNotFound when the process has exited.
  [[nodiscard]] Status ListTasks(pid_t pid, std::vector<pid_t>* out) const;

  // Opens /proc/PID/task/TID/ns as OpenPidNs does for a process.
  [[nodiscard]] Status OpenTaskNs(pid_t pid, pid_t tid, UniqueFd* out) const;

  // Opens <type> relative to an OpenPidNs handle, read-only, for the nsfs
  // ioctls. kNotFound and kPermissionDenied as ReadNamespaceLinkIn.
  [[nodiscard]] static Status OpenNamespaceIn(int ns_dir, NamespaceType type,
                                              UniqueFd* out);

  // Reads /proc/PID/comm, without the newline. kNotFound when the process
  // has exited.
  [[nodiscard]] Status ReadCommOf(pid_t pid, std::string* out) const;

  // Reads and parses /proc/PID/stat. kNotFound when the process has exited
  // (been reaped); kInvalidArgument when the text is malformed.
  [[nodiscard]] Status ReadStat(pid_t pid, ProcessStat* out) const;

  // Reads and parses /proc/PID/status.
  [[nodiscard]] Status ReadStatus(pid_t pid, ProcessStatus* out) const;

  // Reads /proc/PID/cgroup as it is, for callers that keep the text as a
  // key (many processes share one). kNotFound when the process has exited.
  [[nodiscard]] Status ReadCgroupText(pid_t pid, std::string* out) const;

  // Reads and parses /proc/PID/cgroup. kNotFound when the process has
  // exited.
  [[nodiscard]] Status ReadCgroups(pid_t pid,
                                   std::vector<CgroupEntry>* out) const;

  // Reads sys/user/max_<type>_namespaces; kNotFound on kernels without it.
  [[nodiscard]] Status ReadNamespaceLimit(NamespaceType type,
                                          std::int64_t* out) const;

  // Reads "<pid>/mountinfo" ("self" or a number) and returns its nsfs
  // mounts. kNotFound / kPermissionDenied as for any /proc/PID access.
  [[nodiscard]] Status ReadNsfsMounts(const std::string& pid,
                                      std::vector<NsfsMount>* out) const;

  // Opens a bind-mounted namespace file read-only through "<pid>/root",
  // so that the mount point is resolved in that process's mount namespace.
  [[nodiscard]] Status OpenMountedNamespace(const std::string& pid,
                                            const std::string& mount_point,
                                            UniqueFd* out) const;

  // Reads a small file relative to the root ("self/stat"), up to 1 MiB
  // (/proc/stat of a large machine); a larger file is an IoError.
  [[nodiscard]] Status ReadFile(const std::string& relative,
                                std::string* out) const;

 private:
  ProcFs(std::string root, UniqueFd fd)
      : root_(std::move(root)), root_fd_(std::move(fd)) {}

  std::string root_;
  UniqueFd root_fd_;  // O_PATH|O_DIRECTORY; every access is *at() on it
};

// Reads a whole small file relative to "dir_fd". A file larger than "limit"
// bytes is an IoError ("larger than N bytes"), never a truncated read.
[[nodiscard]] Status ReadSmallFileAt(int dir_fd, const char* path,
                                     std::size_t limit, std::string* out);

// ReadSmallFileAt for a file that the kernel hands over whole in one read
// when the buffer is large enough: a regular file, or a /proc file made by
// single_open() (a seq_file of one record, such as /proc/PID/cgroup and
// /proc/PID/comm: seq_read copies all it has and ends). A read shorter than
// the buffer is then the end of the file, and the read that would return 0
// is not made: one system call less per process and scrape.
[[nodiscard]] Status ReadSingleRecordFileAt(int dir_fd, const char* path,
                                            std::size_t limit,
                                            std::string* out);

}  // namespace nsexp
