// The holder readers against real holders that the test makes: a bind
// mount from `ip netns add`, a bind mount inside a private mount namespace,
// a net namespace held only by an fd, a net namespace held only by a socket,
// a thread in its own net namespace, and pid_for_children after the
// namespace's first process exited. Root only.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "population.h"
#include "proc/proc_fs.h"

namespace {

using nsexp::HolderKind;
using nsexp::NamespaceGraph;
using nsexp::NamespaceInfo;
using nsexp::NamespaceType;
using nsexp_test::NsInode;

#define REQUIRE_ROOT()                                                      \
  do {                                                                      \
    if (geteuid() != 0) {                                                   \
      GTEST_SKIP() << "needs root: the test makes namespaces and mounts "   \
                      "and reads other processes' /proc/PID/fd and mounts"; \
    }                                                                       \
  } while (0)

std::size_t At(HolderKind k) { return static_cast<std::size_t>(k); }

// A child process that runs "setup", reports one number (an inode, or 0 on
// failure) through a pipe and then waits to be killed; killed and reaped by
// the destructor.
class Holder {
 public:
  explicit Holder(const std::function<std::uint64_t()>& setup) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[0]);
      const std::uint64_t v = setup();
      (void)!write(fds[1], &v, sizeof(v));
      for (;;) pause();
    }
    close(fds[1]);
    if (pid_ > 0 && read(fds[0], &value_, sizeof(value_)) != sizeof(value_)) {
      value_ = 0;
    }
    close(fds[0]);
  }
  ~Holder() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  pid_t pid() const { return pid_; }
  std::uint64_t value() const { return value_; }

 private:
  pid_t pid_ = -1;
  std::uint64_t value_ = 0;
};

std::uint64_t SelfLinkInode(const char* name) {
  struct stat st {};
  const std::string path = std::string("/proc/self/ns/") + name;
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_ino);
}

// Discovers with every holder reader on; sockets too with "sockets".
void Discover(NamespaceGraph* g, bool sockets = false) {
  std::unique_ptr<nsexp::ProcFs> procfs;
  ASSERT_TRUE(nsexp::ProcFs::Open("/proc", &procfs).ok());
  auto ops = nsexp::NewRealNamespaceOps();
  nsexp::Discoverer d(procfs.get(), ops.get());
  nsexp::DiscoveryOptions opts;
  opts.threads = true;
  opts.fds = true;
  opts.for_children = true;
  opts.sockets = sockets;
  opts.collect_members = true;
  const nsexp::Status s = d.Discover(opts, g);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(g->stats.other, 0u) << g->stats.first_other;
  for (const nsexp::HolderStats& h : g->stats.holders) {
    EXPECT_EQ(h.other, 0u) << h.kind << ": " << h.first_error;
  }
}

const NamespaceInfo* Find(const NamespaceGraph& g, NamespaceType t,
                          std::uint64_t inode) {
  const NamespaceInfo* n = g.Find(t, inode);
  EXPECT_NE(n, nullptr) << "not found: " << inode;
  return n;
}

TEST(HoldersIntegrationTest, IpNetnsAddIsNamedWithItsMountNamespace) {
  REQUIRE_ROOT();
  if (system("ip -V >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs ip(8) from iproute2";
  }
  const std::string name = "nsexp-holders-" + std::to_string(getpid());
  ASSERT_EQ(system(("ip netns add " + name).c_str()), 0);
  struct stat st {};
  ASSERT_EQ(stat(("/run/netns/" + name).c_str(), &st), 0);
  const std::uint64_t inode = st.st_ino;
  NamespaceGraph g;
  Discover(&g);
  (void)system(("ip netns delete " + name).c_str());
  const NamespaceInfo* n = Find(g, NamespaceType::kNet, inode);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->processes, 0u);
  EXPECT_GE(n->holders[At(HolderKind::kBindMount)], 1u);
  EXPECT_NE(n->held_by.find("bind mount /run/netns/" + name), std::string::npos)
      << n->held_by;
  bool found = false;
  for (const nsexp::BindMountRecord& b : g.bind_mounts) {
    if (b.inode != inode || b.mount_ns_inode != SelfLinkInode("mnt")) continue;
    found = true;
    EXPECT_EQ(b.name, name);
    EXPECT_EQ(b.path, "/run/netns/" + name);
    EXPECT_EQ(b.type, NamespaceType::kNet);
  }
  EXPECT_TRUE(found) << "no bind mount record in this mount namespace";
}

TEST(HoldersIntegrationTest, BindMountInAPrivateMountNamespace) {
  REQUIRE_ROOT();
  char dir[] = "/tmp/nsexp-holders-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string target = std::string(dir) + "/uts";
  // The child makes a private mount namespace with a tmpfs on "dir", and a
  // grandchild in a new uts namespace bind-mounts its uts file there and
  // exits: only that mount, visible only in the child's mount namespace,
  // holds the uts namespace.
  Holder h([&]() -> std::uint64_t {
    if (unshare(CLONE_NEWNS) != 0) return 0;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      return 0;
    }
    if (mount("tmpfs", dir, "tmpfs", 0, nullptr) != 0) return 0;
    const int f = open(target.c_str(), O_CREAT | O_WRONLY, 0600);
    if (f < 0) return 0;
    close(f);
    const pid_t gc = fork();
    if (gc == 0) {
      if (unshare(CLONE_NEWUTS) != 0) _exit(1);
      _exit(mount("/proc/self/ns/uts", target.c_str(), nullptr, MS_BIND,
                  nullptr) == 0
                ? 0
                : 1);
    }
    int status = 0;
    if (waitpid(gc, &status, 0) != gc || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      return 0;
    }
    struct stat st {};
    return stat(target.c_str(), &st) == 0 ? st.st_ino : 0;
  });
  ASSERT_NE(h.value(), 0u) << "setting up the private mount failed";
  NamespaceGraph g;
  Discover(&g);
  const std::uint64_t mnt = NsInode(h.pid(), "mnt");
  EXPECT_NE(mnt, SelfLinkInode("mnt"));
  const NamespaceInfo* n = Find(g, NamespaceType::kUts, h.value());
  if (n != nullptr) {
    EXPECT_EQ(n->processes, 0u);
    EXPECT_EQ(n->holders[At(HolderKind::kBindMount)], 1u);
    EXPECT_EQ(n->held_by,
              "bind mount " + target + " in mnt:[" + std::to_string(mnt) + "]");
  }
  bool found = false;
  for (const nsexp::BindMountRecord& b : g.bind_mounts) {
    if (b.inode != h.value()) continue;
    found = true;
    EXPECT_EQ(b.mount_ns_inode, mnt);
    EXPECT_EQ(b.path, target);
    EXPECT_EQ(b.name, "");
  }
  EXPECT_TRUE(found);
  rmdir(dir);
}

TEST(HoldersIntegrationTest, NetNamespaceHeldOnlyByAnFd) {
  REQUIRE_ROOT();
  // The child enters a new net namespace, keeps an fd to it, and goes back.
  Holder h([]() -> std::uint64_t {
    const int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0 || unshare(CLONE_NEWNET) != 0) return 0;
    const int held = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (held < 0 || fstat(held, &st) != 0) return 0;
    if (setns(home, CLONE_NEWNET) != 0) return 0;
    close(home);
    return st.st_ino;
  });
  ASSERT_NE(h.value(), 0u);
  EXPECT_NE(NsInode(h.pid(), "net"), h.value());
  NamespaceGraph g;
  Discover(&g);
  const NamespaceInfo* n = Find(g, NamespaceType::kNet, h.value());
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->processes, 0u);
  EXPECT_EQ(n->holders[At(HolderKind::kFd)], 1u);
  EXPECT_EQ(n->held_by.rfind("fd ", 0), 0u) << n->held_by;
  EXPECT_NE(n->held_by.find(" of " + std::to_string(h.pid())),
            std::string::npos)
      << n->held_by;
}

TEST(HoldersIntegrationTest, NetNamespaceHeldOnlyByASocket) {
  REQUIRE_ROOT();
  if (system("ip -V >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs ip(8) from iproute2";
  }
  const std::string name = "nsexp-socket-" + std::to_string(getpid());
  ASSERT_EQ(system(("ip netns add " + name).c_str()), 0);
  const std::string path = "/run/netns/" + name;
  // The child makes a socket inside the named namespace and goes back to
  // its own; it keeps no fd of the namespace itself.
  Holder h([&path]() -> std::uint64_t {
    const int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const int there = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (home < 0 || there < 0 || fstat(there, &st) != 0) return 0;
    if (setns(there, CLONE_NEWNET) != 0) return 0;
    const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || setns(home, CLONE_NEWNET) != 0) return 0;
    close(there);
    close(home);
    return st.st_ino;
  });
  // Now only the child's socket holds the namespace.
  ASSERT_EQ(system(("ip netns delete " + name).c_str()), 0);
  ASSERT_NE(h.value(), 0u);
  ASSERT_NE(NsInode(h.pid(), "net"), h.value());

  NamespaceGraph g;
  Discover(&g, true);
  const NamespaceInfo* n = Find(g, NamespaceType::kNet, h.value());
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->processes, 0u);
  EXPECT_EQ(n->holders[At(HolderKind::kSocket)], 1u);
  EXPECT_EQ(n->holders[At(HolderKind::kFd)], 0u);
  EXPECT_EQ(n->holders[At(HolderKind::kBindMount)], 0u);
  EXPECT_EQ(n->held_by.rfind("socket ", 0), 0u) << n->held_by;
  EXPECT_NE(n->held_by.find(" of " + std::to_string(h.pid())),
            std::string::npos)
      << n->held_by;
  NamespaceGraph off;
  Discover(&off, false);
  EXPECT_EQ(off.Find(NamespaceType::kNet, h.value()), nullptr)
      << "found without the socket reader";
}

void* UnshareNetAndWait(void* arg) {
  auto* inode = static_cast<std::uint64_t*>(arg);
  if (unshare(CLONE_NEWNET) == 0) {
    // The thread's own link: /proc/self/ns is the process's.
    const std::string path =
        "/proc/self/task/" + std::to_string(gettid()) + "/ns/net";
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) *inode = st.st_ino;
  }
  for (;;) pause();
  return nullptr;
}

TEST(HoldersIntegrationTest, ThreadInItsOwnNetNamespace) {
  REQUIRE_ROOT();
  Holder h([]() -> std::uint64_t {
    static std::uint64_t inode = 0;
    pthread_t t;
    if (pthread_create(&t, nullptr, UnshareNetAndWait, &inode) != 0) return 0;
    for (int i = 0; i < 500 && __atomic_load_n(&inode, __ATOMIC_SEQ_CST) == 0;
         ++i) {
      usleep(10000);
    }
    return __atomic_load_n(&inode, __ATOMIC_SEQ_CST);
  });
  ASSERT_NE(h.value(), 0u);
  NamespaceGraph g;
  Discover(&g);
  const NamespaceInfo* n = Find(g, NamespaceType::kNet, h.value());
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->processes, 0u);
  EXPECT_EQ(n->holders[At(HolderKind::kThread)], 1u);
  EXPECT_NE(n->held_by.find(" of " + std::to_string(h.pid())),
            std::string::npos)
      << n->held_by;
}

TEST(HoldersIntegrationTest, PidForChildrenAfterTheFirstChildExited) {
  REQUIRE_ROOT();
  Holder h([]() -> std::uint64_t {
    if (unshare(CLONE_NEWPID) != 0) return 0;
    const pid_t init = fork();
    if (init == 0) _exit(0);
    if (init < 0 || waitpid(init, nullptr, 0) != init) return 0;
    struct stat st {};
    return stat("/proc/self/ns/pid_for_children", &st) == 0 ? st.st_ino : 0;
  });
  ASSERT_NE(h.value(), 0u);
  EXPECT_NE(NsInode(h.pid(), "pid"), h.value());
  NamespaceGraph g;
  Discover(&g);
  const NamespaceInfo* n = Find(g, NamespaceType::kPid, h.value());
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->processes, 0u);
  EXPECT_EQ(n->holders[At(HolderKind::kForChildren)], 1u);
  EXPECT_EQ(n->parent_inode,
            std::optional<std::uint64_t>(NsInode(h.pid(), "pid")));
  const NamespaceInfo* parent =
      Find(g, NamespaceType::kPid, NsInode(h.pid(), "pid"));
  if (parent != nullptr) {
    EXPECT_EQ(n->depth, parent->depth + 1);
  }
}

}  // namespace
