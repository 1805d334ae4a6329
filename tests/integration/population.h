// Real namespaces made for a test: processes that hold them, and cleanup.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nsexp_test {

// What the kernel says about one process, read directly from /proc.
// Empty vectors / zero inodes when the process is gone.
std::uint64_t NsInode(pid_t pid, const std::string& type);      // readlink
std::uint64_t NsStatInode(pid_t pid, const std::string& type);  // stat
std::vector<pid_t> NsTgid(pid_t pid);    // /proc/PID/status "NStgid:"
std::vector<pid_t> Children(pid_t pid);  // /proc/PID/task/PID/children
// NS_GET_ID on /proc/PID/ns/TYPE; 0 where the kernel lacks it.
std::uint64_t NsIoctlId(pid_t pid, const std::string& type);

// Namespaces made for one test, each held by processes that pause until
// killed. The processes are direct children of the test process (the
// holders) and their descendants; every descendant has PR_SET_PDEATHSIG so
// that it dies with its creator, and the test process is a child
// subreaper, so the destructor can reap all of them. Not thread-safe.
class Population {
 public:
  Population();
  ~Population();
  Population(const Population&) = delete;
  Population& operator=(const Population&) = delete;

  // Three nested pid namespaces: "pid_chain[k]" is the init (PID 1) of the
  // namespace k+1 levels below the caller's; the innermost one also holds
  // "pid_leaves" (PIDs 2 and 3 there). "pid_in_parent[k]" is the PID of
  // pid_chain[k] as its creator saw it (NStgid one level up). Returns false
  // with *why set when the kernel refuses.
  bool MakePidChain(std::string* why);
  std::vector<pid_t> pid_chain;
  std::vector<pid_t> pid_leaves;
  std::vector<pid_t> pid_in_parent;

  // Two nested user namespaces: user_outer (created by uid 0, mapped
  // 0-65535 onto the same host ids) holds user_outer_procs; a process in it
  // drops to uid "kInnerCreatorUid" and creates the inner one, held by
  // user_inner_proc; user_inner_uts_proc sits in a uts namespace owned by the
  // inner user namespace.
  static constexpr uid_t kInnerCreatorUid = 1000;
  bool MakeUserChain(std::string* why);
  std::vector<pid_t> user_outer_procs;
  pid_t user_inner_proc = 0;
  pid_t user_inner_uts_proc = 0;

  // One new namespace of "type" (cgroup ipc mnt net time uts): a holder
  // unshares it and starts "extra" children. For time, unshare() moves only
  // later children, so the holder itself stays outside. Returns every
  // process in the new namespace.
  bool MakeFlat(const std::string& type, int extra, std::vector<pid_t>* members,
                std::string* why);

  // Starts a process that, until the Population is destroyed, keeps
  // starting short-lived children (some in new uts/ipc namespaces) at a
  // high rate: processes that exit while discovery walks /proc.
  bool StartChurn(std::string* why);

  // A pid namespace of its own, seen through a procfs of its own: its init
  // (PID 1 there), in a private mount namespace, mounts proc on a fresh
  // directory and starts two children that are never reaped: one exits at
  // once (a zombie, PID 2 there), the other keeps a second thread running
  // after its main thread exits (PID 3 there; the kernel shows it as a
  // zombie too). Returns false with *why set when the kernel refuses.
  bool MakeZombiesInOwnPidNamespace(std::string* why);
  pid_t zombie_init = 0;       // host PID of that init
  std::vector<pid_t> zombies;  // host PIDs of the two children
  std::string zombie_procfs;   // its procfs, for ProcFs::Open

  // Kills and reaps everything this object started. Idempotent.
  void Cleanup();

 private:
  // Waits until "count" readiness records arrive on the shared pipe.
  bool AwaitReady(int count, std::vector<std::int32_t>* values,
                  std::string* why);

  std::vector<pid_t> holders_;  // direct children, killed and reaped
  std::string mount_dir_;       // made for MakeZombiesInOwnPidNamespace
  int ready_read_ = -1;
  int ready_write_ = -1;
};

}  // namespace nsexp_test
