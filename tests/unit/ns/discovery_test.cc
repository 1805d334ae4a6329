// Tests of Discoverer over the fixture trees, with FakeNamespaceOps
// standing in for the nsfs ioctls.
#include "ns/discovery.h"

#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ns/fake_namespace_ops.h"
#include "ns/fixture_tables.h"

namespace nsexp {
namespace {

namespace fs = std::filesystem;
using namespace fixture;  // NOLINT(build/namespaces): the fixture names
using testing::ElementsAre;
using testing::IsEmpty;

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

std::unique_ptr<ProcFs> OpenTree(const std::string& root) {
  std::unique_ptr<ProcFs> procfs;
  const Status s = ProcFs::Open(root, &procfs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return procfs;
}

// Finds a namespace in a graph, failing the test when it is absent.
const NamespaceInfo& Get(const NamespaceGraph& g, NamespaceType type,
                         std::uint64_t inode) {
  const NamespaceInfo* n = g.Find(type, inode);
  if (n == nullptr) {
    ADD_FAILURE() << "missing " << NamespaceTypeName(type) << ":[" << inode
                  << "]";
    static const NamespaceInfo kMissing;
    return kMissing;
  }
  return *n;
}

// A writable copy of a fixture tree in a fresh temporary directory, removed
// again on destruction.
class TempTree {
 public:
  explicit TempTree(const std::string& scenario) {
    std::string tmpl =
        (fs::temp_directory_path() / "nsexp_unit_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    // mkdtemp makes it 0700; an unprivileged child must be able to enter.
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read |
                              fs::perms::others_exec);
    root_ = dir_ + "/" + scenario;
    fs::copy(kFixtures + scenario, root_,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
  ~TempTree() {
    if (dir_.empty()) return;
    std::error_code ec;
    // Restore search permission on anything a test locked, then remove.
    for (auto it = fs::recursive_directory_iterator(
             dir_, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add,
                        ec);
      }
    }
    fs::remove_all(dir_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }

 private:
  std::string dir_;
  std::string root_;
};

class DiscoveryTest : public testing::Test {
 protected:
  // Discovers "scenario" of the fixtures with the fake; fails the test on
  // an error.
  NamespaceGraph Run(const std::string& scenario,
                     const DiscoveryOptions& options = DiscoveryOptions()) {
    procfs_ = OpenTree(kFixtures + scenario);
    NamespaceGraph g;
    if (procfs_ == nullptr) return g;
    discoverer_ = std::make_unique<Discoverer>(procfs_.get(), &ops_);
    const Status s = discoverer_->Discover(options, &g);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return g;
  }

  FakeNamespaceOps ops_;
  std::unique_ptr<ProcFs> procfs_;
  std::unique_ptr<Discoverer> discoverer_;
};

TEST_F(DiscoveryTest, BasicFindsEveryNamespaceOnce) {
  AddBasic(&ops_);
  const NamespaceGraph g = Run("basic");
  ASSERT_EQ(g.namespaces.size(), 13u);
  // Sorted by (type, inode), no duplicates.
  for (std::size_t i = 1; i < g.namespaces.size(); ++i) {
    const auto& a = g.namespaces[i - 1];
    const auto& b = g.namespaces[i];
    EXPECT_LT(std::make_pair(a.type, a.inode), std::make_pair(b.type, b.inode));
  }
  const std::uint64_t want_counts[] = {1, 2, 2, 2, 2, 1, 1, 2};
  for (NamespaceType t : kAllNamespaceTypes) {
    EXPECT_EQ(g.count_by_type[TypeIndex(t)], want_counts[TypeIndex(t)])
        << NamespaceTypeName(t);
  }
  EXPECT_EQ(g.stats.processes_scanned, 5u);
  EXPECT_EQ(g.stats.vanished, 0u);
  EXPECT_EQ(g.stats.permission_denied, 0u);
  EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
}

TEST_F(DiscoveryTest, BasicAttributes) {
  AddBasic(&ops_);
  const NamespaceGraph g = Run("basic");

  const NamespaceInfo& net = Get(g, NamespaceType::kNet, kInitNet);
  EXPECT_EQ(net.processes, 3u);  // 1, 2, 400
  EXPECT_EQ(net.pid, 1);
  EXPECT_EQ(net.command, "systemd");
  EXPECT_EQ(net.ns_id, std::optional<std::uint64_t>(4));
  EXPECT_EQ(net.owner_inode, std::optional<std::uint64_t>(kInitUser));
  EXPECT_EQ(net.parent_inode, std::nullopt);
  EXPECT_EQ(net.owner_uid, std::nullopt);
  EXPECT_THAT(net.members, IsEmpty());  // not requested

  const NamespaceInfo& cnet = Get(g, NamespaceType::kNet, kBasicNet);
  EXPECT_EQ(cnet.processes, 2u);
  EXPECT_EQ(cnet.pid, 1200);
  EXPECT_EQ(cnet.command, "nginx");
  EXPECT_EQ(cnet.ns_id, std::optional<std::uint64_t>(100));
  EXPECT_EQ(cnet.owner_inode, std::optional<std::uint64_t>(kInitUser));

  const NamespaceInfo& pid = Get(g, NamespaceType::kPid, kInitPid);
  EXPECT_EQ(pid.processes, 3u);
  EXPECT_EQ(pid.depth, 0u);
  EXPECT_EQ(pid.children, 1u);
  EXPECT_EQ(pid.parent_inode, std::nullopt);  // EPERM at the top

  const NamespaceInfo& cpid = Get(g, NamespaceType::kPid, kBasicPid);
  EXPECT_EQ(cpid.processes, 2u);
  EXPECT_EQ(cpid.depth, 1u);
  EXPECT_EQ(cpid.children, 0u);
  EXPECT_EQ(cpid.parent_inode, std::optional<std::uint64_t>(kInitPid));
  EXPECT_EQ(cpid.pid, 1200);

  const NamespaceInfo& user = Get(g, NamespaceType::kUser, kInitUser);
  EXPECT_EQ(user.processes, 5u);
  EXPECT_EQ(user.owner_uid, std::optional<uid_t>(0));
  EXPECT_EQ(user.owner_inode, std::nullopt);
  EXPECT_EQ(user.parent_inode, std::nullopt);
  EXPECT_EQ(user.depth, 0u);
  EXPECT_EQ(user.children, 0u);

  // Flat types have neither depth nor children.
  const NamespaceInfo& uts = Get(g, NamespaceType::kUts, kBasicUts);
  EXPECT_EQ(uts.depth, 0u);
  EXPECT_EQ(uts.children, 0u);
  EXPECT_EQ(uts.parent_inode, std::nullopt);
}

TEST_F(DiscoveryTest, OpensEachNamespaceOnceNotOncePerProcess) {
  AddBasic(&ops_);
  const NamespaceGraph g = Run("basic");
  // 5 processes x 8 links = 40 links, 13 namespaces, 12 opens: the initial
  // user namespace is met first as the owner of the first namespace.
  EXPECT_EQ(ops_.total().open, 12);
  EXPECT_EQ(ops_.calls(kInitUser).open, 0);
  EXPECT_EQ(ops_.calls(kInitNet).open, 1);
  EXPECT_EQ(ops_.calls(kInitPid).parent, 1);
  EXPECT_EQ(ops_.calls(kBasicPid).parent, 1);
  EXPECT_EQ(ops_.calls(kInitUser).owner_uid, 1);
  EXPECT_EQ(ops_.total().owner_uid, 1);       // user namespaces only
  EXPECT_EQ(ops_.calls(kInitNet).parent, 0);  // flat types are not climbed
  EXPECT_EQ(discoverer_->last_resolved(), 13u);
  EXPECT_EQ(discoverer_->cache_size(), 13u);
}

TEST_F(DiscoveryTest, NestedDepthAndChildren) {
  AddNested(&ops_);
  const NamespaceGraph g = Run("nested");
  struct Want {
    NamespaceType type;
    std::uint64_t inode;
    std::uint32_t depth;
    std::uint32_t children;
    std::uint32_t processes;
    std::optional<std::uint64_t> parent;
  };
  const Want wants[] = {
      {NamespaceType::kPid, kInitPid, 0, 2, 2, std::nullopt},
      {NamespaceType::kPid, kP1, 1, 1, 1, kInitPid},
      {NamespaceType::kPid, kP2, 2, 0, 2, kP1},
      {NamespaceType::kPid, kP3, 1, 1, 0, kInitPid},
      {NamespaceType::kPid, kP4, 2, 0, 1, kP3},
      {NamespaceType::kUser, kInitUser, 0, 2, 3, std::nullopt},
      {NamespaceType::kUser, kU1, 1, 1, 1, kInitUser},
      {NamespaceType::kUser, kU2, 2, 0, 2, kU1},
      {NamespaceType::kUser, kU3, 1, 0, 0, kInitUser},
  };
  for (const Want& w : wants) {
    SCOPED_TRACE(std::string(NamespaceTypeName(w.type)) + ":[" +
                 std::to_string(w.inode) + "]");
    const NamespaceInfo& n = Get(g, w.type, w.inode);
    EXPECT_EQ(n.depth, w.depth);
    EXPECT_EQ(n.children, w.children);
    EXPECT_EQ(n.processes, w.processes);
    EXPECT_EQ(n.parent_inode, w.parent);
  }
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kPid)], 5u);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kUser)], 4u);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kNet)], 2u);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kMnt)], 2u);
  EXPECT_EQ(g.namespaces.size(), 17u);
  EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
}

TEST_F(DiscoveryTest, HiddenPidAncestorHasNoProcesses) {
  AddNested(&ops_);
  const NamespaceGraph g = Run("nested");
  const NamespaceInfo& p3 = Get(g, NamespaceType::kPid, kP3);
  EXPECT_EQ(p3.processes, 0u);
  EXPECT_EQ(p3.pid, 0);
  EXPECT_EQ(p3.command, "");
  EXPECT_EQ(p3.ns_id, std::optional<std::uint64_t>(205));
  EXPECT_EQ(p3.owner_inode, std::optional<std::uint64_t>(kInitUser));
  EXPECT_EQ(ops_.calls(kP3).open, 0);
  EXPECT_EQ(ops_.calls(kP3).parent, 1);
}

TEST_F(DiscoveryTest, OwnerFoundByClimbingUserns) {
  AddNested(&ops_);
  const NamespaceGraph g = Run("nested");
  const NamespaceInfo& n1 = Get(g, NamespaceType::kNet, kN1);
  EXPECT_EQ(n1.owner_inode, std::optional<std::uint64_t>(kU3));
  EXPECT_EQ(n1.pid, 700);
  EXPECT_EQ(n1.command, "netns");
  const NamespaceInfo& u3 = Get(g, NamespaceType::kUser, kU3);
  EXPECT_EQ(u3.processes, 0u);
  EXPECT_EQ(u3.owner_uid, std::optional<uid_t>(1001));
  EXPECT_EQ(u3.owner_inode, std::optional<std::uint64_t>(kInitUser));
  EXPECT_EQ(u3.depth, 1u);
}

TEST_F(DiscoveryTest, OwnerInodeForNonUserTypes) {
  AddNested(&ops_);
  const NamespaceGraph g = Run("nested");
  EXPECT_EQ(Get(g, NamespaceType::kMnt, kM1).owner_inode,
            std::optional<std::uint64_t>(kU1));
  EXPECT_EQ(Get(g, NamespaceType::kPid, kP1).owner_inode,
            std::optional<std::uint64_t>(kU1));
  EXPECT_EQ(Get(g, NamespaceType::kPid, kP2).owner_inode,
            std::optional<std::uint64_t>(kU2));
  EXPECT_EQ(Get(g, NamespaceType::kCgroup, kInitCgroup).owner_inode,
            std::optional<std::uint64_t>(kInitUser));
  // A user namespace's owner is its parent.
  EXPECT_EQ(Get(g, NamespaceType::kUser, kU2).owner_inode,
            std::optional<std::uint64_t>(kU1));
  EXPECT_EQ(Get(g, NamespaceType::kUser, kU2).owner_uid,
            std::optional<uid_t>(1000));
}

TEST_F(DiscoveryTest, LowestPidAndItsCommand) {
  AddNested(&ops_);
  const NamespaceGraph g = Run("nested");
  struct Want {
    NamespaceType type;
    std::uint64_t inode;
    pid_t pid;
    const char* command;
  };
  const Want wants[] = {
      {NamespaceType::kPid, kInitPid, 1, "systemd"},
      {NamespaceType::kPid, kP1, 500, "unshare"},
      {NamespaceType::kPid, kP2, 501, "sh"},
      {NamespaceType::kPid, kP4, 600, "inner"},
      {NamespaceType::kUser, kU2, 501, "sh"},
      {NamespaceType::kMnt, kM1, 500, "unshare"},
      {NamespaceType::kMnt, kInitMnt, 1, "systemd"},
      {NamespaceType::kNet, kInitNet, 1, "systemd"},
  };
  for (const Want& w : wants) {
    const NamespaceInfo& n = Get(g, w.type, w.inode);
    EXPECT_EQ(n.pid, w.pid) << w.inode;
    EXPECT_EQ(n.command, w.command) << w.inode;
  }
  EXPECT_EQ(Get(g, NamespaceType::kNet, kInitNet).processes, 5u);
  EXPECT_EQ(Get(g, NamespaceType::kMnt, kM1).processes, 3u);
}

TEST_F(DiscoveryTest, CollectMembers) {
  AddNested(&ops_);
  DiscoveryOptions options;
  options.collect_members = true;
  const NamespaceGraph g = Run("nested", options);
  EXPECT_THAT(Get(g, NamespaceType::kPid, kInitPid).members,
              ElementsAre(1, 700));
  EXPECT_THAT(Get(g, NamespaceType::kPid, kP2).members, ElementsAre(501, 502));
  EXPECT_THAT(Get(g, NamespaceType::kPid, kP3).members, IsEmpty());
  EXPECT_THAT(Get(g, NamespaceType::kNet, kInitNet).members,
              ElementsAre(1, 500, 501, 502, 600));
  for (const NamespaceInfo& n : g.namespaces) {
    EXPECT_EQ(n.members.size(), n.processes) << n.inode;
  }
}

TEST_F(DiscoveryTest, TypesFilter) {
  AddNested(&ops_);
  DiscoveryOptions options;
  options.types = {};
  options.types.Add(NamespaceType::kNet);
  options.types.Add(NamespaceType::kPid);
  const NamespaceGraph g = Run("nested", options);
  for (const NamespaceInfo& n : g.namespaces) {
    EXPECT_TRUE(n.type == NamespaceType::kNet || n.type == NamespaceType::kPid)
        << NamespaceTypeName(n.type);
  }
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kNet)], 2u);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kPid)], 5u);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kUser)], 0u);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kMnt)], 0u);
  EXPECT_EQ(g.namespaces.size(), 7u);
  // The owner is still named, though user namespaces are not listed.
  EXPECT_EQ(Get(g, NamespaceType::kNet, kN1).owner_inode,
            std::optional<std::uint64_t>(kU3));
  EXPECT_EQ(g.Find(NamespaceType::kUser, kU3), nullptr);
  EXPECT_EQ(ops_.calls(kInitMnt).open, 0);
  EXPECT_EQ(ops_.calls(kU3).owner_uid, 0);
}

TEST_F(DiscoveryTest, IdUnsupportedLeavesNsIdEmptyAndIsAskedOnce) {
  AddBasic(&ops_, /*with_ids=*/false);
  const NamespaceGraph g = Run("basic");
  ASSERT_EQ(g.namespaces.size(), 13u);
  for (const NamespaceInfo& n : g.namespaces) {
    EXPECT_EQ(n.ns_id, std::nullopt) << n.inode;
  }
  EXPECT_EQ(ops_.total().id, 1);
  EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
  // Everything else still resolves.
  EXPECT_EQ(Get(g, NamespaceType::kPid, kBasicPid).parent_inode,
            std::optional<std::uint64_t>(kInitPid));
}

TEST_F(DiscoveryTest, OwnerHiddenByEpermIsNotAnError) {
  AddBasic(&ops_);
  ops_.at(kBasicNet).owner = std::nullopt;
  const NamespaceGraph g = Run("basic");
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBasicNet).owner_inode, std::nullopt);
  EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
}

TEST_F(DiscoveryTest, OpenNotFoundRetriedByTheNextMember) {
  AddBasic(&ops_);
  ops_.at(kBasicNet).open_not_found = 1;  // 1200 exits, 1201 does not
  const NamespaceGraph g = Run("basic");
  const NamespaceInfo& net = Get(g, NamespaceType::kNet, kBasicNet);
  EXPECT_EQ(net.processes, 2u);
  EXPECT_EQ(net.pid, 1200);
  EXPECT_EQ(net.owner_inode, std::optional<std::uint64_t>(kInitUser));
  EXPECT_EQ(net.ns_id, std::optional<std::uint64_t>(100));
  EXPECT_EQ(ops_.calls(kBasicNet).open, 2);
  EXPECT_EQ(g.stats.vanished, 1u);
  EXPECT_EQ(g.stats.other, 0u);
}

TEST_F(DiscoveryTest, OpenNotFoundForEveryMemberLeavesItUnresolved) {
  AddBasic(&ops_);
  ops_.at(kBasicNet).open_not_found = 100;
  const NamespaceGraph g = Run("basic");
  const NamespaceInfo& net = Get(g, NamespaceType::kNet, kBasicNet);
  EXPECT_EQ(net.processes, 2u);  // membership came from the links
  EXPECT_EQ(net.owner_inode, std::nullopt);
  EXPECT_EQ(net.ns_id, std::nullopt);
  EXPECT_EQ(g.stats.vanished, 2u);
  EXPECT_EQ(discoverer_->cache_size(), 12u);  // not cached without answers
}

TEST_F(DiscoveryTest, OpenDeniedIsCounted) {
  AddBasic(&ops_);
  ops_.at(kBasicIpc).open_error = Status::PermissionDenied("fake");
  const NamespaceGraph g = Run("basic");
  EXPECT_EQ(g.stats.permission_denied, 2u);  // 1200 and 1201
  EXPECT_EQ(Get(g, NamespaceType::kIpc, kBasicIpc).processes, 2u);
  EXPECT_EQ(g.stats.other, 0u);
}

TEST_F(DiscoveryTest, UnexpectedIoctlErrorsCountAsOther) {
  AddBasic(&ops_);
  // The container pid namespace names a parent the fake does not know.
  ops_.at(kBasicPid).parent = 4026539999;
  const NamespaceGraph g = Run("basic");
  EXPECT_GE(g.stats.other, 1u);
  EXPECT_THAT(g.stats.first_other, testing::HasSubstr("4026539999"));
  EXPECT_EQ(g.stats.vanished, 0u);
}

TEST_F(DiscoveryTest, VanishedProcessesAreCountedNotFatal) {
  AddHost(&ops_);
  const NamespaceGraph g = Run("vanished_pid");
  EXPECT_EQ(g.stats.processes_scanned, 5u);
  // 30 has no ns/, 31 is a regular file, 32's main thread has exited.
  EXPECT_EQ(g.stats.vanished, 3u);
  EXPECT_EQ(g.stats.permission_denied, 0u);
  EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
  EXPECT_EQ(g.namespaces.size(), 8u);
  EXPECT_EQ(Get(g, NamespaceType::kPid, kInitPid).processes, 3u);  // 1 32 33
  EXPECT_EQ(Get(g, NamespaceType::kUser, kInitUser).processes, 3u);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kInitNet).processes, 2u);  // 1 33
}

TEST_F(DiscoveryTest, MalformedLinksCountAsOther) {
  AddHost(&ops_);
  const NamespaceGraph g = Run("malformed");
  EXPECT_EQ(g.stats.processes_scanned, 2u);
  EXPECT_EQ(g.stats.other, 1u);  // once per process, not once per link
  EXPECT_THAT(g.stats.first_other, testing::HasSubstr("pid 40"));
  EXPECT_EQ(g.stats.vanished, 0u);
  // The links that did parse still count.
  EXPECT_EQ(Get(g, NamespaceType::kPid, kInitPid).processes, 2u);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kInitNet).processes, 1u);
  EXPECT_EQ(g.namespaces.size(), 8u);
}

TEST_F(DiscoveryTest, RemovedRootFailsDiscovery) {
  AddHost(&ops_);
  std::unique_ptr<ProcFs> procfs;
  {
    TempTree tree("basic");
    procfs = OpenTree(tree.root());
    ASSERT_NE(procfs, nullptr);
  }
  // The tree is gone: the kernel refuses to list a deleted directory.
  Discoverer d(procfs.get(), &ops_);
  NamespaceGraph g;
  g.namespaces.resize(3);  // replaced
  const Status s = d.Discover(DiscoveryOptions(), &g);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_THAT(g.namespaces, IsEmpty());
  EXPECT_EQ(ops_.total().open, 0);
}

TEST_F(DiscoveryTest, GraphFind) {
  AddBasic(&ops_);
  const NamespaceGraph g = Run("basic");
  const NamespaceInfo* n = g.Find(NamespaceType::kMnt, kBasicMnt);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->type, NamespaceType::kMnt);
  EXPECT_EQ(n->inode, kBasicMnt);
  EXPECT_EQ(g.Find(NamespaceType::kNet, kBasicMnt), nullptr);  // wrong type
  EXPECT_EQ(g.Find(NamespaceType::kMnt, 1), nullptr);
  EXPECT_EQ(g.Find(NamespaceType::kUts, 99999999999), nullptr);
  EXPECT_EQ(NamespaceGraph().Find(NamespaceType::kNet, kInitNet), nullptr);
}

TEST_F(DiscoveryTest, ExcludeKernelThreads) {
  AddBasic(&ops_);
  DiscoveryOptions options;
  options.exclude_kernel_threads = true;
  const NamespaceGraph g = Run("basic", options);
  // pid 2 (kthreadd) has PF_KTHREAD in its stat flags.
  EXPECT_EQ(Get(g, NamespaceType::kNet, kInitNet).processes, 2u);
  EXPECT_EQ(Get(g, NamespaceType::kPid, kInitPid).processes, 2u);
  EXPECT_EQ(g.stats.vanished, 0u);
  EXPECT_EQ(g.stats.other, 0u);
  const NamespaceGraph all = Run("basic");
  EXPECT_EQ(Get(all, NamespaceType::kNet, kInitNet).processes, 3u);
}

TEST_F(DiscoveryTest, BindMountedNamespacesFound) {
  AddBindMounts(&ops_);
  const NamespaceGraph g = Run("bind_mounts");
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kNet)], 3u);
  EXPECT_EQ(g.count_by_type[TypeIndex(NamespaceType::kUts)], 2u);
  EXPECT_EQ(g.namespaces.size(), 12u);  // 400 has its own mnt
  for (std::uint64_t inode : {kBoundNetBlue, kBoundNetSpace}) {
    const NamespaceInfo& n = Get(g, NamespaceType::kNet, inode);
    EXPECT_EQ(n.processes, 0u) << inode;
    EXPECT_EQ(n.pid, 0) << inode;
    EXPECT_EQ(n.command, "") << inode;
    EXPECT_EQ(n.owner_inode, std::optional<std::uint64_t>(kInitUser)) << inode;
    EXPECT_TRUE(n.ns_id.has_value()) << inode;
  }
  EXPECT_EQ(Get(g, NamespaceType::kUts, kBoundUts).ns_id,
            std::optional<std::uint64_t>(302));
  // The mount both mountinfos list is opened once; escapes are undone.
  EXPECT_EQ(ops_.calls(kBoundNetBlue).open_mounted, 1);
  EXPECT_THAT(ops_.mount_points(),
              ElementsAre("/run/netns/blue", "/run/docker/netns/with space",
                          "/run/uts/held"));
  EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
  // Blue is mounted in both mount namespaces: two holders, two records.
  const std::size_t bind = static_cast<std::size_t>(HolderKind::kBindMount);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBoundNetBlue).holders[bind], 2u);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBoundNetSpace).holders[bind], 1u);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kInitNet).holders[bind], 0u);
  ASSERT_EQ(g.bind_mounts.size(), 4u);
  EXPECT_EQ(g.bind_mounts[0].inode, kBoundNetBlue);
  EXPECT_EQ(g.bind_mounts[0].mount_ns_inode, kInitMnt);
  EXPECT_EQ(g.bind_mounts[1].inode, kBoundNetBlue);
  EXPECT_EQ(g.bind_mounts[1].mount_ns_inode, kBoundMnt);
  EXPECT_EQ(g.bind_mounts[1].name, "blue");
  const HolderStats* stats = nullptr;
  for (const HolderStats& h : g.stats.holders) {
    if (h.kind == "bind_mount") stats = &h;
  }
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(stats->holders, 4u);
  EXPECT_EQ(stats->unscanned, 0u);
}

TEST_F(DiscoveryTest, BindMountsOffOrFilteredOut) {
  AddBindMounts(&ops_);
  DiscoveryOptions off;
  off.bind_mounts = false;
  NamespaceGraph g = Run("bind_mounts", off);
  EXPECT_EQ(g.namespaces.size(), 9u);
  EXPECT_THAT(g.bind_mounts, IsEmpty());
  EXPECT_EQ(ops_.total().open_mounted, 0);

  DiscoveryOptions net_only;
  net_only.types = {};
  net_only.types.Add(NamespaceType::kNet);
  g = Run("bind_mounts", net_only);
  EXPECT_EQ(g.namespaces.size(), 3u);
  EXPECT_EQ(g.Find(NamespaceType::kUts, kBoundUts), nullptr);
}

TEST_F(DiscoveryTest, BindMountedNamespacesCachedAndDropped) {
  AddBindMounts(&ops_);
  TempTree tree("bind_mounts");
  auto procfs = OpenTree(tree.root());
  ASSERT_NE(procfs, nullptr);
  Discoverer d(procfs.get(), &ops_);
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(d.cache_size(), 12u);
  ops_.ResetCalls();
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(ops_.total().relations(), 0);
  // `ip netns delete`: the mount goes, and so does the namespace.
  fs::remove(tree.root() + "/1/mountinfo");
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(g.Find(NamespaceType::kNet, kBoundNetSpace), nullptr);
  EXPECT_NE(g.Find(NamespaceType::kNet, kBoundNetBlue), nullptr);
  EXPECT_EQ(d.cache_size(), 10u);
}

// ---------------------------------------------------------------------------
// Zombies

TEST_F(DiscoveryTest, ZombiesAreCountedApartFromVanished) {
  AddHost(&ops_);
  const NamespaceGraph g = Run("zombie");
  EXPECT_EQ(g.stats.processes_scanned, 4u);
  // 60 is a zombie; 62 lacks the same links but is not one (caught while
  // exiting): only 62 counts as vanished.
  EXPECT_EQ(g.stats.zombies, 1u);
  EXPECT_EQ(g.stats.vanished, 1u);
  EXPECT_EQ(g.stats.permission_denied, 0u);
  EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
  // Their pid and user links still read, and still count.
  EXPECT_EQ(Get(g, NamespaceType::kPid, kInitPid).processes, 4u);
  EXPECT_EQ(Get(g, NamespaceType::kUser, kInitUser).processes, 4u);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kInitNet).processes, 2u);  // 1 61
  EXPECT_EQ(g.namespaces.size(), 8u);
}

TEST_F(DiscoveryTest, ALongLivedZombieIsNotAnErrorOnEveryWalk) {
  AddHost(&ops_);
  Run("zombie");
  for (int walk = 0; walk < 3; ++walk) {
    NamespaceGraph g;
    ASSERT_TRUE(discoverer_->Discover(DiscoveryOptions(), &g).ok());
    EXPECT_EQ(g.stats.zombies, 1u) << walk;
    EXPECT_EQ(g.stats.vanished, 1u) << walk;  // 62 only
    EXPECT_EQ(g.stats.other, 0u) << walk;
  }
}

TEST_F(DiscoveryTest, ZombiesCountedWithTheKernelThreadFilterOn) {
  AddHost(&ops_);
  DiscoveryOptions options;
  options.exclude_kernel_threads = true;
  const NamespaceGraph g = Run("zombie", options);
  EXPECT_EQ(g.stats.zombies, 1u);
  EXPECT_EQ(g.stats.vanished, 1u);
  EXPECT_EQ(Get(g, NamespaceType::kPid, kInitPid).processes, 4u);
}

TEST_F(DiscoveryTest, MissingLinksWithoutStatAreVanished) {
  AddHost(&ops_);
  // vanished_pid/32 lacks the links a zombie lacks, and its stat too: it
  // has been reaped between the two reads.
  const NamespaceGraph g = Run("vanished_pid");
  EXPECT_EQ(g.stats.zombies, 0u);
  EXPECT_EQ(g.stats.vanished, 3u);
}

// ---------------------------------------------------------------------------
// Stage 3: holder readers

// A HolderReader that reports what a test gives it, and records what the
// scope answered.
class FakeHolderReader final : public HolderReader {
 public:
  struct Shared {
    bool enabled = true;
    int reads = 0;
    std::vector<NamespaceLink> held;
    std::vector<NamespaceLink> to_open;  // opened when the scope says so
    std::vector<Status> errors;
    // What scope.unresolved() said for each of "to_open", and
    // scope.selected() for each of "held", in order.
    std::vector<bool> unresolved;
    std::vector<bool> selected;
    std::size_t pids = 0;
  };
  explicit FakeHolderReader(Shared* shared) : shared_(shared) {}

  HolderKind kind() const override { return HolderKind::kSocket; }
  bool Enabled(const DiscoveryOptions& options) const override {
    (void)options;
    return shared_->enabled;
  }
  void Read(const HolderScope& scope, HolderFindings* out) override {
    ++shared_->reads;
    shared_->pids = scope.pids.size();
    for (const NamespaceLink& link : shared_->held) {
      shared_->selected.push_back(scope.selected(link.type));
      if (!scope.selected(link.type)) continue;
      out->held.push_back(link);
      ++out->stats.holders;
    }
    for (const NamespaceLink& link : shared_->to_open) {
      const bool unresolved = scope.unresolved(link);
      shared_->unresolved.push_back(unresolved);
      if (!unresolved) continue;
      NsHandle h;
      h.type = link.type;
      h.inode = link.inode;
      out->opened.push_back(std::move(h));
    }
    for (const Status& e : shared_->errors) CountHolderError(e, &out->stats);
  }

 private:
  Shared* shared_;
};

class HolderStageTest : public testing::Test {
 protected:
  NamespaceGraph Run(const std::string& scenario,
                     const DiscoveryOptions& options = DiscoveryOptions()) {
    procfs_ = OpenTree(kFixtures + scenario);
    NamespaceGraph g;
    if (procfs_ == nullptr) return g;
    std::vector<std::unique_ptr<HolderReader>> readers;
    readers.push_back(std::make_unique<FakeHolderReader>(&shared_));
    discoverer_ =
        std::make_unique<Discoverer>(procfs_.get(), &ops_, std::move(readers));
    const Status s = discoverer_->Discover(options, &g);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return g;
  }

  FakeNamespaceOps ops_;
  FakeHolderReader::Shared shared_;
  std::unique_ptr<ProcFs> procfs_;
  std::unique_ptr<Discoverer> discoverer_;
};

TEST_F(HolderStageTest, OpenedNamespacesAreResolvedAndHeldOnesListed) {
  AddBasic(&ops_);
  // A pid namespace below the container's, held by nothing the walk sees,
  // owned by a user namespace that no process is in either.
  AddUser(&ops_, 4026532700, kInitUser, 1000, 700);
  AddPid(&ops_, 4026532701, kBasicPid, 4026532700, 701);
  const NamespaceLink held_only{NamespaceType::kNet, 4026532702};
  shared_.held = {held_only, {NamespaceType::kPid, 4026532701}};
  shared_.to_open = {{NamespaceType::kPid, 4026532701},
                     {NamespaceType::kNet, kBasicNet}};  // the walk's
  const NamespaceGraph g = Run("basic");
  EXPECT_EQ(shared_.reads, 1);
  EXPECT_EQ(shared_.pids, 5u);
  EXPECT_THAT(shared_.unresolved, ElementsAre(true, false));

  const NamespaceInfo& pid = Get(g, NamespaceType::kPid, 4026532701);
  EXPECT_EQ(pid.processes, 0u);
  EXPECT_EQ(pid.ns_id, std::optional<std::uint64_t>(701));
  EXPECT_EQ(pid.parent_inode, std::optional<std::uint64_t>(kBasicPid));
  EXPECT_EQ(pid.depth, 2u);
  EXPECT_EQ(Get(g, NamespaceType::kPid, kBasicPid).children, 1u);
  // Its owner was found by the climb, as for the walk's namespaces.
  EXPECT_EQ(Get(g, NamespaceType::kUser, 4026532700).owner_uid,
            std::optional<uid_t>(1000));
  // Held but never opened: listed, without attributes.
  const NamespaceInfo& net = Get(g, NamespaceType::kNet, held_only.inode);
  EXPECT_EQ(net.ns_id, std::nullopt);
  EXPECT_EQ(net.owner_inode, std::nullopt);
  EXPECT_EQ(ops_.calls(kBasicNet).open, 1);  // by the walk only
  EXPECT_EQ(g.namespaces.size(), 16u);
  EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
}

TEST_F(HolderStageTest, NamespaceWithoutAWitnessIsCheckedAgainEachWalk) {
  AddBasic(&ops_);
  AddUser(&ops_, 4026532700, kInitUser, 1000, 700);
  AddPid(&ops_, 4026532701, kBasicPid, 4026532700, 701);
  shared_.to_open = {{NamespaceType::kPid, 4026532701}};
  Run("basic");
  ops_.ResetCalls();
  NamespaceGraph second;
  ASSERT_TRUE(discoverer_->Discover(DiscoveryOptions(), &second).ok());
  // Held by no process: no witness, so NS_GET_ID proves it again (and its
  // owner, pinned by it, comes from the cache); the walk's namespaces are
  // vouched for by their members.
  EXPECT_EQ(ops_.calls(4026532701).id, 1);
  EXPECT_EQ(ops_.calls(4026532701).parent, 0);
  EXPECT_EQ(ops_.calls(4026532700).id, 0);
  EXPECT_EQ(ops_.calls(kBasicPid).open, 0);
  EXPECT_EQ(ops_.total().id, 1);
  EXPECT_EQ(Get(second, NamespaceType::kPid, 4026532701).parent_inode,
            std::optional<std::uint64_t>(kBasicPid));

  // A new namespace that took its inode is asked about afresh.
  ops_.at(4026532701).id = 702;
  ops_.at(4026532701).parent = kInitPid;
  ASSERT_TRUE(discoverer_->Discover(DiscoveryOptions(), &second).ok());
  EXPECT_EQ(Get(second, NamespaceType::kPid, 4026532701).parent_inode,
            std::optional<std::uint64_t>(kInitPid));
}

TEST_F(HolderStageTest, StatsPerReaderStayOutOfTheWalksCounts) {
  AddBasic(&ops_);
  shared_.held = {{NamespaceType::kNet, kBasicNet}};
  shared_.errors = {Status::NotFound("gone"), Status::PermissionDenied("no"),
                    Status::PermissionDenied("no"), Status::IoError("odd")};
  const NamespaceGraph g = Run("basic");
  ASSERT_EQ(g.stats.holders.size(), 1u);
  const HolderStats& h = g.stats.holders[0];
  EXPECT_EQ(h.kind, "socket");
  EXPECT_EQ(h.holders, 1u);
  EXPECT_EQ(h.vanished, 1u);
  EXPECT_EQ(h.permission_denied, 2u);
  EXPECT_EQ(h.other, 1u);
  EXPECT_THAT(h.first_error, testing::HasSubstr("gone"));
  EXPECT_EQ(g.stats.vanished, 0u);
  EXPECT_EQ(g.stats.permission_denied, 0u);
  EXPECT_EQ(g.stats.other, 0u);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBasicNet).processes, 2u);
}

TEST_F(HolderStageTest, DisabledReaderIsNotRun) {
  AddBasic(&ops_);
  shared_.enabled = false;
  shared_.held = {{NamespaceType::kNet, 4026532702}};
  const NamespaceGraph g = Run("basic");
  EXPECT_EQ(shared_.reads, 0);
  EXPECT_THAT(g.stats.holders, IsEmpty());
  EXPECT_EQ(g.Find(NamespaceType::kNet, 4026532702), nullptr);
}

TEST_F(HolderStageTest, UnselectedTypesAreNeitherOpenedNorListed) {
  AddBasic(&ops_);
  AddFlat(&ops_, NamespaceType::kUts, 4026532703, kInitUser, 703);
  shared_.held = {{NamespaceType::kNet, 4026532702},
                  {NamespaceType::kUts, 4026532703}};
  shared_.to_open = {{NamespaceType::kUts, 4026532703}};
  DiscoveryOptions net_only;
  net_only.types = {};
  net_only.types.Add(NamespaceType::kNet);
  const NamespaceGraph g = Run("basic", net_only);
  EXPECT_THAT(shared_.selected, ElementsAre(true, false));
  EXPECT_NE(g.Find(NamespaceType::kNet, 4026532702), nullptr);
  EXPECT_EQ(g.Find(NamespaceType::kUts, 4026532703), nullptr);
  EXPECT_EQ(ops_.calls(4026532703).owner, 0);
}

// ---------------------------------------------------------------------------
// Stage 4: depth

// A procfs tree made on the spot: one process with the given links.
class OneProcessTree {
 public:
  explicit OneProcessTree(const std::vector<NamespaceLink>& links) {
    std::string tmpl =
        (fs::temp_directory_path() / "nsexp_unit_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    root_ = tmpl;
    fs::create_directories(root_ + "/1/ns");
    for (const NamespaceLink& l : links) {
      const std::string name(NamespaceTypeName(l.type));
      fs::create_symlink(name + ":[" + std::to_string(l.inode) + "]",
                         root_ + "/1/ns/" + name);
    }
  }
  ~OneProcessTree() {
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }
  OneProcessTree(const OneProcessTree&) = delete;
  OneProcessTree& operator=(const OneProcessTree&) = delete;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

TEST(DiscoveryDepthTest, DeepestUserNamespaceTheKernelAllows) {
  // The kernel nests user namespaces 33 levels below the initial one.
  constexpr std::uint64_t kBase = 4026533000;
  constexpr std::uint64_t kLevels = 33;
  FakeNamespaceOps ops;
  AddUser(&ops, kBase, std::nullopt, 0, 1);
  for (std::uint64_t l = 1; l <= kLevels; ++l) {
    AddUser(&ops, kBase + l, kBase + l - 1, 0, 1 + l);
  }
  OneProcessTree tree({{NamespaceType::kUser, kBase + kLevels}});
  auto procfs = OpenTree(tree.root());
  ASSERT_NE(procfs, nullptr);
  Discoverer d(procfs.get(), &ops);
  DiscoveryOptions user_only;
  user_only.types = {};
  user_only.types.Add(NamespaceType::kUser);
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(user_only, &g).ok());
  ASSERT_EQ(g.namespaces.size(), kLevels + 1);
  for (std::uint64_t l = 0; l <= kLevels; ++l) {
    const NamespaceInfo& n = Get(g, NamespaceType::kUser, kBase + l);
    EXPECT_EQ(n.depth, l);
    EXPECT_EQ(n.children, l < kLevels ? 1u : 0u) << l;
  }
}

TEST(DiscoveryDepthTest, ParentCycleFromABrokenOpsEnds) {
  constexpr std::uint64_t kA = 4026533100, kB = 4026533101;
  FakeNamespaceOps ops;
  AddHost(&ops);
  AddPid(&ops, kA, kB, kInitUser, 90);
  AddPid(&ops, kB, kA, kInitUser, 91);
  OneProcessTree tree({{NamespaceType::kPid, kA}});
  auto procfs = OpenTree(tree.root());
  ASSERT_NE(procfs, nullptr);
  Discoverer d(procfs.get(), &ops);
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_LE(Get(g, NamespaceType::kPid, kA).depth, 34u);
  EXPECT_LE(Get(g, NamespaceType::kPid, kB).depth, 34u);
  EXPECT_EQ(Get(g, NamespaceType::kPid, kA).children, 1u);
  EXPECT_EQ(Get(g, NamespaceType::kPid, kB).children, 1u);
}

// ---------------------------------------------------------------------------
// The attribute cache

// Options that re-check every cached namespace by its ioctls, as when no
// witness process vouches for it. The fixture trees never change between
// two walks, so the tests that make a namespace take a cached inode behind
// unchanged processes (what the witness cannot see) ask for this.
DiscoveryOptions Verifying() {
  DiscoveryOptions o;
  o.verify_namespace_ids = true;
  return o;
}

// The fields the cache must reproduce.
void ExpectSameGraph(const NamespaceGraph& a, const NamespaceGraph& b) {
  ASSERT_EQ(a.namespaces.size(), b.namespaces.size());
  for (std::size_t i = 0; i < a.namespaces.size(); ++i) {
    const NamespaceInfo& x = a.namespaces[i];
    const NamespaceInfo& y = b.namespaces[i];
    SCOPED_TRACE(x.inode);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.inode, y.inode);
    EXPECT_EQ(x.ns_id, y.ns_id);
    EXPECT_EQ(x.parent_inode, y.parent_inode);
    EXPECT_EQ(x.owner_inode, y.owner_inode);
    EXPECT_EQ(x.owner_uid, y.owner_uid);
    EXPECT_EQ(x.processes, y.processes);
    EXPECT_EQ(x.pid, y.pid);
    EXPECT_EQ(x.command, y.command);
    EXPECT_EQ(x.depth, y.depth);
    EXPECT_EQ(x.children, y.children);
  }
  EXPECT_EQ(a.count_by_type, b.count_by_type);
}

TEST_F(DiscoveryTest, SecondDiscoverUsesTheCache) {
  AddNested(&ops_);
  const NamespaceGraph first = Run("nested");
  EXPECT_EQ(discoverer_->last_resolved(), 17u);
  EXPECT_EQ(discoverer_->cache_size(), 17u);
  EXPECT_GT(ops_.total().relations(), 0);

  ops_.ResetCalls();
  NamespaceGraph second;
  ASSERT_TRUE(discoverer_->Discover(DiscoveryOptions(), &second).ok());
  EXPECT_EQ(ops_.total().parent, 0);
  EXPECT_EQ(ops_.total().owner, 0);
  EXPECT_EQ(ops_.total().owner_uid, 0);
  EXPECT_EQ(discoverer_->last_resolved(), 0u);
  EXPECT_EQ(discoverer_->cache_size(), 17u);
  ExpectSameGraph(first, second);
}

TEST_F(DiscoveryTest, WithoutIdsTheCacheIsNotTrusted) {
  // Nothing but NS_GET_ID tells a namespace from a newer one that took its
  // inode, so without ids every walk asks the ioctls again.
  AddBasic(&ops_, /*with_ids=*/false);
  const NamespaceGraph first = Run("basic", Verifying());
  const int relations = ops_.total().relations();
  const std::size_t resolved = discoverer_->last_resolved();
  EXPECT_GT(relations, 0);
  ops_.ResetCalls();
  NamespaceGraph second;
  ASSERT_TRUE(discoverer_->Discover(Verifying(), &second).ok());
  EXPECT_EQ(ops_.total().relations(), relations);
  EXPECT_EQ(discoverer_->last_resolved(), resolved);
  EXPECT_EQ(ops_.total().id, 0);  // known to be unsupported
  ExpectSameGraph(first, second);
}

TEST_F(DiscoveryTest, WithoutIdsAReusedInodeBetweenTwoWalksIsAskedAgain) {
  AddNested(&ops_);
  for (std::uint64_t inode : {kP1, kP2, kP3}) ops_.at(inode).id.reset();
  const NamespaceGraph first = Run("nested", Verifying());
  EXPECT_EQ(Get(first, NamespaceType::kPid, kP2).parent_inode,
            std::optional<std::uint64_t>(kP1));

  // P2's inode now belongs to a new namespace under P3; no id says so.
  ops_.at(kP2).parent = kP3;
  NamespaceGraph second;
  ASSERT_TRUE(discoverer_->Discover(Verifying(), &second).ok());
  const NamespaceInfo& p2 = Get(second, NamespaceType::kPid, kP2);
  EXPECT_EQ(p2.parent_inode, std::optional<std::uint64_t>(kP3));
  EXPECT_EQ(p2.depth, 2u);
  EXPECT_EQ(Get(second, NamespaceType::kPid, kP1).children, 0u);
  EXPECT_EQ(Get(second, NamespaceType::kPid, kP3).children, 2u);
}

TEST_F(DiscoveryTest, ChangedIdForTheSameInodeIsResolvedAgain) {
  AddNested(&ops_);
  const NamespaceGraph first = Run("nested", Verifying());
  EXPECT_EQ(Get(first, NamespaceType::kPid, kP2).parent_inode,
            std::optional<std::uint64_t>(kP1));

  // The inode of P2 now belongs to a new namespace, under P3.
  ops_.at(kP2).id = 999;
  ops_.at(kP2).parent = kP3;
  ops_.ResetCalls();
  NamespaceGraph second;
  ASSERT_TRUE(discoverer_->Discover(Verifying(), &second).ok());
  const NamespaceInfo& p2 = Get(second, NamespaceType::kPid, kP2);
  EXPECT_EQ(p2.ns_id, std::optional<std::uint64_t>(999));
  EXPECT_EQ(p2.parent_inode, std::optional<std::uint64_t>(kP3));
  EXPECT_EQ(p2.depth, 2u);
  EXPECT_EQ(Get(second, NamespaceType::kPid, kP1).children, 0u);
  EXPECT_EQ(Get(second, NamespaceType::kPid, kP3).children, 2u);
  EXPECT_EQ(ops_.calls(kP2).parent, 1);
  EXPECT_EQ(ops_.calls(kP2).owner, 1);
  EXPECT_EQ(ops_.total().relations(), 2);  // nothing else asked again
  EXPECT_EQ(discoverer_->last_resolved(), 1u);
}

TEST_F(DiscoveryTest, NamespaceNotSeenIsDroppedFromTheCache) {
  AddBasic(&ops_);
  TempTree tree("basic");
  auto procfs = OpenTree(tree.root());
  ASSERT_NE(procfs, nullptr);
  Discoverer d(procfs.get(), &ops_);
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(d.cache_size(), 13u);

  // The container exits.
  fs::remove_all(tree.root() + "/1200");
  fs::remove_all(tree.root() + "/1201");
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(d.cache_size(), 8u);
  EXPECT_EQ(g.namespaces.size(), 8u);
  EXPECT_EQ(g.Find(NamespaceType::kPid, kBasicPid), nullptr);
  EXPECT_EQ(Get(g, NamespaceType::kPid, kInitPid).children, 0u);

  // A new namespace reusing an old inode is asked about afresh.
  fs::copy(kFixtures + "basic/1200", tree.root() + "/1200",
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  ops_.ResetCalls();
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(d.cache_size(), 13u);
  EXPECT_EQ(ops_.calls(kBasicPid).parent, 1);
  EXPECT_EQ(ops_.calls(kInitPid).parent, 0);
  EXPECT_EQ(d.last_resolved(), 5u);
}

// Replaces the fixture process "from" with a copy at "to" (a new directory,
// made while the old one still exists, so its inode number differs): a new
// process that took the PID, or joined the same namespaces.
void CopyProcess(const std::string& root, const std::string& from,
                 const std::string& to, bool remove_old) {
  const std::string tmp = root + "/" + to + ".new";
  fs::copy(root + "/" + from, tmp,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  if (remove_old) fs::remove_all(root + "/" + from);
  fs::rename(tmp, root + "/" + to);
}

TEST_F(DiscoveryTest, WitnessThatStaysKeepsTheEntryWithoutSystemCalls) {
  AddBasic(&ops_);
  const NamespaceGraph first = Run("basic");
  EXPECT_EQ(discoverer_->last_witnessed(), 0u);
  ops_.ResetCalls();
  NamespaceGraph second;
  ASSERT_TRUE(discoverer_->Discover(DiscoveryOptions(), &second).ok());
  // No open, no NS_GET_ID, no relation ioctl: every namespace is vouched
  // for by the member it was opened through (12), or pinned by one (the
  // initial user namespace, the owner of them all).
  EXPECT_EQ(ops_.total().open, 0);
  EXPECT_EQ(ops_.total().id, 0);
  EXPECT_EQ(ops_.total().relations(), 0);
  EXPECT_EQ(discoverer_->last_witnessed(), 12u);
  EXPECT_EQ(discoverer_->last_resolved(), 0u);
  EXPECT_EQ(discoverer_->cache_size(), 13u);
  ExpectSameGraph(first, second);
}

TEST_F(DiscoveryTest, WitnessOnlyWithoutIdsToo) {
  // Without NS_GET_ID the witness is the only proof that saves the ioctls.
  AddBasic(&ops_, /*with_ids=*/false);
  const NamespaceGraph first = Run("basic");
  ops_.ResetCalls();
  NamespaceGraph second;
  ASSERT_TRUE(discoverer_->Discover(DiscoveryOptions(), &second).ok());
  EXPECT_EQ(ops_.total().open, 0);
  EXPECT_EQ(ops_.total().relations(), 0);
  ExpectSameGraph(first, second);
}

TEST_F(DiscoveryTest, VerifyNamespaceIdsOpensEveryNamespaceEachWalk) {
  AddBasic(&ops_);
  const NamespaceGraph first = Run("basic", Verifying());
  ops_.ResetCalls();
  NamespaceGraph second;
  ASSERT_TRUE(discoverer_->Discover(Verifying(), &second).ok());
  EXPECT_EQ(ops_.total().open, 12);
  EXPECT_EQ(ops_.total().id, 12);
  EXPECT_EQ(ops_.total().relations(), 0);  // the ids matched
  EXPECT_EQ(discoverer_->last_witnessed(), 0u);
  ExpectSameGraph(first, second);
}

TEST_F(DiscoveryTest, PidReusedByANewProcessForcesARecheck) {
  AddBasic(&ops_);
  TempTree tree("basic");
  auto procfs = OpenTree(tree.root());
  ASSERT_NE(procfs, nullptr);
  Discoverer d(procfs.get(), &ops_);
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBasicNet).ns_id,
            std::optional<std::uint64_t>(100));

  // PID 1200, the container's witness, is now a new process (its /proc
  // directory has another inode) in a new net namespace that took the old
  // one's inode.
  CopyProcess(tree.root(), "1200", "1200", /*remove_old=*/true);
  ops_.at(kBasicNet).id = 777;
  ops_.ResetCalls();
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBasicNet).ns_id,
            std::optional<std::uint64_t>(777));
  EXPECT_EQ(ops_.calls(kBasicNet).open, 1);
  EXPECT_EQ(ops_.calls(kBasicNet).owner, 1);  // asked again: a new id
  // The container's other namespaces: opened once each, and kept by id.
  EXPECT_EQ(ops_.calls(kBasicPid).open, 1);
  EXPECT_EQ(ops_.calls(kBasicPid).parent, 0);
  // The host's witnesses stayed.
  EXPECT_EQ(ops_.calls(kInitNet).open, 0);
  EXPECT_EQ(d.last_witnessed(), 7u);

  // The new process is the witness from now on.
  ops_.ResetCalls();
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(ops_.total().open, 0);
}

TEST_F(DiscoveryTest, WitnessThatMovedForcesARecheckThroughAnotherMember) {
  AddBasic(&ops_);
  TempTree tree("basic");
  auto procfs = OpenTree(tree.root());
  ASSERT_NE(procfs, nullptr);
  Discoverer d(procfs.get(), &ops_);
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());

  // The witness 1200 moved to the host's net namespace (setns); 1201 is
  // the container's last member and opens it.
  const std::string link = tree.root() + "/1200/ns/net";
  fs::remove(link);
  fs::create_symlink("net:[" + std::to_string(kInitNet) + "]", link);
  ops_.ResetCalls();
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(ops_.calls(kBasicNet).open, 1);
  EXPECT_EQ(ops_.calls(kBasicNet).id, 1);
  EXPECT_EQ(ops_.total().open, 1);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBasicNet).pid, 1201);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBasicNet).ns_id,
            std::optional<std::uint64_t>(100));
}

TEST_F(DiscoveryTest, WitnessLaterInTheWalkIsAwaited) {
  AddBasic(&ops_);
  TempTree tree("basic");
  auto procfs = OpenTree(tree.root());
  ASSERT_NE(procfs, nullptr);
  Discoverer d(procfs.get(), &ops_);
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());

  // A new process 1199 joins the container: the walk meets the container's
  // namespaces there first, before their witness 1200.
  CopyProcess(tree.root(), "1200", "1199", /*remove_old=*/false);
  ops_.ResetCalls();
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(ops_.total().open, 0);
  EXPECT_EQ(ops_.total().id, 0);
  EXPECT_EQ(d.last_witnessed(), 12u);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBasicNet).pid, 1199);
  EXPECT_EQ(Get(g, NamespaceType::kNet, kBasicNet).processes, 3u);
  EXPECT_EQ(Get(g, NamespaceType::kPid, kBasicPid).parent_inode,
            std::optional<std::uint64_t>(kInitPid));

  // Awaited, but the witness left before its links were read: the
  // namespace is opened through its lowest member after the walk.
  const std::string link = tree.root() + "/1200/ns/uts";
  fs::remove(link);
  fs::create_symlink("uts:[" + std::to_string(kInitUts) + "]", link);
  fs::remove_all(tree.root() + "/1199");
  CopyProcess(tree.root(), "1201", "1198", /*remove_old=*/false);
  ops_.ResetCalls();
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(ops_.total().open, 1);
  EXPECT_EQ(ops_.calls(kBasicUts).open, 1);
  EXPECT_EQ(ops_.calls(kBasicUts).id, 1);
  EXPECT_EQ(Get(g, NamespaceType::kUts, kBasicUts).ns_id,
            std::optional<std::uint64_t>(101));
}

TEST_F(DiscoveryTest, TypesFilterAndCacheTogether) {
  AddNested(&ops_);
  DiscoveryOptions pid_only;
  pid_only.types = {};
  pid_only.types.Add(NamespaceType::kPid);
  NamespaceGraph g = Run("nested", pid_only);
  EXPECT_EQ(g.namespaces.size(), 5u);
  // All types again: user namespaces are found, including owners that no
  // process is in, though pid namespaces come from the cache.
  ASSERT_TRUE(discoverer_->Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(g.namespaces.size(), 17u);
  EXPECT_NE(g.Find(NamespaceType::kUser, kU3), nullptr);
  EXPECT_EQ(Get(g, NamespaceType::kUser, kU2).depth, 2u);
  EXPECT_EQ(Get(g, NamespaceType::kPid, kP2).owner_inode,
            std::optional<std::uint64_t>(kU2));
  for (const NamespaceInfo& n : g.namespaces) {
    if (n.type == NamespaceType::kUser) {
      EXPECT_TRUE(n.owner_uid.has_value()) << n.inode;  // resolved
    }
  }
}

// ---------------------------------------------------------------------------
// Denied: a real permission check, as an unprivileged user in a child.

// Exit codes of the child; 0 is success.
enum DeniedCheck {
  kOpenFailed = 10,
  kReadLinkNotDenied,
  kDiscoverFailed,
  kWrongDeniedCount,
  kWrongScanned,
  kDeniedNamespaceListed,
  kWrongProcesses,
  kDropFailed,
  kOtherCounted,
};

int DeniedChild(const std::string& root) {
  // Group first: once the uid is dropped, setresgid is no longer allowed.
  if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
      ::setresuid(65534, 65534, 65534) != 0) {
    return kDropFailed;
  }
  std::unique_ptr<ProcFs> procfs;
  if (!ProcFs::Open(root, &procfs).ok()) return kOpenFailed;
  UniqueFd dir;
  // O_PATH needs no permission on 3/ns itself; reading a link in it does.
  if (!procfs->OpenPidNs(3, &dir).ok()) return kOpenFailed;
  NamespaceLink link{};
  if (!ProcFs::ReadNamespaceLinkIn(dir.get(), NamespaceType::kNet, &link)
           .IsPermissionDenied()) {
    return kReadLinkNotDenied;
  }
  FakeNamespaceOps ops;
  AddHost(&ops);
  AddFlat(&ops, NamespaceType::kNet, kDeniedNet, kInitUser, 300);
  Discoverer d(procfs.get(), &ops);
  NamespaceGraph g;
  if (!d.Discover(DiscoveryOptions(), &g).ok()) return kDiscoverFailed;
  if (g.stats.permission_denied != 1) return kWrongDeniedCount;
  if (g.stats.processes_scanned != 3) return kWrongScanned;
  if (g.stats.other != 0 || g.stats.vanished != 0) return kOtherCounted;
  if (g.Find(NamespaceType::kNet, kDeniedNet) != nullptr) {
    return kDeniedNamespaceListed;
  }
  const NamespaceInfo* net = g.Find(NamespaceType::kNet, kInitNet);
  if (net == nullptr || net->processes != 2) return kWrongProcesses;
  return 0;
}

TEST(DiscoveryDeniedTest, UnreadableNsDirectoryIsCountedAsDenied) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to drop to another uid and make a real "
                    "permission check";
  }
  TempTree tree("denied");
  const std::string ns_dir = tree.root() + "/3/ns";
  ASSERT_EQ(::chmod(ns_dir.c_str(), 0), 0);

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(DeniedChild(tree.root()));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "check " << WEXITSTATUS(status) << " failed (see DeniedCheck)";

  // As root the same tree reads fine: the permission bits were the cause.
  FakeNamespaceOps ops;
  AddHost(&ops);
  AddFlat(&ops, NamespaceType::kNet, kDeniedNet, kInitUser, 300);
  auto procfs = OpenTree(tree.root());
  ASSERT_NE(procfs, nullptr);
  Discoverer d(procfs.get(), &ops);
  NamespaceGraph g;
  ASSERT_TRUE(d.Discover(DiscoveryOptions(), &g).ok());
  EXPECT_EQ(g.stats.permission_denied, 0u);
  EXPECT_NE(g.Find(NamespaceType::kNet, kDeniedNet), nullptr);
}

}  // namespace
}  // namespace nsexp
