// Discovery when, between two discoveries by the same Discoverer, a new
// namespace takes the nsfs inode of one that the first discovery saw (the
// kernel hands out the lowest free inode, shared by all types). The second
// discovery is checked against fresh ioctls: parent, owner, owner uid,
// depth, children and the count per depth, and that no pid or user
// namespace is listed that the kernel does not have.
//
// Each test runs with NS_GET_ID and with it switched off, so that kernels
// that have it (6.18+) exercise the path without ids too.
//
// NSEXP_TEST_WHOLE_SYSTEM=1 (set in the quiet guests of the kernel matrix)
// checks every namespace of the system; otherwise only the test's own
// namespaces and their ancestors, since other workloads of a shared host
// make and drop namespaces at any time. Root only.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "population.h"
#include "proc/proc_fs.h"

namespace {

using nsexp::NamespaceGraph;
using nsexp::NamespaceInfo;
using nsexp::NamespaceType;
using nsexp_test::Children;
using nsexp_test::NsInode;

constexpr uid_t kCreatorUid = 1000;  // creator of the new user namespaces

// --- processes that hold the test's namespaces ------------------------------

// A process that only holds its namespaces, and dies with its parent.
[[noreturn]] void Leaf() {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (;;) pause();
}

// fork(), or with namespace flags the child starts in new namespaces.
pid_t CloneWith(int flags) {
  return static_cast<pid_t>(
      syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

// A node reads one-byte commands: 'p' starts a leaf in a new pid namespace
// (a child of the node's), 'u' a leaf that becomes kCreatorUid and then
// unshares a user namespace (a child of the node's). Killed leaves are
// reaped at once (SIGCHLD ignored).
[[noreturn]] void NodeLoop(int cmd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGCHLD, SIG_IGN);
  for (;;) {
    char c = 0;
    const ssize_t r = read(cmd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r != 1) _exit(1);
    if (c == 'p') {
      if (CloneWith(CLONE_NEWPID) == 0) Leaf();
    } else if (c == 'u') {
      if (fork() == 0) {
        if (setresgid(kCreatorUid, kCreatorUid, kCreatorUid) != 0 ||
            setresuid(kCreatorUid, kCreatorUid, kCreatorUid) != 0 ||
            unshare(CLONE_NEWUSER) != 0) {
          _exit(1);
        }
        prctl(PR_SET_DUMPABLE, 1);
        Leaf();
      }
    }
  }
}

bool WaitFor(const std::function<bool()>& ok, int ms) {
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!ok()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Everything one test started; killed and reaped on destruction.
class Lab {
 public:
  struct Node {
    pid_t pid = 0;
    int cmd = -1;
  };
  Lab() = default;
  ~Lab() {
    for (auto& [pid, cmd] : tops_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      if (cmd >= 0) close(cmd);
    }
  }
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  // A node in new namespaces ("flags"); a new user namespace maps ids
  // 0-65535 onto the same host ids, so that the node may become
  // kCreatorUid in it.
  Node StartNode(int flags) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return {};
    const pid_t pid = CloneWith(flags);
    if (pid == 0) {
      close(p[1]);
      NodeLoop(p[0]);
    }
    close(p[0]);
    if (pid < 0) {
      close(p[1]);
      return {};
    }
    tops_[pid] = p[1];
    if (flags & CLONE_NEWUSER) {
      const std::string base = "/proc/" + std::to_string(pid);
      for (const char* map : {"/uid_map", "/gid_map"}) {
        std::ofstream out(base + map);
        out << "0 0 65536\n";
      }
    }
    return Node{pid, p[1]};
  }

  // Asks "node" for a leaf ('p' or 'u'); returns its PID once it is in its
  // new namespace of "type", 0 on failure.
  pid_t NewLeaf(const Node& node, char what, const std::string& type) {
    const std::vector<pid_t> before = Children(node.pid);
    if (write(node.cmd, &what, 1) != 1) return 0;
    pid_t leaf = 0;
    WaitFor(
        [&] {
          for (pid_t c : Children(node.pid)) {
            if (std::find(before.begin(), before.end(), c) == before.end()) {
              leaf = c;
              return true;
            }
          }
          return false;
        },
        5000);
    if (leaf == 0) return 0;
    const std::uint64_t outer = NsInode(node.pid, type);
    if (!WaitFor(
            [&] {
              const std::uint64_t in = NsInode(leaf, type);
              return in != 0 && in != outer;
            },
            5000)) {
      return 0;
    }
    return leaf;
  }

  // A process of this test in a new uts namespace.
  pid_t NewUts() {
    const pid_t pid = CloneWith(CLONE_NEWUTS);
    if (pid == 0) Leaf();
    if (pid > 0) tops_[pid] = -1;
    return pid;
  }

  // Kills a process this test started, reaping it if it is a direct child
  // (the nodes reap their leaves).
  void Kill(pid_t pid) {
    kill(pid, SIGKILL);
    auto it = tops_.find(pid);
    if (it != tops_.end()) {
      waitpid(pid, nullptr, 0);
      if (it->second >= 0) close(it->second);
      tops_.erase(it);
    }
  }

  // Makes namespaces with "make" (which returns a member PID) until one of
  // "type" has inode "target". Ones that got a lower inode are kept (they
  // hold lower free numbers); ones that got a higher one are dropped (the
  // target is not free yet). Returns the member, or 0.
  pid_t TakeInode(std::uint64_t target, const std::string& type,
                  const std::function<pid_t()>& make) {
    for (int tries = 0; tries < 300; ++tries) {
      ReapOrphans();
      const pid_t p = make();
      if (p <= 0) return 0;
      const std::uint64_t got = NsInode(p, type);
      if (got == target) return p;
      if (got != 0 && got < target) continue;
      Kill(p);
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    return 0;
  }

 private:
  // Leaves whose node died come to this process when it is a child
  // subreaper (the Population of other tests makes it one); a zombie still
  // holds its user namespace, so reap them.
  static void ReapOrphans() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

  std::map<pid_t, int> tops_;  // direct children -> command pipe or -1
};

// --- what the kernel says now ---------------------------------------------

struct Truth {
  std::optional<std::uint64_t> parent, owner;
  std::optional<uid_t> owner_uid;
};
using Key = std::pair<NamespaceType, std::uint64_t>;
using TruthMap = std::map<Key, Truth>;

std::uint64_t FdInode(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

// Records the namespace "fd" is, its parent, owner and owner uid, and
// climbs to them. Takes ownership of "fd".
void AddTruth(int fd, NamespaceType type, TruthMap* truth) {
  const Key key{type, FdInode(fd)};
  if (key.second == 0 || truth->count(key)) {
    close(fd);
    return;
  }
  Truth& t = (*truth)[key];
  std::vector<std::pair<int, NamespaceType>> next;
  const int parent = ioctl(fd, NS_GET_PARENT);
  if (parent >= 0) {
    t.parent = FdInode(parent);
    next.emplace_back(parent, type);
  }
  const int owner = ioctl(fd, NS_GET_USERNS);
  if (owner >= 0) {
    t.owner = FdInode(owner);
    next.emplace_back(owner, NamespaceType::kUser);
  }
  if (type == NamespaceType::kUser) {
    uid_t uid = 0;
    if (ioctl(fd, NS_GET_OWNER_UID, &uid) == 0) t.owner_uid = uid;
  }
  close(fd);
  for (auto& [nfd, ntype] : next) AddTruth(nfd, ntype, truth);
}

// Every pid and user namespace of every process, and their ancestors.
TruthMap KernelTruth() {
  TruthMap truth;
  DIR* d = opendir("/proc");
  if (d == nullptr) return truth;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    for (const char* type : {"pid", "user"}) {
      const std::string path =
          std::string("/proc/") + e->d_name + "/ns/" + type;
      const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      AddTruth(fd,
               std::string(type) == "pid" ? NamespaceType::kPid
                                          : NamespaceType::kUser,
               &truth);
    }
  }
  closedir(d);
  return truth;
}

std::uint32_t TruthDepth(const TruthMap& truth, Key k) {
  std::uint32_t d = 0;
  for (auto it = truth.find(k); it != truth.end() && it->second.parent;
       it = truth.find(Key{k.first, *it->second.parent})) {
    ++d;
  }
  return d;
}

std::string Name(const Key& k) {
  return std::string(nsexp::NamespaceTypeName(k.first)) + ":[" +
         std::to_string(k.second) + "]";
}

bool WholeSystem() {
  const char* v = std::getenv("NSEXP_TEST_WHOLE_SYSTEM");
  return v != nullptr && std::string(v) == "1";
}

// Checks "graph" against the kernel now. "mine": the test's processes;
// their namespaces, with their ancestors, are always checked in full.
// "gone": (type, inode) pairs the kernel no longer has as that type.
void ExpectTrue(const NamespaceGraph& graph, const std::vector<pid_t>& mine,
                const std::vector<Key>& gone) {
  const TruthMap truth = KernelTruth();
  const bool whole = WholeSystem();
  std::set<Key> checked;  // the test's namespaces and their ancestors
  std::set<Key> made;     // the test's namespaces (not their ancestors)
  for (pid_t p : mine) {
    for (NamespaceType type : {NamespaceType::kPid, NamespaceType::kUser}) {
      Key k{type, NsInode(p, std::string(nsexp::NamespaceTypeName(type)))};
      ASSERT_NE(k.second, 0u) << "pid " << p << " vanished";
      if (k !=
          Key{type,
              NsInode(getpid(), std::string(nsexp::NamespaceTypeName(type)))}) {
        made.insert(k);
      }
      for (auto it = truth.find(k); it != truth.end();) {
        checked.insert(k);
        if (!it->second.parent) break;
        k = Key{type, *it->second.parent};
        it = truth.find(k);
      }
    }
  }
  for (const Key& k : gone) {
    EXPECT_EQ(graph.Find(k.first, k.second), nullptr)
        << Name(k) << " is listed, but that inode is no longer a "
        << nsexp::NamespaceTypeName(k.first) << " namespace";
  }
  std::map<Key, std::uint32_t> truth_children;
  for (const auto& [k, t] : truth) {
    if (t.parent) ++truth_children[Key{k.first, *t.parent}];
  }
  // Namespaces per (type, depth), over what is compared.
  std::map<std::pair<NamespaceType, std::uint32_t>, int> by_depth, want_depth;
  for (const NamespaceInfo& n : graph.namespaces) {
    if (!nsexp::IsHierarchical(n.type)) continue;
    const Key k{n.type, n.inode};
    const bool in_scope = whole || checked.count(k);
    if (!in_scope) continue;
    auto it = truth.find(k);
    if (it == truth.end()) {
      ADD_FAILURE() << Name(k) << " is listed, the kernel has no such "
                    << "namespace (" << n.processes << " processes)";
      continue;
    }
    const Truth& t = it->second;
    EXPECT_EQ(n.parent_inode, t.parent) << Name(k) << " parent";
    EXPECT_EQ(n.owner_inode, t.owner) << Name(k) << " owner";
    EXPECT_EQ(n.owner_uid, t.owner_uid) << Name(k) << " owner uid";
    EXPECT_EQ(n.depth, TruthDepth(truth, k)) << Name(k) << " depth";
    // Children of the host's namespaces change with other workloads.
    if (whole || made.count(k)) {
      EXPECT_EQ(n.children, truth_children[k]) << Name(k) << " children";
    }
    ++by_depth[{n.type, n.depth}];
  }
  for (const auto& [k, t] : truth) {
    if (whole || checked.count(k)) {
      ++want_depth[{k.first, TruthDepth(truth, k)}];
    }
  }
  EXPECT_EQ(by_depth, want_depth) << "namespaces per depth";
  for (const Key& k : checked) {
    EXPECT_NE(graph.Find(k.first, k.second), nullptr) << Name(k) << " missing";
  }
}

// --- the tests ------------------------------------------------------------

class InodeReuse : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root: the test makes pid and user namespaces "
                      "and reads other processes' ns links";
    }
    ASSERT_TRUE(nsexp::ProcFs::Open("/proc", &procfs_).ok());
    nsexp::RealNamespaceOpsOptions o;
    o.use_ns_get_id = GetParam();
    ops_ = nsexp::NewRealNamespaceOps(o);
    discoverer_ =
        std::make_unique<nsexp::Discoverer>(procfs_.get(), ops_.get());
  }

  void Discover(NamespaceGraph* graph) {
    const nsexp::Status s =
        discoverer_->Discover(nsexp::DiscoveryOptions(), graph);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // X (a child of the caller's namespace, or with "phantom" of P, itself a
  // child of the caller's) is discovered; Q is made; X (and P) die; with
  // "phantom" a uts namespace takes P's inode; N, made inside Q, takes X's
  // inode; the second discovery must tell N from X.
  void Run(NamespaceType type, bool phantom) {
    const bool user = type == NamespaceType::kUser;
    const std::string tname(nsexp::NamespaceTypeName(type));
    const int flag = user ? CLONE_NEWUSER : CLONE_NEWPID;
    const char leaf_cmd = user ? 'u' : 'p';
    Lab lab;
    const Lab::Node top = lab.StartNode(flag);
    ASSERT_GT(top.pid, 0) << "clone: " << strerror(errno);
    pid_t x = top.pid;
    std::uint64_t p_inode = 0;
    if (phantom) {
      p_inode = NsInode(top.pid, tname);
      x = lab.NewLeaf(top, leaf_cmd, tname);
      ASSERT_GT(x, 0) << "no namespace inside P";
    }
    const std::uint64_t x_inode = NsInode(x, tname);
    ASSERT_NE(x_inode, 0u);

    NamespaceGraph first;
    Discover(&first);
    const NamespaceInfo* xi = first.Find(type, x_inode);
    ASSERT_NE(xi, nullptr) << "the first discovery misses X";
    ASSERT_EQ(xi->depth, phantom ? 2u : 1u);

    const Lab::Node q = lab.StartNode(flag);
    ASSERT_GT(q.pid, 0);
    ASSERT_NE(NsInode(q.pid, tname), 0u);
    lab.Kill(top.pid);  // X dies, and P with it

    std::vector<pid_t> mine = {q.pid};
    std::vector<std::pair<std::uint64_t, bool>> targets = {{x_inode, false}};
    if (phantom) targets.emplace_back(p_inode, true);
    // The lowest free inode goes first: take the lower target first.
    std::sort(targets.begin(), targets.end());
    pid_t n = 0;
    for (const auto& [target, is_p] : targets) {
      pid_t got = 0;
      if (is_p) {
        got = lab.TakeInode(target, "uts", [&] { return lab.NewUts(); });
      } else {
        got = lab.TakeInode(target, tname,
                            [&] { return lab.NewLeaf(q, leaf_cmd, tname); });
        n = got;
      }
      if (got == 0) {
        GTEST_SKIP() << "no new namespace took inode " << target
                     << " in 300 tries (another workload kept taking it)";
      }
    }
    // The leaves Q made on the way (they hold lower inodes) count too.
    for (pid_t c : Children(q.pid)) mine.push_back(c);
    ASSERT_EQ(NsInode(n, tname), x_inode);

    NamespaceGraph second;
    Discover(&second);
    const NamespaceInfo* ni = second.Find(type, x_inode);
    ASSERT_NE(ni, nullptr) << "N is not listed";
    EXPECT_EQ(ni->parent_inode,
              std::optional<std::uint64_t>(NsInode(q.pid, tname)))
        << "N's parent is Q";
    EXPECT_EQ(ni->depth, 2u);
    if (user) {
      EXPECT_EQ(ni->owner_uid, std::optional<uid_t>(kCreatorUid));
    }
    std::vector<Key> gone;
    if (phantom) gone.emplace_back(type, p_inode);
    ExpectTrue(second, mine, gone);
  }

  std::unique_ptr<nsexp::ProcFs> procfs_;
  std::unique_ptr<nsexp::NamespaceOps> ops_;
  std::unique_ptr<nsexp::Discoverer> discoverer_;
};

TEST_P(InodeReuse, PidNamespaceTakesADiscoveredInode) {
  Run(NamespaceType::kPid, false);
}

TEST_P(InodeReuse, PidNamespaceTakesADiscoveredInodeWhoseParentDied) {
  Run(NamespaceType::kPid, true);
}

TEST_P(InodeReuse, UserNamespaceTakesADiscoveredInode) {
  Run(NamespaceType::kUser, false);
}

TEST_P(InodeReuse, UserNamespaceTakesADiscoveredInodeWhoseParentDied) {
  Run(NamespaceType::kUser, true);
}

INSTANTIATE_TEST_SUITE_P(RealNamespaces, InodeReuse, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? std::string("WithNsGetId")
                                          : std::string("WithoutNsGetId");
                         });

}  // namespace
