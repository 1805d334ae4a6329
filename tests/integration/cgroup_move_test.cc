// Container attribution of a real process that moves between cgroups, as a
// container runtime moves the processes it starts: a process that discovery
// has already counted under a host cgroup is moved into one named like a
// Docker container, and must be counted under that container within
// DiscoveryOptions::cgroup_reread_every walks. Needs root and a cgroup v2
// hierarchy (skips otherwise).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "population.h"
#include "proc/proc_fs.h"
#include "workload/workload.h"

namespace {

using nsexp::NamespaceGraph;
using nsexp::NamespaceType;

constexpr const char* kContainerId =
    "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

// Where cgroup v2 is mounted ("/sys/fs/cgroup", or ".../unified" on a
// hybrid host); empty when it is not.
std::string CgroupV2Root() {
  std::ifstream mounts("/proc/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string source, target, type;
    fields >> source >> target >> type;
    if (type == "cgroup2") return target;
  }
  return "";
}

// A child process in a net namespace of its own, and two cgroups to move
// it between; everything is removed again on destruction.
class MovedProcess {
 public:
  explicit MovedProcess(const std::string& cgroup_root)
      : base_(cgroup_root + "/nsexp_cgroup_move." + std::to_string(getpid())),
        host_(base_ + "/host.scope"),
        container_(base_ + "/docker-" + std::string(kContainerId) + ".scope") {}
  ~MovedProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::rmdir(container_.c_str());
    ::rmdir(host_.c_str());
    ::rmdir(base_.c_str());
  }
  MovedProcess(const MovedProcess&) = delete;
  MovedProcess& operator=(const MovedProcess&) = delete;

  // Makes the cgroups and starts the child in the host one. False, with
  // the reason in *why, when the cgroups cannot be made.
  bool Start(std::string* why) {
    for (const std::string& dir : {base_, host_, container_}) {
      if (::mkdir(dir.c_str(), 0755) != 0) {
        *why = "mkdir " + dir + ": " + std::strerror(errno);
        return false;
      }
    }
    int ready[2];
    if (::pipe(ready) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
      (void)!::write(ready[1], "x", 1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char c = 0;
    const bool ok = pid_ > 0 && ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    if (!ok) *why = "the child did not start";
    return ok && MoveTo(host_, why);
  }

  // Writes the child's PID to the cgroup.procs of "cgroup".
  bool MoveTo(const std::string& cgroup, std::string* why) {
    std::ofstream procs(cgroup + "/cgroup.procs");
    procs << pid_ << std::flush;
    if (!procs) *why = "cannot move the child into " + cgroup;
    return static_cast<bool>(procs);
  }

  pid_t pid() const { return pid_; }
  const std::string& container() const { return container_; }

 private:
  std::string base_;
  std::string host_;
  std::string container_;
  pid_t pid_ = -1;
};

// The container the one member of net namespace "net" is counted under:
// nullopt for a host cgroup; fails the test unless exactly one process is
// counted.
std::optional<nsexp::Workload> CountedUnder(nsexp::Discoverer* d,
                                            std::uint64_t net) {
  NamespaceGraph g;
  const nsexp::Status s = d->Discover(nsexp::DiscoveryOptions(), &g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  const nsexp::NamespaceInfo* n = g.Find(NamespaceType::kNet, net);
  if (n == nullptr || g.CgroupMembers(*n).size() != 1 ||
      g.CgroupMembers(*n)[0].second != 1) {
    ADD_FAILURE() << "the child's net namespace is not counted once";
    return std::nullopt;
  }
  const std::string& text = g.cgroups.at(g.CgroupMembers(*n)[0].first);
  const auto entries = nsexp::ParseCgroupFile(text);
  return nsexp::ClassifyCgroupPaths(nsexp::CgroupPathsByPreference(entries));
}

TEST(CgroupMove, MovedIntoAContainerIsAttributedWithinThePeriod) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root: the test makes cgroups and moves a process";
  }
  const std::string root = CgroupV2Root();
  if (root.empty()) GTEST_SKIP() << "no cgroup v2 hierarchy is mounted";
  MovedProcess child(root);
  std::string why;
  if (!child.Start(&why)) GTEST_SKIP() << "cannot make cgroups: " << why;
  const std::uint64_t net = nsexp_test::NsInode(child.pid(), "net");

  std::unique_ptr<nsexp::ProcFs> procfs;
  ASSERT_TRUE(nsexp::ProcFs::Open("/proc", &procfs).ok());
  auto ops = nsexp::NewRealNamespaceOps();
  nsexp::Discoverer d(procfs.get(), ops.get());
  // New, second sighting, and cached: a host process each time.
  for (int w = 0; w < 3; ++w) {
    EXPECT_EQ(CountedUnder(&d, net), std::nullopt) << "walk " << w;
  }
  ASSERT_TRUE(child.MoveTo(child.container(), &why)) << why;
  const unsigned k = nsexp::DiscoveryOptions().cgroup_reread_every;
  std::optional<nsexp::Workload> w;
  unsigned walks = 0;
  while (!w && walks < k) {
    w = CountedUnder(&d, net);
    ++walks;
  }
  ASSERT_TRUE(w.has_value()) << "not attributed within " << k << " walks";
  EXPECT_EQ(w->container_runtime, "docker");
  EXPECT_EQ(w->container_id, std::string("docker://") + kContainerId);
}

}  // namespace
