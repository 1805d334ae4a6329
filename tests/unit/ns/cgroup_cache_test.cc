// Tests of CgroupCache on its own, and of the cgroup counting of Discoverer
// over a writable copy of the "basic" fixture tree whose cgroup files the
// tests write, move and remove between walks.
#include "ns/cgroup_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ns/discovery.h"
#include "ns/fake_namespace_ops.h"
#include "ns/fixture_tables.h"

namespace nsexp {
namespace {

namespace fs = std::filesystem;
using namespace fixture;  // NOLINT(build/namespaces): the fixture names

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

// One walk of "cache" over "pids": which indices it asked to read. Each
// read records "text_of(pid)".
template <typename TextOf>
std::vector<pid_t> Walk(CgroupCache* cache, const std::vector<PidEntry>& pids,
                        unsigned k, const TextOf& text_of) {
  std::vector<pid_t> read;
  cache->Plan(pids, k);
  for (std::size_t i = 0; i < pids.size(); ++i) {
    if (cache->Cached(i) != nullptr) continue;
    read.push_back(pids[i].pid);
    cache->Record(i, text_of(pids[i].pid));
  }
  cache->Finish();
  return read;
}

std::string Host(pid_t) { return "0::/system.slice/cron.service\n"; }

TEST(CgroupCacheTest, NewProcessIsReadAgainAtItsSecondSightingOnly) {
  CgroupCache cache;
  // Walk w re-reads the PIDs that are w modulo 1000: not 500 in the walks
  // here, so only the first two sightings read.
  const std::vector<PidEntry> pids = {{500, 70}};
  EXPECT_EQ(Walk(&cache, pids, 1000, Host), std::vector<pid_t>{500});
  EXPECT_EQ(Walk(&cache, pids, 1000, Host), std::vector<pid_t>{500});
  for (int w = 0; w < 5; ++w) {
    EXPECT_TRUE(Walk(&cache, pids, 1000, Host).empty()) << "walk " << w;
  }
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.last_reads(), 0u);
  cache.Plan(pids, 1000);
  ASSERT_NE(cache.Cached(0), nullptr);
  EXPECT_EQ(*cache.Cached(0), Host(500));
  cache.Finish();
}

TEST(CgroupCacheTest, EachProcessIsReadOnceInAnyKConsecutiveWalks) {
  CgroupCache cache;
  std::vector<PidEntry> pids;
  for (pid_t p = 1; p <= 40; ++p) pids.push_back({p, 1000u + p});
  constexpr unsigned kK = 4;
  Walk(&cache, pids, kK, Host);
  Walk(&cache, pids, kK, Host);
  std::map<pid_t, int> reads;
  for (unsigned w = 0; w < 3 * kK; ++w) {
    const std::vector<pid_t> read = Walk(&cache, pids, kK, Host);
    EXPECT_EQ(read.size(), pids.size() / kK) << "walk " << w;
    EXPECT_EQ(cache.last_reads(), read.size());
    for (pid_t p : read) ++reads[p];
  }
  ASSERT_EQ(reads.size(), pids.size());
  for (const auto& [pid, n] : reads) EXPECT_EQ(n, 3) << "pid " << pid;
}

TEST(CgroupCacheTest, PeriodOneReadsEveryProcessEveryWalk) {
  CgroupCache cache;
  const std::vector<PidEntry> pids = {{3, 30}, {9, 90}};
  for (int w = 0; w < 4; ++w) {
    EXPECT_EQ(Walk(&cache, pids, 1, Host).size(), 2u);
    EXPECT_EQ(Walk(&cache, pids, 0, Host).size(), 2u);
  }
}

TEST(CgroupCacheTest, ANewInodeForTheSamePidIsANewProcess) {
  CgroupCache cache;
  Walk(&cache, {{500, 70}, {501, 80}}, 1000, Host);
  Walk(&cache, {{500, 70}, {501, 80}}, 1000, Host);
  EXPECT_TRUE(Walk(&cache, {{500, 70}, {501, 80}}, 1000, Host).empty());
  // PID 501 exited and a new process took its PID: read, and read again at
  // its second sighting.
  EXPECT_EQ(Walk(&cache, {{500, 70}, {501, 81}}, 1000, Host),
            std::vector<pid_t>{501});
  EXPECT_EQ(Walk(&cache, {{500, 70}, {501, 81}}, 1000, Host),
            std::vector<pid_t>{501});
  EXPECT_TRUE(Walk(&cache, {{500, 70}, {501, 81}}, 1000, Host).empty());
}

TEST(CgroupCacheTest, ProcessesNotListedAreDropped) {
  CgroupCache cache;
  Walk(&cache, {{1, 10}, {2, 20}, {3, 30}}, 1000, Host);
  EXPECT_EQ(cache.size(), 3u);
  Walk(&cache, {{2, 20}}, 1000, Host);
  EXPECT_EQ(cache.size(), 1u);
  Walk(&cache, {}, 1000, Host);
  EXPECT_EQ(cache.size(), 0u);
  // Back with the same identity (cannot happen, but must not be trusted):
  // read as new.
  EXPECT_EQ(Walk(&cache, {{1, 10}}, 1000, Host), std::vector<pid_t>{1});
}

TEST(CgroupCacheTest, AProcessTheWalkSkippedKeepsItsEntryAndItsTurn) {
  CgroupCache cache;
  const std::vector<PidEntry> pids = {{500, 50}};
  Walk(&cache, pids, 1000, Host);
  // The second sighting, but the walk skipped the process (say, a denied
  // ns directory): nothing recorded.
  cache.Plan(pids, 1000);
  EXPECT_EQ(cache.Cached(0), nullptr);
  cache.Finish();
  EXPECT_EQ(cache.size(), 1u);
  // Still owed its second read.
  EXPECT_EQ(Walk(&cache, pids, 1000, Host), std::vector<pid_t>{500});
  // A process never read gets no entry.
  cache.Plan({{500, 50}, {600, 60}}, 1000);
  cache.Finish();
  EXPECT_EQ(cache.size(), 1u);
}

// ---------------------------------------------------------------------------
// Discoverer over a writable tree.

constexpr const char* kDocker =
    "0::/system.slice/docker-"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n";
constexpr const char* kRunc = "0::/system.slice/containerd.service\n";

class CgroupWalkTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (fs::temp_directory_path() / "nsexp_cgroup_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/basic";
    fs::copy(kFixtures + "basic", root_,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    for (const char* pid : {"1", "2", "400", "1200", "1201"}) {
      WriteCgroup(pid, "0::/init.scope\n");
    }
    ASSERT_TRUE(ProcFs::Open(root_, &procfs_).ok());
    AddBasic(&ops_);
    discoverer_ = std::make_unique<Discoverer>(procfs_.get(), &ops_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  void WriteCgroup(const std::string& pid, const std::string& text) {
    std::ofstream(root_ + "/" + pid + "/cgroup", std::ios::trunc) << text;
  }

  // One walk with re-read period "k"; the cgroup texts of the basic
  // container's net namespace (PIDs 1200 and 1201) and their counts.
  std::map<std::string, std::uint32_t> Walk(unsigned k) {
    DiscoveryOptions o;
    o.cgroup_reread_every = k;
    NamespaceGraph g;
    const Status s = discoverer_->Discover(o, &g);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::map<std::string, std::uint32_t> out;
    const NamespaceInfo* net = g.Find(NamespaceType::kNet, kBasicNet);
    if (net == nullptr) {
      ADD_FAILURE() << "the container's net namespace is missing";
      return out;
    }
    for (const auto& [index, count] : g.CgroupMembers(*net)) {
      out[g.cgroups.at(index)] += count;
    }
    return out;
  }

  std::string dir_;
  std::string root_;
  std::unique_ptr<ProcFs> procfs_;
  FakeNamespaceOps ops_;
  std::unique_ptr<Discoverer> discoverer_;
};

using Counts = std::map<std::string, std::uint32_t>;

TEST_F(CgroupWalkTest, NewProcessesAreReadTwiceThenCached) {
  EXPECT_EQ(Walk(1000), (Counts{{"0::/init.scope\n", 2}}));
  EXPECT_EQ(discoverer_->last_cgroup_reads(), 5u);
  EXPECT_EQ(discoverer_->cgroup_cache_size(), 5u);
  Walk(1000);
  EXPECT_EQ(discoverer_->last_cgroup_reads(), 5u);
  EXPECT_EQ(Walk(1000), (Counts{{"0::/init.scope\n", 2}}));
  EXPECT_EQ(discoverer_->last_cgroup_reads(), 0u);
}

TEST_F(CgroupWalkTest, MovedAtCreationIsSeenAtTheSecondSighting) {
  WriteCgroup("1200", kRunc);
  WriteCgroup("1201", kRunc);
  EXPECT_EQ(Walk(1000), (Counts{{kRunc, 2}}));
  // The runtime moves its new processes into the container's cgroup.
  WriteCgroup("1200", kDocker);
  WriteCgroup("1201", kDocker);
  EXPECT_EQ(Walk(1000), (Counts{{kDocker, 2}}));
}

TEST_F(CgroupWalkTest, AMoveIsSeenWithinKWalksAndNotBeforeItsTurn) {
  constexpr unsigned kK = 2;
  Walk(kK);
  Walk(kK);
  // 1200 and 1201 take turns: one walk re-reads the one, the next walk
  // the other.
  WriteCgroup("1200", kDocker);
  WriteCgroup("1201", kDocker);
  EXPECT_EQ(Walk(kK), (Counts{{"0::/init.scope\n", 1}, {kDocker, 1}}));
  EXPECT_EQ(Walk(kK), (Counts{{kDocker, 2}}));
}

TEST_F(CgroupWalkTest, EveryMoveIsSeenWithinTheDefaultPeriod) {
  const unsigned k = kDefaultCgroupRereadEvery;
  Walk(k);
  Walk(k);
  WriteCgroup("1200", kDocker);
  WriteCgroup("1201", kDocker);
  unsigned walks = 0;
  Counts counts;
  while (walks < k && counts != Counts{{kDocker, 2}}) {
    counts = Walk(k);
    ++walks;
    // Fewer reads than processes: the cache is in use.
    EXPECT_LT(discoverer_->last_cgroup_reads(), 5u);
  }
  EXPECT_EQ(counts, (Counts{{kDocker, 2}})) << "after " << walks << " walks";
  EXPECT_GT(walks, 1u) << "both moves seen at once: the cache read them all";
}

TEST_F(CgroupWalkTest, AReusedPidWithANewDirectoryIsReadAtOnce) {
  Walk(1000);
  Walk(1000);
  // PID 1201 exits and a new process takes the PID: a new /proc directory
  // (the old one is kept aside so its inode cannot be handed out again).
  fs::copy(root_ + "/1201", root_ + "/new",
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::rename(root_ + "/1201", root_ + "/old");
  fs::rename(root_ + "/new", root_ + "/1201");
  WriteCgroup("1201", kDocker);
  EXPECT_EQ(Walk(1000), (Counts{{"0::/init.scope\n", 1}, {kDocker, 1}}));
  EXPECT_EQ(discoverer_->last_cgroup_reads(), 1u);
}

TEST_F(CgroupWalkTest, ExitedProcessesAreDropped) {
  Walk(1000);
  EXPECT_EQ(discoverer_->cgroup_cache_size(), 5u);
  fs::remove_all(root_ + "/1201");
  EXPECT_EQ(Walk(1000), (Counts{{"0::/init.scope\n", 1}}));
  EXPECT_EQ(discoverer_->cgroup_cache_size(), 4u);
}

TEST_F(CgroupWalkTest, PeriodOneReadsEveryFileEveryWalk) {
  for (int w = 0; w < 3; ++w) {
    Walk(1);
    EXPECT_EQ(discoverer_->last_cgroup_reads(), 5u) << "walk " << w;
  }
  WriteCgroup("1200", kDocker);
  EXPECT_EQ(Walk(1), (Counts{{"0::/init.scope\n", 1}, {kDocker, 1}}));
}

TEST_F(CgroupWalkTest, CgroupsOffLeavesTheCacheAlone) {
  Walk(1000);
  DiscoveryOptions o;
  o.cgroups = false;
  NamespaceGraph g;
  ASSERT_TRUE(discoverer_->Discover(o, &g).ok());
  EXPECT_TRUE(g.cgroups.empty());
  EXPECT_EQ(discoverer_->cgroup_cache_size(), 5u);
}

}  // namespace
}  // namespace nsexp
