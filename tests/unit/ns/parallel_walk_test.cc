// The parallel process walk (DiscoveryOptions::workers) over every fixture
// tree: the graph must be the one a single worker builds. Labelled
// "concurrency": the tsan preset runs it.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "ns/discovery.h"
#include "ns/fake_namespace_ops.h"
#include "ns/fixture_tables.h"

namespace nsexp {
namespace {

using namespace fixture;  // NOLINT(build/namespaces): the fixture names

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

// Every field of a namespace as one comparable tuple.
auto Fields(const NamespaceInfo& n) {
  return std::tie(n.type, n.inode, n.ns_id, n.parent_inode, n.owner_inode,
                  n.owner_uid, n.processes, n.pid, n.command, n.depth,
                  n.children, n.members, n.holders, n.held_by, n.cgroup_first,
                  n.cgroup_count);
}

auto Fields(const BindMountRecord& b) {
  return std::tie(b.type, b.inode, b.mount_ns_inode, b.path, b.name);
}

// Expects two graphs to be equal field by field, naming the first
// difference.
void ExpectSameGraph(const NamespaceGraph& want, const NamespaceGraph& got) {
  ASSERT_EQ(want.namespaces.size(), got.namespaces.size());
  for (std::size_t i = 0; i < want.namespaces.size(); ++i) {
    const NamespaceInfo& a = want.namespaces[i];
    EXPECT_TRUE(Fields(a) == Fields(got.namespaces[i]))
        << NamespaceTypeName(a.type) << ":[" << a.inode << "] differs";
  }
  ASSERT_EQ(want.bind_mounts.size(), got.bind_mounts.size());
  for (std::size_t i = 0; i < want.bind_mounts.size(); ++i) {
    EXPECT_TRUE(Fields(want.bind_mounts[i]) == Fields(got.bind_mounts[i]))
        << want.bind_mounts[i].path;
  }
  EXPECT_EQ(want.cgroups, got.cgroups);
  EXPECT_EQ(want.cgroup_counts, got.cgroup_counts);
  EXPECT_EQ(want.count_by_type, got.count_by_type);
  const ScanStats& s = want.stats;
  const ScanStats& t = got.stats;
  EXPECT_EQ(s.processes_scanned, t.processes_scanned);
  EXPECT_EQ(s.vanished, t.vanished);
  EXPECT_EQ(s.permission_denied, t.permission_denied);
  EXPECT_EQ(s.other, t.other);
  EXPECT_EQ(s.zombies, t.zombies);
  EXPECT_EQ(s.holders.size(), t.holders.size());
}

// Every fixture answer at once; the scenarios use disjoint inodes or agree.
void AddAll(FakeNamespaceOps* ops) {
  AddBasic(ops);
  AddNested(ops);
  AddBindMounts(ops);
  AddHolders(ops);
}

// The options that exercise the most of the walk: members, cgroups and
// every holder kind.
DiscoveryOptions Everything(unsigned workers) {
  DiscoveryOptions o;
  o.workers = workers;
  o.collect_members = true;
  o.fds = true;
  o.for_children = true;
  o.threads = true;
  return o;
}

// Walks "scenario" with a fresh Discoverer and fake; fails the test on an
// error.
NamespaceGraph Walk(const std::string& scenario,
                    const DiscoveryOptions& options) {
  std::unique_ptr<ProcFs> procfs;
  const Status os = ProcFs::Open(kFixtures + scenario, &procfs);
  EXPECT_TRUE(os.ok()) << os.ToString();
  NamespaceGraph g;
  if (!os.ok()) return g;
  FakeNamespaceOps ops;
  AddAll(&ops);
  Discoverer d(procfs.get(), &ops);
  const Status s = d.Discover(options, &g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return g;
}

class ParallelWalkTest : public testing::TestWithParam<std::string> {};

TEST_P(ParallelWalkTest, SameGraphAsOneWorker) {
  const NamespaceGraph one = Walk(GetParam(), Everything(1));
  ASSERT_FALSE(one.namespaces.empty()) << "the fixture proves nothing";
  for (unsigned workers : {2u, 3u, 64u}) {
    SCOPED_TRACE("workers=" + std::to_string(workers));
    ExpectSameGraph(one, Walk(GetParam(), Everything(workers)));
  }
}

TEST_P(ParallelWalkTest, SameGraphWithTheDefaults) {
  DiscoveryOptions two;
  two.workers = 2;
  ExpectSameGraph(Walk(GetParam(), DiscoveryOptions()), Walk(GetParam(), two));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ParallelWalkTest,
                         testing::Values("basic", "nested", "bind_mounts",
                                         "holders", "denied", "vanished_pid",
                                         "zombie", "malformed"));

TEST(ParallelWalk, CacheIsSharedAcrossWalks) {
  std::unique_ptr<ProcFs> procfs;
  ASSERT_TRUE(ProcFs::Open(kFixtures + "nested", &procfs).ok());
  FakeNamespaceOps ops;
  AddAll(&ops);
  Discoverer d(procfs.get(), &ops);
  DiscoveryOptions two;
  two.workers = 2;
  NamespaceGraph first;
  ASSERT_TRUE(d.Discover(two, &first).ok());
  EXPECT_GT(d.last_resolved(), 0u);
  EXPECT_EQ(d.cache_size(), first.namespaces.size());
  // Every namespace's attributes come from the cache the second time, and
  // each is resolved exactly once the first time.
  const std::size_t relations = ops.total().relations();
  NamespaceGraph second;
  ASSERT_TRUE(d.Discover(two, &second).ok());
  EXPECT_EQ(d.last_resolved(), 0u);
  EXPECT_EQ(ops.total().relations(), relations);
  ExpectSameGraph(first, second);
}

TEST(ParallelWalk, CgroupsOfEverySliceAreMerged) {
  // Two processes with cgroup files, one in each of two slices.
  const NamespaceGraph two = Walk("holders", Everything(2));
  ASSERT_EQ(two.stats.processes_scanned, 2u);
  EXPECT_EQ(two.cgroups.size(), 2u);
  std::uint32_t counted = 0;
  for (const NamespaceInfo& n : two.namespaces) {
    if (n.type != NamespaceType::kNet) continue;
    for (const auto& [index, count] : two.CgroupMembers(n)) {
      EXPECT_LT(index, two.cgroups.size());
      counted += count;
    }
  }
  EXPECT_EQ(counted, 2u) << "each process once, in its net namespace";
}

TEST(ParallelWalk, ZeroWorkersWalkAsOne) {
  DiscoveryOptions zero;
  zero.workers = 0;
  ExpectSameGraph(Walk("basic", DiscoveryOptions()), Walk("basic", zero));
}

// The cgroup cache filled and used by the workers of a parallel walk gives
// the graphs of one worker, walk after walk.
TEST(ParallelWalk, CgroupCacheIsUsedByTheWorkers) {
  std::unique_ptr<ProcFs> procfs;
  ASSERT_TRUE(ProcFs::Open(kFixtures + "holders", &procfs).ok());
  FakeNamespaceOps ops;
  AddAll(&ops);
  Discoverer one(procfs.get(), &ops);
  Discoverer two(procfs.get(), &ops);
  DiscoveryOptions o1;
  o1.cgroup_reread_every = 1000;
  DiscoveryOptions o2 = o1;
  o2.workers = 2;
  for (int w = 0; w < 3; ++w) {
    SCOPED_TRACE("walk " + std::to_string(w));
    NamespaceGraph a;
    NamespaceGraph b;
    ASSERT_TRUE(one.Discover(o1, &a).ok());
    ASSERT_TRUE(two.Discover(o2, &b).ok());
    ASSERT_FALSE(b.cgroups.empty()) << "the fixture proves nothing";
    ExpectSameGraph(a, b);
    EXPECT_EQ(one.last_cgroup_reads(), two.last_cgroup_reads());
  }
  // New, then second sighting, then from the cache.
  EXPECT_EQ(two.last_cgroup_reads(), 0u);
  EXPECT_EQ(two.cgroup_cache_size(), 2u);
}

}  // namespace
}  // namespace nsexp
