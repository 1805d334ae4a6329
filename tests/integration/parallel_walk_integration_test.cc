// The parallel process walk (DiscoveryOptions::workers) over the real /proc
// with the real ioctls: the namespaces a test makes come out of a walk with
// two workers exactly as out of a walk with one. Needs root to make the
// namespaces (skips otherwise). Labelled "concurrency": the tsan preset
// runs it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "population.h"
#include "proc/proc_fs.h"

namespace {

using nsexp::NamespaceGraph;
using nsexp::NamespaceInfo;
using nsexp::NamespaceType;
using nsexp_test::NsInode;
using nsexp_test::Population;

auto Fields(const NamespaceInfo& n) {
  return std::tie(n.type, n.inode, n.ns_id, n.parent_inode, n.owner_inode,
                  n.owner_uid, n.processes, n.pid, n.command, n.depth,
                  n.children, n.members);
}

// One walk over the real /proc with a Discoverer of its own.
NamespaceGraph Walk(unsigned workers) {
  std::unique_ptr<nsexp::ProcFs> procfs;
  NamespaceGraph g;
  const nsexp::Status os = nsexp::ProcFs::Open("/proc", &procfs);
  EXPECT_TRUE(os.ok()) << os.ToString();
  if (!os.ok()) return g;
  auto ops = nsexp::NewRealNamespaceOps();
  nsexp::Discoverer d(procfs.get(), ops.get());
  nsexp::DiscoveryOptions opts;
  opts.collect_members = true;
  opts.workers = workers;
  const nsexp::Status s = d.Discover(opts, &g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
  return g;
}

TEST(ParallelWalk, MadeNamespacesAreTheSameWithTwoWorkers) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root: the test makes namespaces with clone(2) "
                    "and unshare(2) and reads other processes' ns links";
  }
  Population pop;
  std::string why;
  ASSERT_TRUE(pop.MakePidChain(&why)) << why;
  ASSERT_TRUE(pop.MakeUserChain(&why)) << why;
  std::vector<pid_t> net_members;
  ASSERT_TRUE(pop.MakeFlat("net", 3, &net_members, &why)) << why;

  // The namespaces made here, which nothing else on the host joins or
  // leaves while the test runs.
  std::vector<std::pair<NamespaceType, std::uint64_t>> made;
  for (pid_t p : pop.pid_chain) {
    made.emplace_back(NamespaceType::kPid, NsInode(p, "pid"));
  }
  made.emplace_back(NamespaceType::kUser, NsInode(pop.user_inner_proc, "user"));
  made.emplace_back(NamespaceType::kUser,
                    NsInode(pop.user_outer_procs.front(), "user"));
  made.emplace_back(NamespaceType::kUts,
                    NsInode(pop.user_inner_uts_proc, "uts"));
  made.emplace_back(NamespaceType::kNet, NsInode(net_members.front(), "net"));

  const NamespaceGraph one = Walk(1);
  const NamespaceGraph two = Walk(2);
  const NamespaceGraph one_again = Walk(1);
  // The host's own processes come and go between walks; the walks must at
  // least have seen the same order of magnitude.
  EXPECT_GT(two.stats.processes_scanned, one.stats.processes_scanned / 2);
  for (const auto& [type, inode] : made) {
    ASSERT_NE(inode, 0u);
    const NamespaceInfo* a = one.Find(type, inode);
    const NamespaceInfo* b = two.Find(type, inode);
    const NamespaceInfo* c = one_again.Find(type, inode);
    ASSERT_NE(a, nullptr) << inode;
    ASSERT_NE(b, nullptr) << inode;
    ASSERT_NE(c, nullptr) << inode;
    EXPECT_GT(a->processes, 0u) << inode;
    EXPECT_TRUE(Fields(*a) == Fields(*b))
        << nsexp::NamespaceTypeName(type) << ":[" << inode << "] differs";
    EXPECT_TRUE(Fields(*a) == Fields(*c))
        << nsexp::NamespaceTypeName(type) << ":[" << inode << "] differs";
  }
}

}  // namespace
