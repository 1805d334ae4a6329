// Tests of CommCache on its own, and of the `command` of Discoverer's
// namespaces over a writable copy of the "basic" fixture tree whose comm
// files the tests rewrite between walks.
#include "ns/comm_cache.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ns/discovery.h"
#include "ns/fake_namespace_ops.h"
#include "ns/fixture_copy.h"
#include "ns/fixture_tables.h"

namespace nsexp {
namespace {

using namespace fixture;  // NOLINT(build/namespaces): the fixture names

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

// One walk of "cache" asking about "processes": the PIDs it had to read.
// Each read records "comm". (The schedule is the CgroupCache's; these tests
// mirror its tests, through this class's interface.)
std::vector<pid_t> Walk(CommCache* cache,
                        const std::vector<PidEntry>& processes, unsigned k,
                        const std::string& comm = "nginx") {
  std::vector<pid_t> read;
  cache->Begin(k);
  for (const PidEntry& p : processes) {
    std::string got;
    if (cache->Lookup(p, &got)) {
      EXPECT_EQ(got, comm) << "pid " << p.pid;
      continue;
    }
    read.push_back(p.pid);
    cache->Record(p, comm);
  }
  cache->End();
  return read;
}

TEST(CommCacheTest, NewProcessIsReadAgainAtItsSecondSightingOnly) {
  CommCache cache;
  const std::vector<PidEntry> p = {{500, 70}};
  EXPECT_EQ(Walk(&cache, p, 1000), std::vector<pid_t>{500});
  EXPECT_EQ(Walk(&cache, p, 1000), std::vector<pid_t>{500});
  for (int w = 0; w < 5; ++w) {
    EXPECT_TRUE(Walk(&cache, p, 1000).empty()) << "walk " << w;
  }
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.last_reads(), 0u);
}

TEST(CommCacheTest, EachProcessIsReadOnceInAnyKConsecutiveWalks) {
  CommCache cache;
  std::vector<PidEntry> processes;
  for (pid_t p = 1; p <= 40; ++p) processes.push_back({p, 1000u + p});
  constexpr unsigned kK = 4;
  Walk(&cache, processes, kK);
  Walk(&cache, processes, kK);
  std::map<pid_t, int> reads;
  for (unsigned w = 0; w < 3 * kK; ++w) {
    const std::vector<pid_t> read = Walk(&cache, processes, kK);
    EXPECT_EQ(read.size(), processes.size() / kK) << "walk " << w;
    EXPECT_EQ(cache.last_reads(), read.size());
    for (pid_t p : read) ++reads[p];
  }
  ASSERT_EQ(reads.size(), processes.size());
  for (const auto& [pid, n] : reads) EXPECT_EQ(n, 3) << "pid " << pid;
}

TEST(CommCacheTest, PeriodOneOrZeroReadsEveryProcessEveryWalk) {
  CommCache cache;
  const std::vector<PidEntry> processes = {{3, 30}, {9, 90}};
  for (int w = 0; w < 4; ++w) {
    EXPECT_EQ(Walk(&cache, processes, 1).size(), 2u);
    EXPECT_EQ(Walk(&cache, processes, 0).size(), 2u);
  }
}

TEST(CommCacheTest, ANewInodeForTheSamePidIsANewProcess) {
  CommCache cache;
  Walk(&cache, {{500, 70}, {501, 80}}, 1000);
  Walk(&cache, {{500, 70}, {501, 80}}, 1000);
  EXPECT_TRUE(Walk(&cache, {{500, 70}, {501, 80}}, 1000).empty());
  // 501 exited and a new process took its PID: read, and again at its
  // second sighting; its comm, not the old one's.
  EXPECT_EQ(Walk(&cache, {{500, 70}, {501, 81}}, 1000, "nginx"),
            std::vector<pid_t>{501});
  EXPECT_EQ(Walk(&cache, {{501, 81}}, 1000, "bash"), std::vector<pid_t>{501});
  EXPECT_TRUE(Walk(&cache, {{501, 81}}, 1000, "bash").empty());
}

TEST(CommCacheTest, ProcessesNotAskedAboutAreForgotten) {
  CommCache cache;
  Walk(&cache, {{1, 10}, {2, 20}, {3, 30}}, 1000);
  EXPECT_EQ(cache.size(), 3u);
  Walk(&cache, {{2, 20}}, 1000);
  EXPECT_EQ(cache.size(), 1u);
  Walk(&cache, {}, 1000);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(Walk(&cache, {{1, 10}}, 1000), std::vector<pid_t>{1});
}

TEST(CommCacheTest, AFailedReadIsAskedAgainNextWalk) {
  CommCache cache;
  // The process exited before its comm could be read: nothing recorded.
  cache.Begin(1000);
  std::string comm;
  EXPECT_FALSE(cache.Lookup({7, 70}, &comm));
  cache.End();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(Walk(&cache, {{7, 70}}, 1000), std::vector<pid_t>{7});
}

class CommWalkTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(copy_.root().empty());
    ASSERT_TRUE(ProcFs::Open(copy_.root(), &procfs_).ok());
    AddBasic(&ops_);
    discoverer_ = std::make_unique<Discoverer>(procfs_.get(), &ops_);
  }

  void WriteComm(const std::string& pid, const std::string& comm) {
    std::ofstream(copy_.root() + "/" + pid + "/comm", std::ios::trunc)
        << comm << "\n";
  }

  // One walk with re-read period "k": the command of the basic container's
  // net namespace, whose lowest member is PID 1200.
  std::string Walk(unsigned k) {
    DiscoveryOptions o;
    o.comm_reread_every = k;
    NamespaceGraph g;
    const Status s = discoverer_->Discover(o, &g);
    EXPECT_TRUE(s.ok()) << s.ToString();
    const NamespaceInfo* net = g.Find(NamespaceType::kNet, kBasicNet);
    if (net == nullptr) {
      ADD_FAILURE() << "the container's net namespace is missing";
      return "";
    }
    EXPECT_EQ(net->pid, 1200);
    return net->command;
  }

  FixtureCopy copy_{kFixtures + "basic"};
  std::unique_ptr<ProcFs> procfs_;
  FakeNamespaceOps ops_;
  std::unique_ptr<Discoverer> discoverer_;
};

TEST_F(CommWalkTest, TheRuntimesCommIsReplacedAtTheSecondSighting) {
  WriteComm("1200", "runc:[2:INIT]");
  EXPECT_EQ(Walk(1000), "runc:[2:INIT]");
  const std::size_t first_reads = discoverer_->last_comm_reads();
  EXPECT_GT(first_reads, 0u);
  // The runtime's process executes the container's command.
  WriteComm("1200", "nginx");
  EXPECT_EQ(Walk(1000), "nginx");
  EXPECT_EQ(discoverer_->last_comm_reads(), first_reads);
  EXPECT_EQ(Walk(1000), "nginx");
  EXPECT_EQ(discoverer_->last_comm_reads(), 0u);
  EXPECT_EQ(discoverer_->comm_cache_size(), first_reads);
}

TEST_F(CommWalkTest, ALaterChangeIsSeenWithinKWalks) {
  constexpr unsigned kK = 3;
  Walk(kK);
  Walk(kK);
  WriteComm("1200", "worker");
  unsigned walks = 0;
  std::string command;
  while (walks < kK && command != "worker") {
    command = Walk(kK);
    ++walks;
  }
  EXPECT_EQ(command, "worker") << "not seen within " << kK << " walks";
}

TEST_F(CommWalkTest, PeriodOneReadsTheCommEveryWalk) {
  Walk(1);
  Walk(1);
  WriteComm("1200", "worker");
  EXPECT_EQ(Walk(1), "worker");
  EXPECT_GT(discoverer_->last_comm_reads(), 0u);
}

}  // namespace
}  // namespace nsexp
