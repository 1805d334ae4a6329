// Population: processes in fresh namespaces, made with raw clone(2) and
// unshare(2), and torn down with SIGKILL and waitpid(2).
#include "population.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef NS_GET_ID
#define NS_GET_ID _IOR(NSIO, 13, __u64)
#endif

namespace nsexp_test {

namespace {

// One readiness report from a child: who it is and a number it learned
// (a PID as its creator saw it, or a negative errno).
struct Record {
  std::int32_t tag;
  std::int32_t value;
};

enum Tag : std::int32_t {
  kPidInit1 = 1,  // value: PID of the level-2 init in level 1
  kPidInit2 = 2,  // value: PID of the level-3 init in level 2
  kPidInit3 = 3,
  kPidLeaf = 4,  // value: own PID in the innermost namespace
  kUserOuter = 10,
  kUserOuterPeer = 11,
  kUserInner = 12,  // value: 0 or -errno of the uts unshare
  kUserInnerUts = 13,
  kFlatHolder = 20,  // value: 0 or -errno of unshare
  kFlatMember = 21,
  kZombieInit = 30,  // value: 0 or -errno of the mounts
  kThreadLeader = 31,
};

// clone(2) without a new stack: fork semantics with namespace flags. The
// child of a raw clone must use async-signal-safe calls only (no malloc).
pid_t RawClone(unsigned long flags) {
  return static_cast<pid_t>(
      syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

void Report(int fd, std::int32_t tag, std::int32_t value) {
  const Record r{tag, value};
  // 8 bytes is below PIPE_BUF: the write is atomic among many writers.
  (void)!write(fd, &r, sizeof r);
}

// Dies with the creator; a process created by "parent" whose parent is
// already gone exits at once (the PR_SET_PDEATHSIG race of prctl(2)).
void DieWithParent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent > 0 && getppid() != parent) _exit(1);
}

[[noreturn]] void PauseForever() {
  for (;;) pause();
}

void SleepMicros(long us) {
  struct timespec ts = {0, us * 1000};
  nanosleep(&ts, nullptr);
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned long CloneFlag(const std::string& type) {
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "mnt") return CLONE_NEWNS;
  if (type == "net") return CLONE_NEWNET;
  if (type == "time") return CLONE_NEWTIME;
  if (type == "uts") return CLONE_NEWUTS;
  return 0;
}

bool WriteFile(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = write(fd, text.data(), text.size());
  close(fd);
  return n == static_cast<ssize_t>(text.size());
}

}  // namespace

std::uint64_t NsInode(pid_t pid, const std::string& type) {
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
  char buf[128];
  const ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* open_bracket = std::strchr(buf, '[');
  if (open_bracket == nullptr) return 0;
  return std::strtoull(open_bracket + 1, nullptr, 10);
}

std::uint64_t NsStatInode(pid_t pid, const std::string& type) {
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

std::uint64_t NsIoctlId(pid_t pid, const std::string& type) {
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  __u64 id = 0;
  const int rc = ioctl(fd, NS_GET_ID, &id);
  close(fd);
  return rc == 0 ? id : 0;
}

std::vector<pid_t> NsTgid(pid_t pid) {
  std::istringstream in(ReadWhole("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  std::vector<pid_t> out;
  while (std::getline(in, line)) {
    if (line.rfind("NStgid:", 0) != 0) continue;
    std::istringstream fields(line.substr(7));
    long v;
    while (fields >> v) out.push_back(static_cast<pid_t>(v));
  }
  return out;
}

std::vector<pid_t> Children(pid_t pid) {
  const std::string p = std::to_string(pid);
  std::istringstream in(ReadWhole("/proc/" + p + "/task/" + p + "/children"));
  std::vector<pid_t> out;
  long v;
  while (in >> v) out.push_back(static_cast<pid_t>(v));
  std::sort(out.begin(), out.end());
  return out;
}

Population::Population() {
  // Orphaned descendants come back to us, so that Cleanup() reaps them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) == 0) {
    ready_read_ = fds[0];
    ready_write_ = fds[1];
  }
}

Population::~Population() {
  Cleanup();
  if (ready_read_ >= 0) close(ready_read_);
  if (ready_write_ >= 0) close(ready_write_);
}

bool Population::AwaitReady(int count, std::vector<std::int32_t>* values,
                            std::string* why) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<Record> got;
  while (static_cast<int>(got.size()) < count) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      *why = "only " + std::to_string(got.size()) + " of " +
             std::to_string(count) + " processes reported ready";
      return false;
    }
    struct pollfd p = {ready_read_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    Record r;
    if (read(ready_read_, &r, sizeof r) == static_cast<ssize_t>(sizeof r)) {
      got.push_back(r);
    }
  }
  // Sorted by tag, so that callers find values in a fixed order.
  std::stable_sort(
      got.begin(), got.end(),
      [](const Record& a, const Record& b) { return a.tag < b.tag; });
  values->clear();
  for (const Record& r : got) values->push_back(r.value);
  return true;
}

bool Population::MakePidChain(std::string* why) {
  const int w = ready_write_;
  const pid_t b = RawClone(CLONE_NEWPID);
  if (b < 0) {
    *why = std::string("clone(CLONE_NEWPID): ") + std::strerror(errno);
    return false;
  }
  if (b == 0) {
    DieWithParent(0);  // getppid() is 0 for an init: its parent is outside
    const pid_t c = RawClone(CLONE_NEWPID);
    if (c == 0) {
      DieWithParent(0);
      const pid_t d = RawClone(CLONE_NEWPID);
      if (d == 0) {
        DieWithParent(0);
        for (int i = 0; i < 2; ++i) {
          const pid_t e = RawClone(0);
          if (e == 0) {
            DieWithParent(1);
            Report(w, kPidLeaf, static_cast<std::int32_t>(getpid()));
            PauseForever();
          }
        }
        Report(w, kPidInit3, 0);
        PauseForever();
      }
      Report(w, kPidInit2, static_cast<std::int32_t>(d));
      PauseForever();
    }
    Report(w, kPidInit1, static_cast<std::int32_t>(c));
    PauseForever();
  }
  holders_.push_back(b);
  std::vector<std::int32_t> v;
  if (!AwaitReady(5, &v, why)) return false;
  // v: init1's child PID, init2's child PID, 0, leaf, leaf.
  pid_chain = {b};
  pid_in_parent = {b, static_cast<pid_t>(v[0]), static_cast<pid_t>(v[1])};
  for (int level = 1; level < 3; ++level) {
    const std::vector<pid_t> kids = Children(pid_chain.back());
    if (kids.size() != 1) {
      *why = "level " + std::to_string(level) + " init has " +
             std::to_string(kids.size()) + " children, want 1";
      return false;
    }
    pid_chain.push_back(kids[0]);
  }
  pid_leaves = Children(pid_chain.back());
  if (pid_leaves.size() != 2) {
    *why = "innermost init has " + std::to_string(pid_leaves.size()) +
           " children, want 2";
    return false;
  }
  return true;
}

bool Population::MakeUserChain(std::string* why) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) {
    *why = std::string("pipe2: ") + std::strerror(errno);
    return false;
  }
  const pid_t self = getpid();
  const int w = ready_write_;
  const pid_t u1 = RawClone(CLONE_NEWUSER);
  if (u1 < 0) {
    *why = std::string("clone(CLONE_NEWUSER): ") + std::strerror(errno);
    close(go[0]);
    close(go[1]);
    return false;
  }
  if (u1 == 0) {
    DieWithParent(self);
    char byte;
    // Wait until the test has written uid_map and gid_map.
    if (read(go[0], &byte, 1) != 1) _exit(1);
    // Drop to an unprivileged uid of this namespace: the inner namespace's
    // creator (NS_GET_OWNER_UID) is then kInnerCreatorUid, not 0.
    if (syscall(SYS_setresgid, kInnerCreatorUid, kInnerCreatorUid,
                kInnerCreatorUid) != 0 ||
        syscall(SYS_setresuid, kInnerCreatorUid, kInnerCreatorUid,
                kInnerCreatorUid) != 0) {
      Report(w, kUserOuter, -errno);
      _exit(1);
    }
    // A credential change clears the parent-death signal (prctl(2)).
    DieWithParent(self);
    const pid_t me = static_cast<pid_t>(syscall(SYS_getpid));
    // The peer is made after the drop: the parent-death signal is subject
    // to the kill permission check against the dying parent's credentials,
    // so a uid-1000 parent could not kill a uid-0 child.
    const pid_t peer = RawClone(0);
    if (peer == 0) {
      DieWithParent(me);
      Report(w, kUserOuterPeer, 0);
      PauseForever();
    }
    const pid_t u2 = RawClone(CLONE_NEWUSER);
    if (u2 == 0) {
      DieWithParent(me);
      const pid_t inner = static_cast<pid_t>(syscall(SYS_getpid));
      const pid_t uts = RawClone(CLONE_NEWUTS);
      if (uts == 0) {
        DieWithParent(inner);
        Report(w, kUserInnerUts, 0);
        PauseForever();
      }
      Report(w, kUserInner, uts < 0 ? -errno : 0);
      PauseForever();
    }
    Report(w, kUserOuter, u2 < 0 ? -errno : 0);
    PauseForever();
  }
  holders_.push_back(u1);
  close(go[0]);
  const std::string p = "/proc/" + std::to_string(u1);
  // A writer with CAP_SETUID/CAP_SETGID in the parent namespace may map
  // any ids and needs no "setgroups deny" (user_namespaces(7)).
  const bool mapped = WriteFile(p + "/uid_map", "0 0 65536\n") &&
                      WriteFile(p + "/gid_map", "0 0 65536\n");
  const int map_errno = errno;
  (void)!write(go[1], "g", 1);
  close(go[1]);
  if (!mapped) {
    *why = std::string("writing uid_map/gid_map: ") + std::strerror(map_errno);
    return false;
  }
  std::vector<std::int32_t> v;
  if (!AwaitReady(4, &v, why)) return false;
  // v: outer (0 or -errno), outer peer, inner (0 or -errno), inner uts.
  if (v[0] != 0 || v[2] != 0) {
    *why = "nested user namespace: " +
           std::string(std::strerror(-(v[0] != 0 ? v[0] : v[2])));
    return false;
  }
  user_outer_procs = {u1};
  for (pid_t kid : Children(u1)) {
    if (NsInode(kid, "user") == NsInode(u1, "user")) {
      user_outer_procs.push_back(kid);
    } else {
      user_inner_proc = kid;
    }
  }
  std::sort(user_outer_procs.begin(), user_outer_procs.end());
  if (user_inner_proc == 0 || user_outer_procs.size() != 2) {
    *why = "unexpected process tree under the outer user namespace";
    return false;
  }
  const std::vector<pid_t> uts = Children(user_inner_proc);
  if (uts.size() != 1) {
    *why = "no uts namespace holder under the inner user namespace";
    return false;
  }
  user_inner_uts_proc = uts[0];
  return true;
}

bool Population::MakeFlat(const std::string& type, int extra,
                          std::vector<pid_t>* members, std::string* why) {
  const unsigned long flag = CloneFlag(type);
  if (flag == 0) {
    *why = "no flat namespace type " + type;
    return false;
  }
  const pid_t self = getpid();
  const int w = ready_write_;
  const pid_t h = RawClone(0);
  if (h < 0) {
    *why = std::string("clone: ") + std::strerror(errno);
    return false;
  }
  if (h == 0) {
    DieWithParent(self);
    if (unshare(static_cast<int>(flag)) != 0) {
      Report(w, kFlatHolder, -errno);
      for (int i = 0; i < extra; ++i) Report(w, kFlatMember, 0);
      _exit(1);
    }
    const pid_t me = static_cast<pid_t>(syscall(SYS_getpid));
    for (int i = 0; i < extra; ++i) {
      const pid_t c = RawClone(0);
      if (c == 0) {
        DieWithParent(me);
        Report(w, kFlatMember, 0);
        PauseForever();
      }
    }
    Report(w, kFlatHolder, 0);
    PauseForever();
  }
  holders_.push_back(h);
  std::vector<std::int32_t> v;
  if (!AwaitReady(extra + 1, &v, why)) return false;
  if (v[0] != 0) {
    *why = "unshare(" + type + "): " + std::strerror(-v[0]);
    return false;
  }
  members->clear();
  // unshare(CLONE_NEWTIME) moves only children created afterwards
  // (time_for_children); every other type moves the caller too.
  if (type != "time") members->push_back(h);
  for (pid_t kid : Children(h)) members->push_back(kid);
  std::sort(members->begin(), members->end());
  return true;
}

bool Population::StartChurn(std::string* why) {
  const pid_t self = getpid();
  const pid_t h = RawClone(0);
  if (h < 0) {
    *why = std::string("clone: ") + std::strerror(errno);
    return false;
  }
  if (h == 0) {
    DieWithParent(self);
    for (unsigned round = 0;; ++round) {
      pid_t batch[8];
      for (unsigned i = 0; i < 8; ++i) {
        // Every third child gets its own uts and ipc namespaces, so that
        // namespaces (not only processes) appear and vanish.
        const unsigned long flags =
            (round + i) % 3 == 0 ? (CLONE_NEWUTS | CLONE_NEWIPC) : 0;
        batch[i] = RawClone(flags);
        if (batch[i] == 0) {
          SleepMicros(static_cast<long>((round * 7 + i * 300) % 2000));
          _exit(0);
        }
      }
      // Reaping the batch in order leaves early exiters as zombies for a
      // while: /proc/PID still lists them but their ns links are gone.
      for (pid_t c : batch) {
        if (c > 0) waitpid(c, nullptr, 0);
      }
    }
  }
  holders_.push_back(h);
  return true;
}

namespace {

int PauseThread(void*) { PauseForever(); }

// In a process of its own: starts a thread that pauses, then ends the main
// thread alone (exit(2), not exit_group(2)). The process lives on.
[[noreturn]] void LeaderExitsThreadStays(int ready) {
  constexpr std::size_t kStack = 64 * 1024;
  void* stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) _exit(1);
  const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                    CLONE_THREAD | CLONE_SYSVSEM;
  if (clone(PauseThread, static_cast<char*>(stack) + kStack, flags, nullptr) <
      0) {
    _exit(1);
  }
  Report(ready, kThreadLeader, 0);
  for (;;) syscall(SYS_exit, 0);
}

}  // namespace

bool Population::MakeZombiesInOwnPidNamespace(std::string* why) {
  char tmpl[] = "/tmp/nsexp_zombie_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    *why = std::string("mkdtemp: ") + std::strerror(errno);
    return false;
  }
  mount_dir_ = tmpl;
  const int w = ready_write_;
  const pid_t init = RawClone(CLONE_NEWPID | CLONE_NEWNS);
  if (init < 0) {
    *why =
        std::string("clone(CLONE_NEWPID|CLONE_NEWNS): ") + std::strerror(errno);
    return false;
  }
  if (init == 0) {
    DieWithParent(0);
    // Private first, so that the proc mount stays in this namespace.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("proc", tmpl, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0) {
      Report(w, kZombieInit, -errno);
      Report(w, kThreadLeader, 0);
      _exit(1);
    }
    if (RawClone(0) == 0) _exit(0);                   // PID 2: never reaped
    if (RawClone(0) == 0) LeaderExitsThreadStays(w);  // PID 3
    Report(w, kZombieInit, 0);
    PauseForever();
  }
  holders_.push_back(init);
  std::vector<std::int32_t> v;
  if (!AwaitReady(2, &v, why)) return false;
  if (v[0] != 0) {
    *why = std::string("mounting a private proc: ") + std::strerror(-v[0]);
    return false;
  }
  zombie_init = init;
  zombies = Children(init);
  zombie_procfs = "/proc/" + std::to_string(init) + "/root" + mount_dir_;
  if (zombies.size() != 2) {
    *why =
        "the init has " + std::to_string(zombies.size()) + " children, want 2";
    return false;
  }
  // Both become zombies a moment after they report (or exit).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (pid_t z : zombies) {
    while (NsInode(z, "net") != 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        *why = "pid " + std::to_string(z) + " did not become a zombie";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  return true;
}

void Population::Cleanup() {
  for (pid_t h : holders_) kill(h, SIGKILL);
  for (pid_t h : holders_) waitpid(h, nullptr, 0);
  holders_.clear();
  // Descendants die by their parent-death signal and, as orphans, are
  // reparented to this subreaper: reap them until none is left.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const pid_t r = waitpid(-1, nullptr, WNOHANG | __WALL);
    if (r < 0 && errno == ECHILD) break;
    if (r > 0) continue;
    if (std::chrono::steady_clock::now() > deadline) {
      std::string left;
      for (pid_t c : Children(getpid())) {
        left +=
            " " + std::to_string(c) + "(" +
            ReadWhole("/proc/" + std::to_string(c) + "/stat").substr(0, 40) +
            " user " + std::to_string(NsInode(c, "user")) + " uts " +
            std::to_string(NsInode(c, "uts")) + ")";
      }
      std::fprintf(stderr, "population: children still alive after 10 s:%s\n",
                   left.c_str());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The proc mount went with the mount namespace of the init.
  if (!mount_dir_.empty()) {
    rmdir(mount_dir_.c_str());
    mount_dir_.clear();
  }
}

}  // namespace nsexp_test
