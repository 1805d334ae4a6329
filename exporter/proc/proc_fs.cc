// ProcFs: reading /proc, kept apart from the parsers below it.
#include "proc/proc_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <functional>
#include <utility>

namespace nsexp {

namespace {

// Parses an unsigned decimal that fills "s" entirely. std::from_chars
// accepts a leading '-' for signed types (pid_t), so require a digit first.
template <typename T>
bool ParseDecimal(std::string_view s, T* out) {
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The name of a type's link in /proc/PID/ns, as a C string for the *at()
// calls; built once from the kernel names of base/namespace_type.h.
const char* NamespaceLinkName(NamespaceType type) {
  static const std::array<std::string, kNamespaceTypeCount> kNames = [] {
    std::array<std::string, kNamespaceTypeCount> names;
    for (NamespaceType t : kAllNamespaceTypes) {
      names[TypeIndex(t)] = std::string(NamespaceTypeName(t));
    }
    return names;
  }();
  return kNames[TypeIndex(type)].c_str();
}

// Kernel dirent as getdents64(2) returns it.
struct LinuxDirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];  // NUL-terminated, d_reclen bounds the record
};

}  // namespace

std::optional<NamespaceLink> ParseNamespaceLink(std::string_view target) {
  const std::size_t colon = target.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto type = ParseNamespaceType(target.substr(0, colon));
  if (!type) return std::nullopt;
  std::string_view rest = target.substr(colon + 1);
  if (rest.size() < 3 || rest.front() != '[' || rest.back() != ']') {
    return std::nullopt;
  }
  rest = rest.substr(1, rest.size() - 2);
  std::uint64_t inode = 0;
  if (!ParseDecimal(rest, &inode) || inode == 0) return std::nullopt;
  return NamespaceLink{*type, inode};
}

std::optional<NamespaceLink> ParseFdLink(std::string_view target) {
  if (target.size() > kMaxNamespaceLinkSize) return std::nullopt;
  return ParseNamespaceLink(target);
}

Status ParseProcessStatus(std::string_view text, ProcessStatus* out) {
  *out = ProcessStatus();
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text =
        nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = line.substr(colon + 1);
    if (key == "Name") {
      // The kernel writes the comm with tab/newline escaped; keep the bytes.
      std::string_view v = value;
      while (!v.empty() && (v.front() == '\t' || v.front() == ' ')) {
        v.remove_prefix(1);
      }
      out->name.assign(v);
    } else if (key == "PPid") {
      if (!ParseDecimal(Trim(value), &out->ppid)) {
        return Status::InvalidArgument("malformed PPid line");
      }
    } else if (key == "Uid") {
      std::string_view v = Trim(value);
      const std::size_t end = v.find_first_of(" \t");
      uid_t uid = 0;
      if (!ParseDecimal(v.substr(0, end), &uid)) {
        return Status::InvalidArgument("malformed Uid line");
      }
      out->uid = uid;
    } else if (key == "NStgid") {
      std::string_view v = Trim(value);
      std::vector<pid_t> ids;
      while (!v.empty()) {
        const std::size_t end = v.find_first_of(" \t");
        pid_t id = 0;
        if (!ParseDecimal(v.substr(0, end), &id)) {
          return Status::InvalidArgument("malformed NStgid line");
        }
        ids.push_back(id);
        if (end == std::string_view::npos) break;
        v = Trim(v.substr(end));
      }
      if (ids.empty()) return Status::InvalidArgument("empty NStgid line");
      out->nstgid = std::move(ids);
    }
  }
  return Status::Ok();
}

std::optional<ProcessStat> ParseProcessStat(std::string_view stat_text) {
  const std::size_t close = stat_text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat_text.substr(close + 1);
  // After comm: state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8)
  // flags(9), as proc(5) numbers them.
  ProcessStat stat;
  for (int field = 3; field <= 9; ++field) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const std::size_t end = rest.find(' ');
    const std::string_view value = rest.substr(0, end);
    if (value.empty()) return std::nullopt;
    if (field == 3) {
      if (value.size() != 1) return std::nullopt;
      stat.state = value.front();
    } else if (field == 9) {
      if (!ParseDecimal(value, &stat.flags)) return std::nullopt;
      return stat;
    }
    if (end == std::string_view::npos) return std::nullopt;
    rest = rest.substr(end);
  }
  return std::nullopt;
}

namespace {

// Undoes mountinfo's octal escapes (\040 space, \011 tab, \012 newline,
// \134 backslash).
std::string UnescapeMountField(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 3 < in.size() && in[i + 1] >= '0' &&
        in[i + 1] <= '3' && in[i + 2] >= '0' && in[i + 2] <= '7' &&
        in[i + 3] >= '0' && in[i + 3] <= '7') {
      out.push_back(static_cast<char>(
          (in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

std::vector<NsfsMount> ParseNsfsMounts(std::string_view mountinfo) {
  std::vector<NsfsMount> out;
  while (!mountinfo.empty()) {
    const std::size_t nl = mountinfo.find('\n');
    std::string_view line = mountinfo.substr(0, nl);
    mountinfo = nl == std::string_view::npos ? std::string_view()
                                             : mountinfo.substr(nl + 1);
    // Optional fields end at " - ", then: fstype, source, super options.
    const std::size_t sep = line.find(" - ");
    if (sep == std::string_view::npos) continue;
    std::string_view tail = line.substr(sep + 3);
    if (tail.substr(0, 5) != "nsfs ") continue;
    // Fields: 1 id, 2 parent, 3 major:minor, 4 root, 5 mount point.
    std::string_view head = line.substr(0, sep);
    std::string_view fields[5];
    std::size_t n = 0;
    while (n < 5 && !head.empty()) {
      const std::size_t sp = head.find(' ');
      fields[n++] = head.substr(0, sp);
      head = sp == std::string_view::npos ? std::string_view()
                                          : head.substr(sp + 1);
    }
    if (n < 5) continue;
    const auto link = ParseNamespaceLink(fields[3]);
    if (!link || fields[4].empty()) continue;
    out.push_back(NsfsMount{*link, UnescapeMountField(fields[4])});
  }
  return out;
}

std::vector<CgroupEntry> ParseCgroupFile(std::string_view text) {
  std::vector<CgroupEntry> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text =
        nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const std::size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    const std::size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    CgroupEntry e;
    if (!ParseDecimal(line.substr(0, c1), &e.hierarchy_id)) continue;
    // The path is the rest of the line: it may itself hold ':'.
    const std::string_view path = line.substr(c2 + 1);
    if (path.empty() || path.front() != '/') continue;
    e.controllers = std::string(line.substr(c1 + 1, c2 - c1 - 1));
    e.path = std::string(path);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string_view> CgroupPathsByPreference(
    const std::vector<CgroupEntry>& entries) {
  std::vector<std::string_view> out;
  out.reserve(entries.size());
  for (const CgroupEntry& e : entries) {
    if (e.hierarchy_id == 0) out.push_back(e.path);
  }
  for (const CgroupEntry& e : entries) {
    if (e.hierarchy_id != 0 && e.controllers == "name=systemd") {
      out.push_back(e.path);
    }
  }
  for (const CgroupEntry& e : entries) {
    if (e.hierarchy_id != 0 && e.controllers != "name=systemd") {
      out.push_back(e.path);
    }
  }
  return out;
}

std::optional<std::int64_t> ParseSysctlInteger(std::string_view text) {
  text = Trim(text);
  // One optional '-', then digits. Parsing the sign together with the digits
  // keeps INT64_MIN in range and rejects "--5".
  const std::size_t digits = !text.empty() && text.front() == '-' ? 1 : 0;
  if (text.size() <= digits || text[digits] < '0' || text[digits] > '9') {
    return std::nullopt;
  }
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

namespace {

// ReadSmallFileAt, and with "short_read_ends" ReadSingleRecordFileAt.
Status ReadFileAt(int dir_fd, const char* path, std::size_t limit,
                  bool short_read_ends, std::string* out) {
  UniqueFd fd(::openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return StatusFromErrno(errno, std::string("open ") + path);
  out->clear();
  char buf[4096];
  // Reads past the limit by one buffer at most: a file that is still not at
  // its end there is larger than the limit, an error rather than a silent
  // truncation that would lose what the tail says.
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return StatusFromErrno(errno, std::string("read ") + path);
    }
    if (n == 0) break;
    out->append(buf, static_cast<std::size_t>(n));
    if (out->size() > limit) {
      out->clear();
      return Status::IoError(std::string("read ") + path + ": larger than " +
                             std::to_string(limit) + " bytes");
    }
    if (short_read_ends && static_cast<std::size_t>(n) < sizeof(buf)) break;
  }
  return Status::Ok();
}

}  // namespace

Status ReadSmallFileAt(int dir_fd, const char* path, std::size_t limit,
                       std::string* out) {
  return ReadFileAt(dir_fd, path, limit, false, out);
}

Status ReadSingleRecordFileAt(int dir_fd, const char* path, std::size_t limit,
                              std::string* out) {
  return ReadFileAt(dir_fd, path, limit, true, out);
}

Status ProcFs::Open(const std::string& root, std::unique_ptr<ProcFs>* out) {
  UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return StatusFromErrno(errno, "open procfs root " + root);
  out->reset(new ProcFs(root, std::move(fd)));
  return Status::Ok();
}

namespace {

// Calls sink(value, inode) for each entry of "dir" (an open directory) that
// is a decimal number, in directory order, with getdents64 and a buffer of
// "buf_size" bytes: a few calls list tens of thousands of entries, where
// readdir(3) would make one call per 32 KiB. Heap, not thread_local: a large
// static TLS block makes pthread_create fail for threads with small stacks
// (CivetWeb's workers).
template <typename Sink>
Status ScanNumericEntries(int dir, std::size_t buf_size, const char* what,
                          const Sink& sink) {
  std::unique_ptr<char[]> storage(new char[buf_size]);
  char* buf = storage.get();
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir, buf, buf_size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return StatusFromErrno(errno, std::string("getdents64 ") + what);
    }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
      const char* name = buf + off + offsetof(LinuxDirent64, d_name);
      off += d->d_reclen;
      // No leading zeros: "01" is not an entry the kernel makes.
      if (name[0] < '0' || name[0] > '9') continue;
      if (name[0] == '0' && name[1] != '\0') continue;
      int v = 0;
      if (ParseDecimal(std::string_view(name), &v)) sink(v, d->d_ino);
    }
  }
  return Status::Ok();
}

// The decimal entries of "dir", ascending; see ScanNumericEntries.
Status ListNumericEntries(int dir, std::size_t buf_size, const char* what,
                          std::vector<int>* out) {
  out->clear();
  Status s = ScanNumericEntries(dir, buf_size, what,
                                [out](int v, ino64_t) { out->push_back(v); });
  if (!s.ok()) return s;
  std::sort(out->begin(), out->end());
  return Status::Ok();
}

}  // namespace

Status ProcFs::ListPids(std::vector<pid_t>* pids) const {
  pids->clear();
  UniqueFd dir(
      ::openat(root_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return StatusFromErrno(errno, "open " + root_);
  std::vector<int> entries;
  Status s = ListNumericEntries(dir.get(), std::size_t{256} * 1024,
                                root_.c_str(), &entries);
  if (!s.ok()) return s;
  for (int e : entries) {
    if (e > 0) pids->push_back(e);
  }
  return Status::Ok();
}

Status ProcFs::ListPidEntries(std::vector<PidEntry>* out) const {
  out->clear();
  UniqueFd dir(
      ::openat(root_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return StatusFromErrno(errno, "open " + root_);
  Status s = ScanNumericEntries(
      dir.get(), std::size_t{256} * 1024, root_.c_str(),
      [out](int v, ino64_t ino) {
        if (v > 0) out->push_back(PidEntry{v, static_cast<std::uint64_t>(ino)});
      });
  if (!s.ok()) return s;
  std::sort(out->begin(), out->end(),
            [](const PidEntry& a, const PidEntry& b) { return a.pid < b.pid; });
  return Status::Ok();
}

Status ProcFs::OpenPidNs(pid_t pid, UniqueFd* out) const {
  char name[24];
  const auto [end, ec] = std::to_chars(name, name + sizeof(name) - 4, pid);
  (void)ec;
  std::memcpy(end, "/ns", 4);
  out->Reset(::openat(root_fd_.get(), name,
                      O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!out->valid()) {
    return StatusFromErrno(errno, std::string("open ") + name);
  }
  return Status::Ok();
}

Status ProcFs::ReadNamespaceLinkIn(int ns_dir, NamespaceType type,
                                   NamespaceLink* out) {
  const char* name = NamespaceLinkName(type);
  char buf[64];
  const ssize_t n = ::readlinkat(ns_dir, name, buf, sizeof(buf));
  if (n < 0) return StatusFromErrno(errno, std::string("readlink ") + name);
  const std::string_view target(buf, static_cast<std::size_t>(n));
  const auto link = ParseNamespaceLink(target);
  if (!link || link->type != type) {
    return Status::InvalidArgument(std::string("malformed link ") + name +
                                   " -> " + std::string(target));
  }
  *out = *link;
  return Status::Ok();
}

Status ProcFs::ReadNamespaceLinkNamed(int dir_fd, const char* name,
                                      NamespaceLink* out) {
  char buf[64];
  const ssize_t n = ::readlinkat(dir_fd, name, buf, sizeof(buf));
  if (n < 0) return StatusFromErrno(errno, std::string("readlink ") + name);
  const std::string_view target(buf, static_cast<std::size_t>(n));
  const auto link = ParseNamespaceLink(target);
  if (!link) {
    return Status::InvalidArgument(std::string("malformed link ") + name +
                                   " -> " + std::string(target));
  }
  *out = *link;
  return Status::Ok();
}

namespace {

// Lists the descriptors of the directory "fd_dir" (a /proc/PID/fd handle
// named "path" in messages), ascending, and calls "each" with each one's
// number and link text; those closed since the listing are left out.
Status ForEachFdLink(int fd_dir, const std::string& path,
                     const std::function<void(int, std::string_view)>& each) {
  std::vector<int> fds;
  Status s =
      ListNumericEntries(fd_dir, std::size_t{32} * 1024, path.c_str(), &fds);
  if (!s.ok()) return s;
  for (int fd : fds) {
    char name[16];
    const auto [end, ec] = std::to_chars(name, name + sizeof(name) - 1, fd);
    (void)ec;
    *end = '\0';
    char buf[64];
    const ssize_t n = ::readlinkat(fd_dir, name, buf, sizeof(buf));
    if (n < 0) {
      // Closed since the listing: nothing held any more.
      if (errno == ENOENT) continue;
      return StatusFromErrno(errno, "readlink " + path + "/" + name);
    }
    each(fd, std::string_view(buf, static_cast<std::size_t>(n)));
  }
  return Status::Ok();
}

}  // namespace

std::optional<std::uint64_t> ParseSocketLink(std::string_view target) {
  constexpr std::string_view kPrefix = "socket:[";
  if (target.size() < kPrefix.size() + 2 ||
      target.substr(0, kPrefix.size()) != kPrefix || target.back() != ']') {
    return std::nullopt;
  }
  std::uint64_t inode = 0;
  const std::string_view digits =
      target.substr(kPrefix.size(), target.size() - kPrefix.size() - 1);
  if (!ParseDecimal(digits, &inode) || inode == 0) return std::nullopt;
  return inode;
}

Status ProcFs::ReadNamespaceFds(pid_t pid, UniqueFd* fd_dir,
                                std::vector<NamespaceFd>* out) const {
  out->clear();
  const std::string path = std::to_string(pid) + "/fd";
  fd_dir->Reset(::openat(root_fd_.get(), path.c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd_dir->valid()) return StatusFromErrno(errno, "open " + path);
  return ForEachFdLink(fd_dir->get(), path,
                       [out](int fd, std::string_view target) {
                         const auto link = ParseFdLink(target);
                         if (link) out->push_back(NamespaceFd{fd, *link});
                       });
}

Status ProcFs::ReadSocketFds(pid_t pid, std::vector<SocketFd>* out) const {
  out->clear();
  const std::string path = std::to_string(pid) + "/fd";
  const UniqueFd fd_dir(::openat(root_fd_.get(), path.c_str(),
                                 O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd_dir.valid()) return StatusFromErrno(errno, "open " + path);
  return ForEachFdLink(fd_dir.get(), path,
                       [out](int fd, std::string_view target) {
                         const auto inode = ParseSocketLink(target);
                         if (inode) out->push_back(SocketFd{fd, *inode});
                       });
}

Status ProcFs::ReadSelfPid(pid_t* out) const {
  char buf[32];
  const ssize_t n = ::readlinkat(root_fd_.get(), "self", buf, sizeof(buf));
  if (n < 0) return StatusFromErrno(errno, "readlink self");
  pid_t pid = 0;
  if (!ParseDecimal(std::string_view(buf, static_cast<std::size_t>(n)), &pid)) {
    return Status::InvalidArgument("malformed link self");
  }
  *out = pid;
  return Status::Ok();
}

Status ProcFs::ListTasks(pid_t pid, std::vector<pid_t>* out) const {
  out->clear();
  const std::string path = std::to_string(pid) + "/task";
  UniqueFd dir(::openat(root_fd_.get(), path.c_str(),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return StatusFromErrno(errno, "open " + path);
  std::vector<int> tids;
  Status s = ListNumericEntries(dir.get(), std::size_t{32} * 1024, path.c_str(),
                                &tids);
  if (!s.ok()) return s;
  for (int t : tids) {
    if (t > 0) out->push_back(t);
  }
  return Status::Ok();
}

Status ProcFs::OpenTaskNs(pid_t pid, pid_t tid, UniqueFd* out) const {
  const std::string path =
      std::to_string(pid) + "/task/" + std::to_string(tid) + "/ns";
  out->Reset(::openat(root_fd_.get(), path.c_str(),
                      O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!out->valid()) return StatusFromErrno(errno, "open " + path);
  return Status::Ok();
}

Status ProcFs::OpenNamespaceIn(int ns_dir, NamespaceType type, UniqueFd* out) {
  const char* name = NamespaceLinkName(type);
  out->Reset(::openat(ns_dir, name, O_RDONLY | O_CLOEXEC));
  if (!out->valid()) return StatusFromErrno(errno, std::string("open ") + name);
  return Status::Ok();
}

Status ProcFs::ReadCommOf(pid_t pid, std::string* out) const {
  const std::string path = std::to_string(pid) + "/comm";
  Status s = ReadSingleRecordFileAt(root_fd_.get(), path.c_str(), 256, out);
  if (!s.ok()) return s;
  if (!out->empty() && out->back() == '\n') out->pop_back();
  return Status::Ok();
}

Status ProcFs::ReadStat(pid_t pid, ProcessStat* out) const {
  const std::string path = std::to_string(pid) + "/stat";
  std::string text;
  Status s = ReadSmallFileAt(root_fd_.get(), path.c_str(), 4096, &text);
  if (!s.ok()) return s;
  const auto stat = ParseProcessStat(text);
  if (!stat) return Status::InvalidArgument("malformed " + path);
  *out = *stat;
  return Status::Ok();
}

Status ProcFs::ReadStatus(pid_t pid, ProcessStatus* out) const {
  std::string text;
  const std::string path = std::to_string(pid) + "/status";
  Status s = ReadSmallFileAt(root_fd_.get(), path.c_str(),
                             std::size_t{64} * 1024, &text);
  if (!s.ok()) return s;
  return ParseProcessStatus(text, out);
}

Status ProcFs::ReadCgroupText(pid_t pid, std::string* out) const {
  const std::string path = std::to_string(pid) + "/cgroup";
  return ReadSingleRecordFileAt(root_fd_.get(), path.c_str(),
                                std::size_t{64} * 1024, out);
}

Status ProcFs::ReadCgroups(pid_t pid, std::vector<CgroupEntry>* out) const {
  std::string text;
  Status s = ReadCgroupText(pid, &text);
  if (!s.ok()) return s;
  *out = ParseCgroupFile(text);
  return Status::Ok();
}

Status ProcFs::ReadNamespaceLimit(NamespaceType type, std::int64_t* out) const {
  std::string path = "sys/user/max_";
  path += NamespaceTypeName(type);
  path += "_namespaces";
  std::string text;
  Status s = ReadSmallFileAt(root_fd_.get(), path.c_str(), 64, &text);
  if (!s.ok()) return s;
  const auto v = ParseSysctlInteger(text);
  if (!v) return Status::InvalidArgument("malformed " + path);
  *out = *v;
  return Status::Ok();
}

Status ProcFs::ReadNsfsMounts(const std::string& pid,
                              std::vector<NsfsMount>* out) const {
  std::string text;
  const std::string path = pid + "/mountinfo";
  Status s = ReadSmallFileAt(root_fd_.get(), path.c_str(),
                             std::size_t{16} * 1024 * 1024, &text);
  if (!s.ok()) return s;
  *out = ParseNsfsMounts(text);
  return Status::Ok();
}

Status ProcFs::OpenMountedNamespace(const std::string& pid,
                                    const std::string& mount_point,
                                    UniqueFd* out) const {
  if (mount_point.empty() || mount_point[0] != '/') {
    return Status::InvalidArgument("mount point is not absolute");
  }
  const std::string path = pid + "/root" + mount_point;
  out->Reset(::openat(root_fd_.get(), path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!out->valid()) return StatusFromErrno(errno, "open " + path);
  return Status::Ok();
}

Status ProcFs::ReadFile(const std::string& relative, std::string* out) const {
  return ReadSmallFileAt(root_fd_.get(), relative.c_str(),
                         std::size_t{1024} * 1024, out);
}

}  // namespace nsexp
