// Tests of ForChildrenReader, ThreadReader, FdReader and SocketReader over
// the `holders`
// fixture tree, and of what discovery makes of them.
#include "ns/process_holder_readers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ns/discovery.h"
#include "ns/fake_namespace_ops.h"
#include "ns/fixture_tables.h"

namespace nsexp {
namespace {

using namespace fixture;  // NOLINT(build/namespaces): the fixture names
using testing::ElementsAre;
using testing::IsEmpty;

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

class ProcessHolderReadersTest : public testing::Test {
 protected:
  void SetUp() override {
    AddHolders(&ops_);
    ASSERT_TRUE(ProcFs::Open(kFixtures + "holders", &procfs_).ok());
    ASSERT_TRUE(procfs_->ListPids(&pids_).ok());
  }

  HolderFindings Read(HolderReader* reader, bool describe = false,
                      bool all_resolved = false) {
    HolderFindings out;
    const HolderScope scope{
        *procfs_,
        ops_,
        pids_,
        [](NamespaceType) { return true; },
        [all_resolved](const NamespaceLink&) { return !all_resolved; },
        nullptr,
        describe,
        nullptr};
    reader->Read(scope, &out);
    return out;
  }

  static std::vector<std::uint64_t> Inodes(const HolderFindings& f) {
    std::vector<std::uint64_t> out;
    for (const NsHandle& h : f.opened) out.push_back(h.inode);
    return out;
  }

  FakeNamespaceOps ops_;
  std::unique_ptr<ProcFs> procfs_;
  std::vector<pid_t> pids_;
};

TEST_F(ProcessHolderReadersTest, KindsAndSwitches) {
  ForChildrenReader c;
  ThreadReader t;
  FdReader f;
  SocketReader s;
  EXPECT_EQ(c.kind(), HolderKind::kForChildren);
  EXPECT_EQ(t.kind(), HolderKind::kThread);
  EXPECT_EQ(f.kind(), HolderKind::kFd);
  EXPECT_EQ(s.kind(), HolderKind::kSocket);
  DiscoveryOptions o;  // all four off by default (docs/performance.md)
  EXPECT_FALSE(c.Enabled(o));
  EXPECT_FALSE(t.Enabled(o));
  EXPECT_FALSE(f.Enabled(o));
  EXPECT_FALSE(s.Enabled(o));
  o.for_children = true;
  o.threads = true;
  o.fds = true;
  o.sockets = true;
  EXPECT_TRUE(c.Enabled(o));
  EXPECT_TRUE(t.Enabled(o));
  EXPECT_TRUE(f.Enabled(o));
  EXPECT_TRUE(s.Enabled(o));
}

TEST_F(ProcessHolderReadersTest, ForChildrenOnlyWhereItDiffers) {
  ForChildrenReader reader;
  const HolderFindings f = Read(&reader, true);
  EXPECT_THAT(f.held,
              ElementsAre(NamespaceLink{NamespaceType::kPid, kChildrenPid}));
  EXPECT_THAT(Inodes(f), ElementsAre(kChildrenPid));
  EXPECT_THAT(ops_.open_at_names(), ElementsAre("pid_for_children"));
  EXPECT_THAT(f.how, ElementsAre("pid_for_children of 500 (holder)"));
  EXPECT_EQ(f.stats.holders, 1u);
  EXPECT_EQ(f.stats.vanished + f.stats.permission_denied + f.stats.other, 0u)
      << f.stats.first_error;
}

TEST_F(ProcessHolderReadersTest, OwnLinksFromTheWalkAreUsed) {
  // A scope that says the walk read 500's own pid namespace as the one its
  // pid_for_children names (and nothing for PID 1): then nothing differs.
  ASSERT_EQ(pids_, (std::vector<pid_t>{1, 500}));
  HolderFindings f;
  const HolderScope scope{*procfs_,
                          ops_,
                          pids_,
                          [](NamespaceType) { return true; },
                          [](const NamespaceLink&) { return true; },
                          nullptr,
                          false,
                          [](std::size_t index, NamespaceType t) {
                            return index == 1 && t == NamespaceType::kPid
                                       ? kChildrenPid
                                       : std::uint64_t{0};
                          }};
  ForChildrenReader reader;
  reader.Read(scope, &f);
  EXPECT_THAT(f.held, IsEmpty());
}

TEST_F(ProcessHolderReadersTest, ThreadsOnlyWhereTheyDiffer) {
  ThreadReader reader;
  const HolderFindings f = Read(&reader, true);
  EXPECT_THAT(f.held,
              ElementsAre(NamespaceLink{NamespaceType::kNet, kThreadNet}));
  EXPECT_THAT(ops_.open_at_names(), ElementsAre("net"));
  EXPECT_THAT(f.how, ElementsAre("thread 501 of 500 (holder)"));
  EXPECT_EQ(f.stats.vanished + f.stats.permission_denied + f.stats.other, 0u)
      << f.stats.first_error;
}

TEST_F(ProcessHolderReadersTest, FdsOfOtherProcessesNamespaceLinksOnly) {
  FdReader reader;
  const HolderFindings f = Read(&reader, true);
  // fds 3 and 7 of 500; the socket, the pipe and /dev/null are not
  // namespaces, and 1 is "self" (the exporter) whose fds are its own.
  EXPECT_THAT(f.held, ElementsAre(NamespaceLink{NamespaceType::kNet, kFdNet},
                                  NamespaceLink{NamespaceType::kNet, kFdNet}));
  EXPECT_THAT(Inodes(f), ElementsAre(kFdNet));  // opened once
  EXPECT_THAT(ops_.open_at_names(), ElementsAre("3"));
  EXPECT_THAT(f.how,
              ElementsAre("fd 3 of 500 (holder)", "fd 7 of 500 (holder)"));
  EXPECT_EQ(f.stats.holders, 2u);
  EXPECT_EQ(f.stats.vanished + f.stats.permission_denied + f.stats.other, 0u)
      << f.stats.first_error;
}

TEST_F(ProcessHolderReadersTest, ResolvedNamespacesAreHeldButNotOpened) {
  FdReader reader;
  const HolderFindings f = Read(&reader, false, true);
  EXPECT_EQ(f.held.size(), 2u);
  EXPECT_THAT(f.opened, IsEmpty());
  EXPECT_THAT(f.how, IsEmpty());
  EXPECT_EQ(ops_.total().open_at, 0);
}

TEST_F(ProcessHolderReadersTest, FailedOpenIsCounted) {
  ops_.at(kFdNet).open_error = Status::PermissionDenied("fake");
  FdReader reader;
  const HolderFindings f = Read(&reader);
  EXPECT_EQ(f.held.size(), 2u);
  EXPECT_THAT(f.opened, IsEmpty());
  // Tried again for the second fd: the first failure opened nothing.
  EXPECT_EQ(f.stats.permission_denied, 2u);
}

TEST_F(ProcessHolderReadersTest, SocketsInAnotherNetNamespaceOnly) {
  SocketReader reader;
  const HolderFindings f = Read(&reader, true);
  // Socket 12345 (fds 4 and 5) is in kSocketNet, not 500's own net
  // namespace: one holder. Socket 12346 (fd 6) is in 500's own namespace:
  // resolved, not counted. The exporter's own socket (pid 1 is "self") is
  // never asked about.
  EXPECT_THAT(f.held,
              ElementsAre(NamespaceLink{NamespaceType::kNet, kSocketNet}));
  EXPECT_THAT(f.how, ElementsAre("socket 4 of 500 (holder)"));
  EXPECT_THAT(Inodes(f), ElementsAre(kSocketNet));
  EXPECT_THAT(ops_.socket_fds(),
              ElementsAre(std::make_pair(500, 4), std::make_pair(500, 6)));
  EXPECT_EQ(ops_.total().open_process, 1);
  EXPECT_EQ(f.stats.holders, 1u);
  EXPECT_EQ(f.stats.vanished + f.stats.permission_denied + f.stats.other, 0u)
      << f.stats.first_error;
}

TEST_F(ProcessHolderReadersTest, SocketInResolvedNamespaceIsHeldNotOpened) {
  SocketReader reader;
  const HolderFindings f = Read(&reader, false, true);
  EXPECT_THAT(f.held,
              ElementsAre(NamespaceLink{NamespaceType::kNet, kSocketNet}));
  EXPECT_THAT(f.opened, IsEmpty());
  EXPECT_THAT(f.how, IsEmpty());
}

TEST_F(ProcessHolderReadersTest, SocketRefusalEndsTheProcess) {
  // Without CAP_NET_ADMIN (or ptrace access) the next sockets of the same
  // process would be refused too: counted once, not tried.
  ops_.SetSocketError(kSharedSocket, Status::PermissionDenied("fake"));
  SocketReader reader;
  const HolderFindings f = Read(&reader);
  EXPECT_THAT(f.held, IsEmpty());
  EXPECT_EQ(f.stats.permission_denied, 1u);
  EXPECT_EQ(f.stats.vanished + f.stats.other, 0u);
  EXPECT_THAT(ops_.socket_fds(), ElementsAre(std::make_pair(500, 4)));
}

TEST_F(ProcessHolderReadersTest, ClosedSocketIsVanishedAndTriedAgain) {
  // Not resolved through fd 4, so fd 5 (the same socket) is asked too.
  ops_.SetSocketError(kSharedSocket, Status::NotFound("fake: EBADF"));
  SocketReader reader;
  const HolderFindings f = Read(&reader);
  EXPECT_THAT(f.held, IsEmpty());
  EXPECT_EQ(f.stats.vanished, 2u);
  EXPECT_EQ(f.stats.permission_denied + f.stats.other, 0u);
  EXPECT_THAT(ops_.socket_fds(),
              ElementsAre(std::make_pair(500, 4), std::make_pair(500, 5),
                          std::make_pair(500, 6)));
}

TEST_F(ProcessHolderReadersTest, OldKernelSwitchesSocketsOff) {
  ops_.SetProcessError(Status::Unsupported("fake: ENOSYS"));
  SocketReader reader;
  HolderFindings f = Read(&reader);
  EXPECT_THAT(f.held, IsEmpty());
  EXPECT_EQ(f.stats.vanished + f.stats.permission_denied + f.stats.other, 0u);
  EXPECT_EQ(ops_.total().open_process, 1);
  f = Read(&reader);  // off for good: not even the pidfd is tried
  EXPECT_EQ(ops_.total().open_process, 1);
  EXPECT_EQ(ops_.total().open_socket, 0);
}

TEST_F(ProcessHolderReadersTest, DiscoveryReportsANamespaceOnlyASocketHolds) {
  Discoverer d(procfs_.get(), &ops_);
  DiscoveryOptions options;
  options.sockets = true;
  options.collect_members = true;
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(options, &g).ok());
  const NamespaceInfo* n = g.Find(NamespaceType::kNet, kSocketNet);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->processes, 0u);
  EXPECT_EQ(n->holders[static_cast<std::size_t>(HolderKind::kSocket)], 1u);
  EXPECT_EQ(n->held_by, "socket 4 of 500 (holder)");
  EXPECT_EQ(n->ns_id, std::optional<std::uint64_t>(403));
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kNet)], 2u);
  const NamespaceInfo* home = g.Find(NamespaceType::kNet, kInitNet);
  ASSERT_NE(home, nullptr);
  EXPECT_EQ(home->holders[static_cast<std::size_t>(HolderKind::kSocket)], 0u);

  options.sockets = false;
  ASSERT_TRUE(d.Discover(options, &g).ok());
  EXPECT_EQ(g.Find(NamespaceType::kNet, kSocketNet), nullptr);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kNet)], 1u);
}

TEST_F(ProcessHolderReadersTest, DiscoveryCountsHoldersAndCgroups) {
  Discoverer d(procfs_.get(), &ops_);
  DiscoveryOptions options;
  options.threads = true;
  options.fds = true;
  options.for_children = true;
  options.collect_members = true;
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(options, &g).ok());
  auto get = [&g](NamespaceType t, std::uint64_t inode) {
    const NamespaceInfo* n = g.Find(t, inode);
    EXPECT_NE(n, nullptr) << inode;
    return n == nullptr ? NamespaceInfo() : *n;
  };
  auto at = [](HolderKind k) { return static_cast<std::size_t>(k); };
  const NamespaceInfo fd_net = get(NamespaceType::kNet, kFdNet);
  EXPECT_EQ(fd_net.processes, 0u);
  EXPECT_EQ(fd_net.holders[at(HolderKind::kFd)], 2u);
  EXPECT_EQ(fd_net.held_by, "fd 3 of 500 (holder)");
  EXPECT_EQ(fd_net.ns_id, std::optional<std::uint64_t>(400));
  const NamespaceInfo child = get(NamespaceType::kPid, kChildrenPid);
  EXPECT_EQ(child.holders[at(HolderKind::kForChildren)], 1u);
  EXPECT_EQ(child.parent_inode, std::optional<std::uint64_t>(kInitPid));
  EXPECT_EQ(child.depth, 1u);
  EXPECT_EQ(
      get(NamespaceType::kNet, kThreadNet).holders[at(HolderKind::kThread)],
      1u);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kNet)], 3u);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kPid)], 2u);
  // Two cgroup files; the initial net namespace has one member in each.
  ASSERT_EQ(g.cgroups.size(), 2u);
  EXPECT_EQ(g.cgroups[0], "0::/init.scope\n");
  const NamespaceInfo init_net = get(NamespaceType::kNet, kInitNet);
  const CgroupCounts counts = g.CgroupMembers(init_net);
  EXPECT_THAT(std::vector<CgroupCount>(counts.begin(), counts.end()),
              ElementsAre(std::make_pair(0u, 1u), std::make_pair(1u, 1u)));
  EXPECT_TRUE(g.CgroupMembers(fd_net).empty());

  options.fds = false;
  options.threads = false;
  options.for_children = false;
  options.cgroups = false;
  ASSERT_TRUE(d.Discover(options, &g).ok());
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kNet)], 1u);
  EXPECT_EQ(g.Find(NamespaceType::kPid, kChildrenPid), nullptr);
  EXPECT_TRUE(g.cgroups.empty());
}

}  // namespace
}  // namespace nsexp
