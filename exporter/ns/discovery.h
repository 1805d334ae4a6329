// Discoverer: walks /proc once and builds a NamespaceGraph.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "ns/cgroup_cache.h"
#include "ns/comm_cache.h"
#include "ns/holder_reader.h"
#include "ns/namespace_graph.h"
#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"

namespace nsexp {

struct DiscoveryOptions {
  // Which types to collect. All by default.
  NamespaceTypeSet types = NamespaceTypeSet::All();
  // Fill NamespaceInfo::members (the tree view needs them; /metrics not).
  bool collect_members = false;
  // Leave kernel threads out entirely (one extra read of /proc/PID/stat per
  // process, so off by default).
  bool exclude_kernel_threads = false;
  // The holder readers (stage 3), each finding namespaces held by
  // something other than a member process. A new holder kind adds its
  // switch here and its HolderReader to DefaultHolderReaders(). Defaults
  // follow the costs measured in docs/performance.md.
  //
  // Bind mounts of nsfs files (`ip netns add`, container runtimes'
  // /run/.../netns) in every mount namespace: the BindMountReader.
  bool bind_mounts = true;
  // Open nsfs file descriptors: the FdReader. Off: it doubled the walk at
  // 10k processes with three fds each, and grows with every fd.
  bool fds = false;
  // Sockets whose net namespace differs from their process's: the
  // SocketReader. Off: it needs CAP_NET_ADMIN, which the exporter keeps
  // only when this is on at start, and three system calls per socket.
  bool sockets = false;
  // pid_for_children and time_for_children: the ForChildrenReader. Off:
  // +40% over the walk at 10k processes.
  bool for_children = false;
  // Threads in namespaces of their own: the ThreadReader. Off: its cost
  // grows with every thread of every multi-threaded process.
  bool threads = false;
  // Count each namespace's member processes by cgroup
  // (NamespaceGraph::CgroupMembers()), for container attribution, from
  // /proc/PID/cgroup: read for new processes and again at their second
  // walk, then remembered by PID and /proc inode (see CgroupCache).
  bool cgroups = true;
  // Re-read each remembered process's cgroup at least once in this many
  // walks, so a process moved between cgroups is counted under its new
  // cgroup within that many walks of the move. 1 reads every process on
  // every walk; 0 counts as 1.
  unsigned cgroup_reread_every = kDefaultCgroupRereadEvery;
  // Re-read the remembered comm of each namespace's lowest member (the
  // `command` label) at least once in this many walks (see CommCache); 1
  // reads them all on every walk, 0 counts as 1.
  unsigned comm_reread_every = kDefaultCgroupRereadEvery;
  // Threads that share the process walk (stage 1), each over its own
  // contiguous slice of the PID list; 1 walks on the calling thread alone.
  // More than one pays when a scrape's wall time matters and a core is
  // free: the walk is system calls on /proc, which scale with cores. Values
  // above the number of PIDs are cut to it; 0 counts as 1.
  unsigned workers = 1;
  // Re-check every cached namespace on every run by opening it and asking
  // NS_GET_ID (or, without NS_GET_ID, all its ioctls again), as the only
  // proof that an inode still names the namespace the cache describes.
  // Off, a namespace whose witness (see Discoverer) is still the same
  // process and still reads the same inode is taken from the cache without
  // opening it; see the residual risk there.
  bool verify_namespace_ids = false;
};

// Runs discovery in four stages, each a function below:
//  1. the process walk: list the PIDs, read the ns links of each (one
//     readlinkat per type relative to a /proc/PID/ns handle) and count
//     membership, and with DiscoveryOptions::cgroups membership by cgroup
//     text (remembered per process by the CgroupCache, read only when it
//     says); with DiscoveryOptions::workers above 1, each worker
//     thread walks one slice of the PID list into entries of its own,
//     resolves the namespaces it meets under one lock (stage 2 is serial),
//     and the slices are merged in PID order before stage 3, so the graph
//     is the one a single worker builds;
//  2. attributes: the nsfs ioctls once per namespace, for each namespace
//     the walk meets first, while the member's handle is open; their
//     answers (parent, owner, owner uid, id) are kept across runs, keyed by
//     (type, inode). Inodes are reused, so a kept answer is used only when
//     the namespace is proven to be the same one:
//     - by its witness: the member process through which it was opened (or
//       last proven) is still the same process (same PID, and the same
//       d_ino of its /proc/PID directory, which a new process reusing the
//       PID does not get) and its link still reads the same inode. A live
//       member pins the namespace, so its inode cannot have gone to another
//       one, unless that very process left it and entered a newer namespace
//       that took the freed inode between two runs (setns(2) or unshare(2);
//       impossible for pid and time, whose setns and unshare only change
//       what children get). That residual is accepted unless
//       DiscoveryOptions::verify_namespace_ids is set. A relative (parent,
//       owner) of a proven namespace is pinned by it and taken from the
//       cache too;
//     - otherwise (no witness, a new PID, a witness gone or moved, or
//       verify_namespace_ids): by opening it and asking NS_GET_ID (Linux
//       6.18), and asking every ioctl again where the kernel has no ids;
//     answers of a namespace whose ioctls failed with an unexpected errno
//     (counted as ScanStats::other) are not kept;
//     Climbing NS_GET_PARENT and NS_GET_USERNS finds namespaces without
//     member processes;
//  3. other holders: each HolderReader (*_for_children, threads, fds,
//     sockets, bind mounts) adds the namespaces its kind of holder holds,
//     counted by kind in NamespaceInfo::holders and resolved as in stage 2;
//  4. finish: forget cached namespaces this run did not see, sort, count
//     by type, and compute depth and children.
//
// A process that exits mid-walk, or that the caller may not inspect, is
// skipped and counted in ScanStats; a zombie is counted as such; the walk
// always completes.
//
// Thread safety: not thread-safe; callers serialise Discover() calls. The
// worker threads of one Discover() end before it returns; "procfs" must be
// safe to use from several threads at once (ProcFs is), while "ops" is only
// ever called by one thread at a time.
// "procfs" and "ops" are not owned and must outlive this object.
class Discoverer {
 public:
  // Uses DefaultHolderReaders().
  Discoverer(const ProcFs* procfs, NamespaceOps* ops);
  // Uses "readers" for stage 3, in order, each when Enabled().
  Discoverer(const ProcFs* procfs, NamespaceOps* ops,
             std::vector<std::unique_ptr<HolderReader>> readers);
  Discoverer(const Discoverer&) = delete;
  Discoverer& operator=(const Discoverer&) = delete;

  // Replaces *out with a fresh graph. Fails only when the procfs root itself
  // cannot be listed. What "ops", "procfs" or an allocation throws
  // (std::bad_alloc) reaches the caller, on the calling thread also from a
  // parallel walk's workers, after every worker has ended; the Discoverer
  // stays usable and the next Discover() builds a whole graph.
  [[nodiscard]] Status Discover(const DiscoveryOptions& options,
                                NamespaceGraph* out);

  // Number of namespaces whose attributes are cached. For tests.
  std::size_t cache_size() const { return cache_.size(); }
  // Number of namespaces resolved with ioctls (not from the cache) by the
  // last Discover(). For tests and the debug log.
  std::size_t last_resolved() const { return last_resolved_; }
  // Number of namespaces the last Discover() took from the cache on their
  // witness's word, without opening them. For tests and the debug log.
  std::size_t last_witnessed() const { return last_witnessed_; }
  // Number of processes whose cgroup is remembered, and number of cgroup
  // files the last Discover() read. For tests and the benchmark.
  std::size_t cgroup_cache_size() const { return cgroup_cache_.size(); }
  std::size_t last_cgroup_reads() const { return cgroup_cache_.last_reads(); }
  // Number of comms remembered, and number read by the last Discover().
  std::size_t comm_cache_size() const { return comm_cache_.size(); }
  std::size_t last_comm_reads() const { return comm_cache_.last_reads(); }

 private:
  struct Key {
    NamespaceType type;
    std::uint64_t inode;
    bool operator==(const Key& o) const {
      return type == o.type && inode == o.inode;
    }
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::uint64_t>()(k.inode * 8 + TypeIndex(k.type));
    }
  };
  // What the ioctls said; immutable for the namespace's lifetime.
  struct Attributes {
    std::optional<std::uint64_t> ns_id;
    std::optional<std::uint64_t> parent_inode;
    std::optional<std::uint64_t> owner_inode;
    std::optional<uid_t> owner_uid;
  };
  // A member process that vouches for a cached namespace: see stage 2.
  struct Witness {
    pid_t pid = 0;
    std::uint64_t dir_inode = 0;  // d_ino of /proc/PID when it was a member
  };
  struct CacheEntry {
    Attributes attrs;
    std::uint64_t generation = 0;  // last Discover() that saw it
    std::optional<Witness> witness;
  };
  struct Entry {
    NamespaceInfo info;
    // Member processes by cgroup, ascending by index (NamespaceInfo's own
    // are filled from these when the graph is built).
    std::vector<CgroupCount> cgroup_members;
    // Attributes known, or (in Run::deferred) waiting for the witness.
    bool resolved = false;
  };
  using EntryMap = std::unordered_map<Key, Entry, KeyHash>;
  // What one Discover() builds up, passed from stage to stage.
  struct Run {
    EntryMap entries;
    ScanStats* stats = nullptr;
    std::vector<BindMountRecord> bind_mounts;
    // The inodes the walk read, by position in the PID list and
    // TypeIndex(); 0 where it read none. 32 bits: the kernel numbers nsfs
    // inodes with an unsigned int (proc_alloc_inum()); one that does not
    // fit is kept as 0, which readers take as "read it again".
    std::vector<std::array<std::uint32_t, kNamespaceTypeCount>> own_links;
    std::vector<std::string> cgroups;  // distinct /proc/PID/cgroup texts
    std::unordered_map<std::string, std::uint32_t> cgroup_index;
    // In a worker's slice of a parallel walk: the run that holds the
    // attributes and own_links, guarded by resolve_mu_ (own_links only by
    // distinct indices). Null in the run of Discover() itself.
    Run* shared = nullptr;
    // In the run of Discover() only: the PID list and the d_ino of each
    // /proc/PID, and the namespaces whose witness is later in the walk.
    const std::vector<pid_t>* pids = nullptr;
    const std::vector<std::uint64_t>* dir_inodes = nullptr;
    std::vector<Key> deferred;
  };
  // What the walk learned of one process; see WalkProcess.
  struct ProcessScan;

  bool Selected(NamespaceType type) const;
  Entry& EntryFor(const NamespaceLink& link, EntryMap* entries);

  // Stage 1: the process walk.
  // Lists the PIDs and their /proc directory inodes (the witnesses'
  // identity), and plans the walk's cgroup reads.
  [[nodiscard]] Status ListProcesses(std::vector<pid_t>* pids,
                                     std::vector<std::uint64_t>* dir_inodes);
  void WalkInParallel(const std::vector<pid_t>& pids, std::size_t workers,
                      Run* run);
  static void MergeSlice(Run* slice, Run* run);
  void WalkProcess(pid_t pid, std::size_t index, Run* run);
  bool OpenProcess(pid_t pid, UniqueFd* ns_dir, ProcessScan* scan, Run* run);
  void ReadLinks(ProcessScan* scan, Run* run);
  void AddMember(ProcessScan* scan, Entry* e);
  void OpenAndResolve(const NamespaceLink& link, ProcessScan* scan, Run* run,
                      Entry* e);
  void Tally(const ProcessScan& scan, ScanStats* stats);
  void CountCgroup(const ProcessScan& scan, Run* run);

  // Stage 2: attributes, from the cache or the ioctls.
  void Resolve(const NsHandle& handle, Run* run);
  bool ResolveFromCache(const Key& key, std::optional<std::uint64_t> ns_id,
                        EntryMap* entries);
  bool TrustCached(const Key& key, EntryMap* entries, std::uint32_t depth);
  bool TryWitness(const NamespaceLink& link, const ProcessScan& scan,
                  bool serial, Run* top);
  std::optional<std::size_t> IndexOf(pid_t pid, const Run& top) const;
  void SetWitness(const Key& key, pid_t pid, std::size_t index, const Run& top);
  void ProveDeferred(Run* run);
  void ResolveThroughMember(const Key& key, Run* run);
  void ResolveByIoctl(const NsHandle& handle,
                      std::optional<std::uint64_t> ns_id, Run* run);
  void EnsureRelative(const NsHandle& relative, Run* run);
  std::optional<std::uint64_t> QueryId(const NsHandle& handle,
                                       ScanStats* stats);
  void RecordOther(const Status& s, ScanStats* stats);

  // Stage 3: namespaces held by something other than a member process.
  void ReadOtherHolders(const std::vector<pid_t>& pids, Run* run);
  void AddFindings(HolderKind kind, HolderFindings* findings, Run* run);
  std::vector<std::pair<std::uint64_t, pid_t>> MembersOf(
      NamespaceType type, const EntryMap& entries) const;

  // Stage 4: finish.
  void EvictUnseen();
  static void BuildGraph(Run* run, NamespaceGraph* out);
  static void LinkHierarchy(NamespaceGraph* graph);

  const ProcFs* procfs_;
  NamespaceOps* ops_;
  std::vector<std::unique_ptr<HolderReader>> readers_;
  DiscoveryOptions options_;
  std::unordered_map<Key, CacheEntry, KeyHash> cache_;
  std::uint64_t generation_ = 0;
  bool id_supported_ = true;  // false once NS_GET_ID said "unsupported"
  std::size_t last_resolved_ = 0;
  std::size_t last_witnessed_ = 0;
  // The walk's cgroup texts; Plan() and Finish() on the calling thread,
  // Cached() and Record() by index from the walk's workers.
  CgroupCache cgroup_cache_;
  // The comms of the namespaces' lowest members; Begin() and End() on the
  // calling thread, Lookup() and Record() from the walk's workers.
  CommCache comm_cache_;
  // Serialises stage 2 (cache_, id_supported_, last_resolved_, ops_ and the
  // shared run's entries and stats) between the workers of a parallel walk.
  std::mutex resolve_mu_;
};

}  // namespace nsexp
