// Tests of the kernel-backed NamespaceOps on this process's own namespaces:
// what any user may ask about the namespaces it is in.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>

#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"

namespace nsexp {
namespace {

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

// Open descriptors of this process, from "procfs".
int CountOpenFds(const ProcFs& procfs) {
  int n = 0;
  DIR* d = ::opendir((procfs.root() + "/self/fd").c_str());
  if (d == nullptr) return -1;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

class RealNamespaceOpsTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ProcFs::Open(std::string(ProcFs::kDefaultRoot), &procfs_).ok());
    ASSERT_TRUE(procfs_->OpenPidNs(::getpid(), &self_ns_).ok());
    ops_ = NewRealNamespaceOps();
  }

  // Opens this process's namespace of "type", checking that the handle
  // names what readlink said.
  NsHandle OpenOwn(NamespaceType type) {
    NamespaceLink link{};
    NsHandle h;
    const Status rs = ProcFs::ReadNamespaceLinkIn(self_ns_.get(), type, &link);
    if (!rs.ok()) {
      ADD_FAILURE() << rs.ToString();
      return h;
    }
    const Status s = ops_->Open(self_ns_.get(), link, &h);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(h.inode, link.inode);
    EXPECT_EQ(h.type, type);
    return h;
  }

  std::unique_ptr<ProcFs> procfs_;
  UniqueFd self_ns_;  // /proc/self/ns, for readlink and NamespaceOps::Open
  std::unique_ptr<NamespaceOps> ops_;
};

TEST_F(RealNamespaceOpsTest, OpenAgreesWithReadlinkForEveryType) {
  for (NamespaceType t : kAllNamespaceTypes) {
    SCOPED_TRACE(NamespaceTypeName(t));
    const NsHandle h = OpenOwn(t);
    EXPECT_TRUE(h.fd.valid());
  }
}

TEST_F(RealNamespaceOpsTest, IdsAreStableAndDistinct) {
  std::set<std::uint64_t> ids;
  for (NamespaceType t : kAllNamespaceTypes) {
    const NsHandle a = OpenOwn(t);
    const NsHandle b = OpenOwn(t);
    std::uint64_t id_a = 0, id_b = 0;
    const Status s = ops_->Id(a, &id_a);
    if (s.IsUnsupported()) GTEST_SKIP() << "kernel before 6.18: no NS_GET_ID";
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(ops_->Id(b, &id_b).ok());
    EXPECT_EQ(id_a, id_b) << NamespaceTypeName(t);
    EXPECT_NE(id_a, 0u);
    ids.insert(id_a);
  }
  EXPECT_EQ(ids.size(), kAllNamespaceTypes.size());
}

TEST_F(RealNamespaceOpsTest, OwnNamespacesAreTheTopOfTheVisibleTree) {
  // NS_GET_PARENT answers EPERM for the caller's own pid and user
  // namespaces: their parents, if any, are outside its view.
  for (NamespaceType t : {NamespaceType::kPid, NamespaceType::kUser}) {
    SCOPED_TRACE(NamespaceTypeName(t));
    const NsHandle h = OpenOwn(t);
    NsHandle parent;
    const Status s = ops_->Parent(h, &parent);
    EXPECT_TRUE(s.IsPermissionDenied()) << s.ToString();
    EXPECT_FALSE(parent.fd.valid());
  }
}

TEST_F(RealNamespaceOpsTest, FlatTypesHaveNoParent) {
  const NsHandle net = OpenOwn(NamespaceType::kNet);
  NsHandle parent;
  const Status s = ops_->Parent(net, &parent);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.IsPermissionDenied()) << "EINVAL is not the top of a tree";
}

TEST_F(RealNamespaceOpsTest, OwnerOfAFlatNamespaceIsAUserNamespace) {
  const NsHandle uts = OpenOwn(NamespaceType::kUts);
  NsHandle owner;
  const Status s = ops_->Owner(uts, &owner);
  if (s.IsPermissionDenied()) {
    GTEST_SKIP() << "the owner is outside this process's user namespace";
  }
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(owner.type, NamespaceType::kUser);
  EXPECT_TRUE(owner.fd.valid());
  EXPECT_NE(owner.inode, 0u);
  uid_t uid = 12345;
  EXPECT_TRUE(ops_->OwnerUid(owner, &uid).ok());
}

TEST_F(RealNamespaceOpsTest, OwnerUidOnlyForUserNamespaces) {
  uid_t uid = 12345;
  const NsHandle user = OpenOwn(NamespaceType::kUser);
  EXPECT_TRUE(ops_->OwnerUid(user, &uid).ok());
  const NsHandle net = OpenOwn(NamespaceType::kNet);
  EXPECT_FALSE(ops_->OwnerUid(net, &uid).ok());
}

TEST_F(RealNamespaceOpsTest, NoDescriptorLeaks) {
  const int before = CountOpenFds(*procfs_);
  ASSERT_GT(before, 0);
  for (int i = 0; i < 20; ++i) {
    for (NamespaceType t : kAllNamespaceTypes) {
      NsHandle h = OpenOwn(t);
      NsHandle rel;
      (void)ops_->Parent(h, &rel);
      (void)ops_->Owner(h, &rel);
      std::uint64_t id = 0;
      (void)ops_->Id(h, &id);
    }
  }
  EXPECT_EQ(CountOpenFds(*procfs_), before);
}

TEST_F(RealNamespaceOpsTest, OwnSocketIsInOwnNetNamespace) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: SIOCGSKNS answers only to CAP_NET_ADMIN";
  }
  UniqueFd pidfd;
  const Status ps = ops_->OpenProcess(::getpid(), &pidfd);
  if (ps.IsUnsupported()) GTEST_SKIP() << "kernel without pidfd_open";
  ASSERT_TRUE(ps.ok()) << ps.ToString();
  const int before = CountOpenFds(*procfs_);
  const UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock.valid());
  struct stat st {};
  ASSERT_EQ(::fstat(sock.get(), &st), 0);
  const auto inode = static_cast<std::uint64_t>(st.st_ino);
  {
    NsHandle netns;
    const Status s =
        ops_->OpenSocketNamespace(pidfd.get(), sock.get(), inode, &netns);
    if (s.IsUnsupported()) GTEST_SKIP() << "kernel without pidfd_getfd";
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(netns.type, NamespaceType::kNet);
    EXPECT_EQ(netns.inode, OpenOwn(NamespaceType::kNet).inode);
    EXPECT_TRUE(netns.fd.valid());
  }
  // Another inode than readlink said: the fd was reused meanwhile.
  NsHandle other;
  EXPECT_TRUE(
      ops_->OpenSocketNamespace(pidfd.get(), sock.get(), inode + 1, &other)
          .IsNotFound());
  // A closed fd (EBADF) is gone, not an error.
  EXPECT_TRUE(ops_->OpenSocketNamespace(pidfd.get(), 1 << 20, inode, &other)
                  .IsNotFound());
  // The copies of the socket are closed: one more fd, the socket itself.
  EXPECT_EQ(CountOpenFds(*procfs_), before + 1);
}

TEST(RealNamespaceOpsFixtureTest, FixtureLinksCannotBeOpened) {
  // A fixture's ns/net is a symlink to "net:[...]", which names no file:
  // to the real implementation that looks like an exited process.
  std::unique_ptr<ProcFs> procfs;
  ASSERT_TRUE(ProcFs::Open(kFixtures + "basic", &procfs).ok());
  UniqueFd dir;
  ASSERT_TRUE(procfs->OpenPidNs(1, &dir).ok());
  auto ops = NewRealNamespaceOps();
  NsHandle h;
  const Status s =
      ops->Open(dir.get(), NamespaceLink{NamespaceType::kNet, 4026531840}, &h);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

}  // namespace
}  // namespace nsexp
