// Tests of the cgroup path classifier: a fixture /proc tree with one
// `cgroup` file per layout (tests/fixtures/proc/cgroups), read through
// ProcFs, plus direct cases.
#include "workload/workload.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proc/proc_fs.h"

namespace nsexp {
namespace {

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";
const std::string kH =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kH2 =
    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const std::string kUid = "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718";

struct Case {
  pid_t pid;
  bool container;
  std::string runtime;
  std::string id;
  std::string pod_uid;
};

TEST(WorkloadTest, FixtureLayouts) {
  const std::vector<Case> cases = {
      // docker, systemd driver
      {101, true, "docker", "docker://" + kH, ""},
      // docker, cgroupfs, v1
      {102, true, "docker", "docker://" + kH, ""},
      // containerd, burstable pod
      {103, true, "containerd", "containerd://" + kH, kUid},
      // containerd, Guaranteed pod
      {104, true, "containerd", "containerd://" + kH, kUid},
      // CRI-O
      {105, true, "cri-o", "cri-o://" + kH, kUid},
      // CRI-O conmon: not the container
      {106, false, "", "", ""},
      // dockershim / cri-dockerd
      {107, true, "docker", "docker://" + kH, kUid},
      // kubelet cgroupfs driver, v1
      {108, true, "", kH, kUid},
      // cgroupfs, Guaranteed pod
      {109, true, "", kH, kUid},
      // containerd without SystemdCgroup
      {110, true, "containerd", "containerd://" + kH, kUid},
      // podman, rootful
      {111, true, "podman", "podman://" + kH, ""},
      // podman, rootless, split cgroups
      {112, true, "podman", "podman://" + kH, ""},
      // podman, cgroupfs manager
      {113, true, "podman", "podman://" + kH, ""},
      // podman conmon: not the container
      {114, false, "", "", ""},
      // plain containerd
      {115, true, "containerd", "containerd://" + kH, ""},
      // systemd-nspawn, escaped name
      {116, true, "systemd-nspawn", "systemd-nspawn://web-1", ""},
      // LXC
      {117, true, "lxc", "lxc://c1", ""},
      // LXC 4+, v1
      {118, true, "lxc", "lxc://c2", ""},
      // LXC 5 payload, a service inside
      {119, true, "lxc", "lxc://c3", ""},
      // from a cgroup namespace, systemd
      {120, true, "containerd", "containerd://" + kH2, kUid},
      // from a cgroup namespace, cgroupfs
      {121, true, "", kH2, kUid},
      // host service
      {122, false, "", "", ""},
      // the root
      {123, false, "", "", ""},
      // malformed lines skipped
      {124, true, "docker", "docker://" + kH2, ""},
      // relative, too short to be containerd
      {125, false, "", "", ""},
      // 63 hex digits
      {126, false, "", "", ""},
      // a process in a sub-cgroup
      {127, true, "containerd", "containerd://" + kH, kUid},
      // nerdctl, systemd driver
      {128, true, "containerd", "containerd://" + kH, ""},
  };
  std::unique_ptr<ProcFs> procfs;
  ASSERT_TRUE(ProcFs::Open(kFixtures + "cgroups", &procfs).ok());
  std::vector<pid_t> pids;
  ASSERT_TRUE(procfs->ListPids(&pids).ok());
  EXPECT_EQ(pids.size(), cases.size()) << "a fixture without a case";
  for (const Case& c : cases) {
    SCOPED_TRACE("pid " + std::to_string(c.pid));
    std::vector<CgroupEntry> entries;
    ASSERT_TRUE(procfs->ReadCgroups(c.pid, &entries).ok());
    ASSERT_FALSE(entries.empty());
    const std::optional<Workload> w =
        ClassifyCgroupPaths(CgroupPathsByPreference(entries));
    ASSERT_EQ(w.has_value(), c.container);
    if (!w) continue;
    EXPECT_EQ(w->container_runtime, c.runtime);
    EXPECT_EQ(w->container_id, c.id);
    EXPECT_EQ(w->pod_uid, c.pod_uid);
  }
}

TEST(WorkloadTest, InnermostContainerWins) {
  // A kind node (a docker container) running a pod.
  const auto w = ClassifyCgroupPath(
      "/system.slice/docker-" + kH2 +
      ".scope/kubelet.slice/kubelet-kubepods.slice/"
      "kubelet-kubepods-besteffort.slice/"
      "kubelet-kubepods-besteffort-pod1f2e3d4c_5b6a_7980_a1b2_c3d4e5f60718."
      "slice/cri-containerd-" +
      kH + ".scope");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->container_id, "containerd://" + kH);
}

TEST(WorkloadTest, NotContainers) {
  for (const std::string& p :
       {std::string(""), std::string("/"), std::string("/user.slice"),
        std::string("/system.slice/containerd.service"),
        std::string("/machine.slice/machine-qemu\\x2d1\\x2dvm.scope"),
        std::string("/a/../docker/") + kH, std::string("/docker/") + kH + "x",
        std::string("/kubepods.slice/kubepods-besteffort.slice"),
        std::string("/x/y/") + kH}) {
    EXPECT_FALSE(ClassifyCgroupPath(p).has_value()) << p;
  }
}

// Found by the cgroup fuzz target's property that an id holds no '/'
// (tests/fuzz/regressions/cgroup/nspawn_escaped_slash): "\x2f" unescaped
// made the container id "systemd-nspawn://a/b".
TEST(WorkloadTest, NspawnNamesThatNoMachineHasAreNotContainers) {
  for (const std::string& name :
       {std::string("a\\x2fb"), std::string("a\\x0ab"), std::string("a\\x20b"),
        std::string(65, 'm')}) {
    const std::string p = "/machine.slice/machine-" + name + ".scope";
    EXPECT_FALSE(ClassifyCgroupPath(p).has_value()) << p;
  }
  const auto w = ClassifyCgroupPath("/machine.slice/machine-" +
                                    std::string(64, 'm') + ".scope");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->container_id, "systemd-nspawn://" + std::string(64, 'm'));
}

TEST(WorkloadTest, FirstPathThatNamesAContainerWins) {
  const auto w = ClassifyCgroupPaths(
      {"/", "/user.slice", "/docker/" + kH, "/docker/" + kH2});
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->container_id, "docker://" + kH);
  EXPECT_FALSE(ClassifyCgroupPaths({}).has_value());
}

TEST(WorkloadTest, NormalizePodUid) {
  EXPECT_EQ(NormalizePodUid("1f2e3d4c_5b6a_7980_a1b2_c3d4e5f60718"), kUid);
  EXPECT_EQ(NormalizePodUid(kUid), kUid);
  EXPECT_FALSE(
      NormalizePodUid("1f2e3d4c_5b6a_7980_a1b2_c3d4e5f6071").has_value());
  EXPECT_FALSE(
      NormalizePodUid("1f2e3d4c_5b6a_7980_a1b2_c3d4e5f607189").has_value());
  EXPECT_FALSE(
      NormalizePodUid("1F2E3D4C_5b6a_7980_a1b2_c3d4e5f60718").has_value());
  EXPECT_FALSE(
      NormalizePodUid("1f2e3d4c.5b6a_7980_a1b2_c3d4e5f60718").has_value());
  EXPECT_FALSE(NormalizePodUid("").has_value());
  // Mixed separators: no kubelet writes them.
  EXPECT_FALSE(
      NormalizePodUid("1f2e3d4c_5b6a-7980_a1b2_c3d4e5f60718").has_value());
  EXPECT_FALSE(
      NormalizePodUid("1f2e3d4c-5b6a-7980-a1b2_c3d4e5f60718").has_value());
}

// Found by fuzz.cgroup: a slice whose pod UID mixed '_' and '-' was
// attributed to a UID that appears nowhere in the path.
TEST(WorkloadTest, MixedSeparatorPodUidIsNoPod) {
  const std::string path =
      "/kubepods.slice/kubepods-pod1f2e3d4c_5b6a-7980_a1b2_c3d4e5f60718.slice/"
      "docker-" +
      kH + ".scope";
  const auto w = ClassifyCgroupPath(path);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->container_id, "docker://" + kH);
  EXPECT_EQ(w->pod_uid, "");
}

}  // namespace
}  // namespace nsexp
