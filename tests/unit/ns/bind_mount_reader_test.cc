// Tests of BindMountReader over the fixture trees, with FakeNamespaceOps
// opening the mounts.
#include "ns/bind_mount_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ns/discovery.h"
#include "ns/fake_namespace_ops.h"
#include "ns/fixture_copy.h"
#include "ns/fixture_tables.h"

namespace nsexp {
namespace {

using namespace fixture;  // NOLINT(build/namespaces): the fixture names
using testing::ElementsAre;
using testing::IsEmpty;

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

class BindMountReaderTest : public testing::Test {
 protected:
  void SetUp() override { AddBindMounts(&ops_); }

  // Reads "scenario" (a fixture name, or an absolute path) with a scope that
  // lists its PIDs, selects "types" (all when empty) and calls resolved the
  // inodes in "resolved". The reader finds the mount namespaces itself unless
  // "members" is set.
  HolderFindings Read(const std::string& scenario,
                      std::set<NamespaceType> types = {},
                      std::set<std::uint64_t> resolved = {},
                      std::vector<std::pair<std::uint64_t, pid_t>> members = {},
                      bool describe = false, std::size_t workers = 1) {
    HolderFindings out;
    std::unique_ptr<ProcFs> procfs;
    const Status s = ProcFs::Open(
        scenario[0] == '/' ? scenario : kFixtures + scenario, &procfs);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return out;
    std::vector<pid_t> pids;
    EXPECT_TRUE(procfs->ListPids(&pids).ok());
    HolderScope scope{
        *procfs,
        ops_,
        pids,
        [&types](NamespaceType t) { return types.empty() || types.count(t); },
        [&resolved](const NamespaceLink& l) {
          return resolved.count(l.inode) == 0;
        },
        nullptr,
        describe,
        nullptr,
        workers};
    if (!members.empty()) {
      scope.members = [&members](NamespaceType t) {
        EXPECT_EQ(t, NamespaceType::kMnt);
        return members;
      };
    }
    BindMountReader reader;
    reader.Read(scope, &out);
    return out;
  }

  static std::vector<std::uint64_t> Inodes(const HolderFindings& f) {
    std::vector<std::uint64_t> out;
    for (const NsHandle& h : f.opened) out.push_back(h.inode);
    return out;
  }

  FakeNamespaceOps ops_;
};

TEST_F(BindMountReaderTest, KindAndSwitch) {
  BindMountReader reader;
  EXPECT_EQ(reader.kind(), HolderKind::kBindMount);
  DiscoveryOptions options;
  EXPECT_TRUE(reader.Enabled(options));
  options.bind_mounts = false;
  EXPECT_FALSE(reader.Enabled(options));
}

TEST_F(BindMountReaderTest, EveryMountHeldEachNamespaceOpenedOnce) {
  const HolderFindings f = Read("bind_mounts");
  // PID 1 (the initial mount namespace) lists blue, the escaped one and
  // uts; 400 (its own mount namespace) lists blue.
  EXPECT_THAT(f.held,
              ElementsAre(NamespaceLink{NamespaceType::kNet, kBoundNetBlue},
                          NamespaceLink{NamespaceType::kNet, kBoundNetSpace},
                          NamespaceLink{NamespaceType::kUts, kBoundUts},
                          NamespaceLink{NamespaceType::kNet, kBoundNetBlue}));
  EXPECT_THAT(Inodes(f), ElementsAre(kBoundNetBlue, kBoundNetSpace, kBoundUts));
  EXPECT_EQ(f.opened[2].type, NamespaceType::kUts);
  EXPECT_THAT(ops_.mount_points(),
              ElementsAre("/run/netns/blue", "/run/docker/netns/with space",
                          "/run/uts/held"));
  EXPECT_EQ(f.stats.holders, 4u);
  EXPECT_EQ(f.stats.vanished + f.stats.permission_denied + f.stats.other, 0u)
      << f.stats.first_error;
}

TEST_F(BindMountReaderTest, OneRecordPerMountAndMountNamespace) {
  const HolderFindings f = Read("bind_mounts", {}, {}, {}, true);
  ASSERT_EQ(f.bind_mounts.size(), 4u);
  EXPECT_EQ(f.bind_mounts[0].inode, kBoundNetBlue);
  EXPECT_EQ(f.bind_mounts[0].mount_ns_inode, kInitMnt);
  EXPECT_EQ(f.bind_mounts[0].path, "/run/netns/blue");
  EXPECT_EQ(f.bind_mounts[0].name, "blue");
  EXPECT_EQ(f.bind_mounts[1].path, "/run/docker/netns/with space");
  EXPECT_EQ(f.bind_mounts[1].name, "");
  EXPECT_EQ(f.bind_mounts[2].type, NamespaceType::kUts);
  EXPECT_EQ(f.bind_mounts[3].inode, kBoundNetBlue);
  EXPECT_EQ(f.bind_mounts[3].mount_ns_inode, kBoundMnt);
  ASSERT_EQ(f.how.size(), 4u);
  EXPECT_EQ(f.how[3], "bind mount /run/netns/blue in mnt:[4026532503]");
  EXPECT_EQ(f.stats.unscanned, 0u);
}

TEST_F(BindMountReaderTest, MountNamespacesWithoutProcessesAreUnscanned) {
  // The scope knows a third mount namespace that no process is in.
  const HolderFindings f =
      Read("bind_mounts", {}, {},
           {{kInitMnt, 1}, {kBoundMnt, 400}, {4026532999, 0}});
  EXPECT_EQ(f.stats.unscanned, 1u);
  EXPECT_EQ(f.held.size(), 4u);
  EXPECT_TRUE(f.how.empty());  // not asked to describe
}

TEST_F(BindMountReaderTest, WorkersReadTheSameAsOneThread) {
  // 64 mount namespaces (more than one thread's share), alternately seen
  // through PID 1 and PID 400: each mountinfo read once, in order.
  std::vector<std::pair<std::uint64_t, pid_t>> members;
  for (std::uint64_t i = 0; i < 64; ++i) {
    members.emplace_back(4026533000 + i, i % 2 == 0 ? 1 : 400);
  }
  const HolderFindings one = Read("bind_mounts", {}, {}, members, true, 1);
  ASSERT_EQ(one.bind_mounts.size(), 32u * 3 + 32u);
  for (std::size_t workers : {2, 3, 8}) {
    const HolderFindings many =
        Read("bind_mounts", {}, {}, members, true, workers);
    EXPECT_EQ(many.held, one.held) << workers << " workers";
    EXPECT_EQ(many.how, one.how) << workers << " workers";
    EXPECT_EQ(Inodes(many), Inodes(one)) << workers << " workers";
    EXPECT_EQ(many.stats.holders, one.stats.holders);
  }
}

TEST_F(BindMountReaderTest, BindMountedMountNamespaceWithoutProcesses) {
  // Both mount namespaces list a bind mount of a third one (as
  // `unshare --mount=/run/x/mnt` leaves it): counted once as unscanned.
  const FixtureCopy tree(kFixtures + "bind_mounts");
  tree.Append({"1", "400"}, "mountinfo",
              "702 29 0:4 mnt:[4026532504] /run/x/mnt rw - nsfs nsfs rw\n");
  ASSERT_FALSE(tree.root().empty());
  const HolderFindings f =
      Read(tree.root(), {}, {}, {{kInitMnt, 1}, {kBoundMnt, 400}});
  EXPECT_EQ(f.stats.unscanned, 1u);
  EXPECT_EQ(f.held.size(), 6u);
  // Without the members (mnt not collected) the reader finds the two
  // scanned mount namespaces itself: still one unscanned.
  EXPECT_EQ(Read(tree.root()).stats.unscanned, 1u);
}

TEST_F(BindMountReaderTest, BindMountedMountNamespaceWithProcessesIsScanned) {
  // A bind mount of PID 400's own mount namespace: it has a process.
  const FixtureCopy tree(kFixtures + "bind_mounts");
  tree.Append({"1"}, "mountinfo",
              "702 29 0:4 mnt:[4026532503] /run/x/mnt rw - nsfs nsfs rw\n");
  ASSERT_FALSE(tree.root().empty());
  EXPECT_EQ(Read(tree.root(), {}, {}, {{kInitMnt, 1}, {kBoundMnt, 400}})
                .stats.unscanned,
            0u);
}

TEST(BindMountNameTest, Table) {
  EXPECT_EQ(BindMountName("/run/netns/t1"), "t1");
  EXPECT_EQ(BindMountName("/var/run/netns/cni-1234"), "cni-1234");
  EXPECT_EQ(BindMountName("/run/netns/"), "");
  EXPECT_EQ(BindMountName("/run/netns/a/b"), "");
  EXPECT_EQ(BindMountName("/run/docker/netns/abc"), "");
  EXPECT_EQ(BindMountName("/run/netnsx/a"), "");
}

TEST_F(BindMountReaderTest, ResolvedNamespacesAreHeldButNotOpened) {
  const HolderFindings f = Read("bind_mounts", {}, {kBoundNetBlue});
  EXPECT_EQ(f.held.size(), 4u);
  EXPECT_THAT(Inodes(f), ElementsAre(kBoundNetSpace, kBoundUts));
  EXPECT_EQ(ops_.calls(kBoundNetBlue).open_mounted, 0);
}

TEST_F(BindMountReaderTest, UnselectedTypesAreSkipped) {
  const HolderFindings f = Read("bind_mounts", {NamespaceType::kUts});
  EXPECT_THAT(f.held,
              ElementsAre(NamespaceLink{NamespaceType::kUts, kBoundUts}));
  EXPECT_THAT(Inodes(f), ElementsAre(kBoundUts));
  EXPECT_EQ(f.stats.holders, 1u);
  EXPECT_EQ(ops_.total().open_mounted, 1);
}

TEST_F(BindMountReaderTest, UnreadableMountinfoIsCountedNotFatal) {
  // basic has no mountinfo at all: the reads for both mount namespaces
  // (PIDs 1 and 1200) find nothing.
  const HolderFindings f = Read("basic");
  EXPECT_THAT(f.held, IsEmpty());
  EXPECT_THAT(f.opened, IsEmpty());
  EXPECT_EQ(f.stats.vanished, 2u);
  EXPECT_THAT(f.stats.first_error, testing::HasSubstr("mountinfo"));
}

TEST_F(BindMountReaderTest, FailedOpenIsCountedAndOthersStillOpen) {
  ops_.at(kBoundUts).open_error = Status::PermissionDenied("fake");
  ops_.at(kBoundNetSpace).open_error = Status::IoError("fake");
  const HolderFindings f = Read("bind_mounts");
  EXPECT_THAT(Inodes(f), ElementsAre(kBoundNetBlue));
  EXPECT_EQ(f.held.size(), 4u);  // held all the same
  EXPECT_EQ(f.stats.permission_denied, 1u);
  EXPECT_EQ(f.stats.other, 1u);
  EXPECT_EQ(f.stats.vanished, 0u);
}

}  // namespace
}  // namespace nsexp
