// Discovery in stages: the /proc walk, the attributes (ioctls and their
// cache), the other holders, and the finished graph.
#include "ns/discovery.h"

#include <malloc.h>

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

#include "base/workers.h"
#include "ns/bind_mount_reader.h"
#include "ns/process_holder_readers.h"

namespace nsexp {

const NamespaceInfo* NamespaceGraph::Find(NamespaceType type,
                                          std::uint64_t inode) const {
  auto it = std::lower_bound(
      namespaces.begin(), namespaces.end(), std::make_pair(type, inode),
      [](const NamespaceInfo& n,
         const std::pair<NamespaceType, std::uint64_t>& k) {
        return std::make_pair(n.type, n.inode) < k;
      });
  if (it == namespaces.end() || it->type != type || it->inode != inode) {
    return nullptr;
  }
  return &*it;
}

namespace {

// How far a parent chain can climb. The kernel nests pid namespaces at most
// 32 levels below the initial one (MAX_PID_NS_LEVEL, pid_namespaces(7)),
// and user namespaces 33 (create_user_ns() refuses a parent whose level is
// above 32; measured on 6.18: the 34th nested unshare(CLONE_NEWUSER) fails
// with ENOSPC). A longer chain can only be a cycle that a broken
// NamespaceOps made up; the climb stops there instead of recursing forever.
constexpr std::uint32_t kMaxNestingDepth = 33;

// Adds "count" member processes under cgroup "index" to "members", which
// stays ascending by index: a binary search per process, and 8 bytes per
// cgroup, where a hash map per namespace cost about 120 bytes even for one.
void AddCgroupCount(std::uint32_t index, std::uint32_t count,
                    std::vector<CgroupCount>* members) {
  auto it = std::lower_bound(
      members->begin(), members->end(), index,
      [](const CgroupCount& m, std::uint32_t i) { return m.first < i; });
  if (it != members->end() && it->first == index) {
    it->second += count;
  } else {
    members->insert(it, {index, count});
  }
}

}  // namespace

std::vector<std::unique_ptr<HolderReader>> DefaultHolderReaders() {
  std::vector<std::unique_ptr<HolderReader>> readers;
  readers.push_back(std::make_unique<ForChildrenReader>());
  readers.push_back(std::make_unique<ThreadReader>());
  readers.push_back(std::make_unique<FdReader>());
  readers.push_back(std::make_unique<SocketReader>());
  readers.push_back(std::make_unique<BindMountReader>());
  return readers;
}

Discoverer::Discoverer(const ProcFs* procfs, NamespaceOps* ops)
    : Discoverer(procfs, ops, DefaultHolderReaders()) {}

Discoverer::Discoverer(const ProcFs* procfs, NamespaceOps* ops,
                       std::vector<std::unique_ptr<HolderReader>> readers)
    : procfs_(procfs), ops_(ops), readers_(std::move(readers)) {}

Status Discoverer::Discover(const DiscoveryOptions& options,
                            NamespaceGraph* out) {
  options_ = options;
  ++generation_;
  last_resolved_ = 0;
  last_witnessed_ = 0;
  *out = NamespaceGraph();

  std::vector<pid_t> pids;
  std::vector<std::uint64_t> dir_inodes;
  Status ls = ListProcesses(&pids, &dir_inodes);
  if (!ls.ok()) return ls;

  Run run;
  run.stats = &out->stats;
  run.pids = &pids;
  run.dir_inodes = &dir_inodes;
  run.entries.reserve(pids.size() / 4 + 64);
  run.own_links.assign(pids.size(), {});
  comm_cache_.Begin(options_.comm_reread_every);
  const std::size_t workers =
      std::min<std::size_t>(std::max(options_.workers, 1u), pids.size());
  if (workers > 1) {
    WalkInParallel(pids, workers, &run);
  } else {
    for (std::size_t i = 0; i < pids.size(); ++i) {
      WalkProcess(pids[i], i, &run);
    }
  }
  ProveDeferred(&run);
  comm_cache_.End();
  if (options_.cgroups) cgroup_cache_.Finish();
  ReadOtherHolders(pids, &run);
  EvictUnseen();
  // The per-process tables are not needed to build the graph, the peak of
  // a collection: freed first, they make room for it (44 bytes a process).
  std::vector<std::array<std::uint32_t, kNamespaceTypeCount>>().swap(
      run.own_links);
  run.pids = nullptr;
  run.dir_inodes = nullptr;
  std::vector<pid_t>().swap(pids);
  std::vector<std::uint64_t>().swap(dir_inodes);
  // The walk's short-lived blocks are freed by now, but their pages stay
  // resident until handed back (glibc's malloc_trim(3)); the graph is
  // built beside the walk's table, so this is where the collection peaks
  // (measured at 95,000 processes: 11 MiB less resident at this point).
  malloc_trim(0);
  BuildGraph(&run, out);
  LinkHierarchy(out);
  return Status::Ok();
}

bool Discoverer::Selected(NamespaceType type) const {
  return options_.types.Contains(type);
}

Discoverer::Entry& Discoverer::EntryFor(const NamespaceLink& link,
                                        EntryMap* entries) {
  Entry& e = (*entries)[Key{link.type, link.inode}];
  e.info.type = link.type;
  e.info.inode = link.inode;
  return e;
}

// ---------------------------------------------------------------------------
// Stage 1: the process walk.

// Lists the PIDs and, when cgroups are counted, plans which cgroup files
// this walk reads from the /proc entries' inodes.
Status Discoverer::ListProcesses(std::vector<pid_t>* pids,
                                 std::vector<std::uint64_t>* dir_inodes) {
  std::vector<PidEntry> listed;
  Status ls = procfs_->ListPidEntries(&listed);
  if (!ls.ok()) return ls;
  pids->clear();
  pids->reserve(listed.size());
  dir_inodes->clear();
  dir_inodes->reserve(listed.size());
  for (const PidEntry& p : listed) {
    pids->push_back(p.pid);
    dir_inodes->push_back(p.inode);
  }
  if (options_.cgroups) {
    cgroup_cache_.Plan(std::move(listed), options_.cgroup_reread_every);
  }
  return Status::Ok();
}

// Walks slice w of "workers" contiguous slices of the PID list on a thread
// of its own (see RunOnWorkers), then merges the slices into "run" in PID
// order.
void Discoverer::WalkInParallel(const std::vector<pid_t>& pids,
                                std::size_t workers, Run* run) {
  std::vector<Run> slices(workers);
  std::vector<ScanStats> stats(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    slices[w].stats = &stats[w];
    slices[w].shared = run;
  }
  RunOnWorkers(workers, [this, &pids, &slices, workers](std::size_t w) {
    const std::size_t n = pids.size();
    for (std::size_t i = n * w / workers; i < n * (w + 1) / workers; ++i) {
      WalkProcess(pids[i], i, &slices[w]);
    }
  });
  for (Run& slice : slices) MergeSlice(&slice, run);
}

// Adds what one slice of a parallel walk counted to "run": stats, cgroup
// texts (renumbered) and membership. Slices merged in PID order keep the
// lowest member PID and the member lists ascending.
void Discoverer::MergeSlice(Run* slice, Run* run) {
  ScanStats& to = *run->stats;
  const ScanStats& from = *slice->stats;
  to.processes_scanned += from.processes_scanned;
  to.vanished += from.vanished;
  to.permission_denied += from.permission_denied;
  to.other += from.other;
  to.zombies += from.zombies;
  if (to.first_denied.empty()) to.first_denied = from.first_denied;
  if (to.first_other.empty()) to.first_other = from.first_other;
  std::vector<std::uint32_t> renumber(slice->cgroups.size());
  for (std::size_t i = 0; i < slice->cgroups.size(); ++i) {
    auto [it, inserted] = run->cgroup_index.try_emplace(
        slice->cgroups[i], static_cast<std::uint32_t>(run->cgroups.size()));
    if (inserted) run->cgroups.push_back(it->first);
    renumber[i] = it->second;
  }
  for (auto& [key, from_entry] : slice->entries) {
    Entry& e = run->entries[key];
    e.info.type = key.type;
    e.info.inode = key.inode;
    NamespaceInfo& info = from_entry.info;
    e.info.processes += info.processes;
    e.info.members.insert(e.info.members.end(), info.members.begin(),
                          info.members.end());
    if (e.info.pid == 0 && info.pid != 0) {
      e.info.pid = info.pid;
      e.info.command = std::move(info.command);
    }
    for (const auto& [index, count] : from_entry.cgroup_members) {
      AddCgroupCount(renumber[index], count, &e.cgroup_members);
    }
  }
}

struct Discoverer::ProcessScan {
  pid_t pid = 0;
  std::size_t index = 0;        // in the PID list
  std::uint64_t dir_inode = 0;  // of /proc/PID; 0: unknown
  int ns_dir = -1;              // /proc/PID/ns, open while the links are read
  std::optional<ProcessStat> stat;  // read when a question needed it
  bool missing = false;             // a link or its namespace gave ENOENT
  bool denied = false;
  bool other = false;
  bool have_comm = false;
  std::string comm;
  std::vector<Entry*> joined;  // the namespaces it is a member of
};

void Discoverer::WalkProcess(pid_t pid, std::size_t index, Run* run) {
  ++run->stats->processes_scanned;
  ProcessScan scan;
  scan.pid = pid;
  scan.index = index;
  const Run* top = run->shared != nullptr ? run->shared : run;
  if (top->dir_inodes != nullptr) scan.dir_inode = (*top->dir_inodes)[index];
  UniqueFd ns_dir;
  if (!OpenProcess(pid, &ns_dir, &scan, run)) return;
  scan.ns_dir = ns_dir.get();
  ReadLinks(&scan, run);
  Tally(scan, run->stats);
  if (options_.cgroups && !scan.joined.empty()) CountCgroup(scan, run);
}

// Counts the process under its cgroup text in each namespace it joined:
// the text remembered by the cgroup cache, or the file read now when the
// cache says so (and then remembered). Processes share a handful of cgroup
// files, so the text is interned. A process that exits before its file is
// read is simply not counted.
void Discoverer::CountCgroup(const ProcessScan& scan, Run* run) {
  const std::string* text = cgroup_cache_.Cached(scan.index);
  std::string read;
  if (text == nullptr) {
    if (!procfs_->ReadCgroupText(scan.pid, &read).ok()) return;
    cgroup_cache_.Record(scan.index, read);
    text = &read;
  }
  auto it = run->cgroup_index.find(*text);
  if (it == run->cgroup_index.end()) {
    it = run->cgroup_index
             .emplace(*text, static_cast<std::uint32_t>(run->cgroups.size()))
             .first;
    run->cgroups.push_back(it->first);
  }
  for (Entry* e : scan.joined) {
    AddCgroupCount(it->second, 1, &e->cgroup_members);
  }
}

// Opens /proc/PID/ns and applies the kernel-thread filter. False when the
// process is to be skipped: counted already, or a kernel thread left out
// on request.
bool Discoverer::OpenProcess(pid_t pid, UniqueFd* ns_dir, ProcessScan* scan,
                             Run* run) {
  ScanStats& stats = *run->stats;
  const Status os = procfs_->OpenPidNs(pid, ns_dir);
  if (os.IsNotFound()) {
    ++stats.vanished;
    return false;
  }
  if (os.IsPermissionDenied()) {
    ++stats.permission_denied;
    if (stats.first_denied.empty()) stats.first_denied = os.ToString();
    return false;
  }
  if (!os.ok()) {
    RecordOther(os, &stats);
    return false;
  }
  if (!options_.exclude_kernel_threads) return true;
  ProcessStat stat;
  const Status ks = procfs_->ReadStat(pid, &stat);
  if (ks.IsNotFound()) {
    ++stats.vanished;
    return false;
  }
  if (!ks.ok()) return true;  // unknown: keep the process
  scan->stat = stat;
  return !stat.kernel_thread();
}

// Reads the selected ns links of one process, counts it as a member of
// each, and resolves each namespace seen here for the first time.
void Discoverer::ReadLinks(ProcessScan* scan, Run* run) {
  ScanStats& stats = *run->stats;
  for (NamespaceType type : kAllNamespaceTypes) {
    if (!Selected(type)) continue;
    NamespaceLink link{};
    const Status rs = ProcFs::ReadNamespaceLinkIn(scan->ns_dir, type, &link);
    if (rs.IsNotFound()) {
      // The process exited, or only its main thread did (then mnt, net
      // and the others read ENOENT while pid and user still work).
      scan->missing = true;
      continue;
    }
    if (rs.IsPermissionDenied()) {
      // The ptrace read check covers every link of the process alike.
      if (stats.first_denied.empty()) {
        stats.first_denied =
            "pid " + std::to_string(scan->pid) + ": " + rs.ToString();
      }
      scan->denied = true;
      break;
    }
    if (!rs.ok()) {
      if (!scan->other && stats.first_other.empty()) {
        stats.first_other =
            "pid " + std::to_string(scan->pid) + ": " + rs.ToString();
      }
      scan->other = true;
      continue;
    }
    Run* top = run->shared != nullptr ? run->shared : run;
    top->own_links[scan->index][TypeIndex(type)] =
        link.inode <= std::numeric_limits<std::uint32_t>::max()
            ? static_cast<std::uint32_t>(link.inode)
            : 0;
    Entry& e = EntryFor(link, &run->entries);
    AddMember(scan, &e);
    if (!e.resolved) OpenAndResolve(link, scan, run, &e);
  }
}

void Discoverer::AddMember(ProcessScan* scan, Entry* e) {
  ++e->info.processes;
  if (options_.collect_members) e->info.members.push_back(scan->pid);
  if (options_.cgroups) scan->joined.push_back(e);
  if (e->info.pid != 0) return;
  // PIDs ascend, so the first member seen is the lowest.
  e->info.pid = scan->pid;
  if (!scan->have_comm) {
    scan->comm.clear();
    const PidEntry process{scan->pid, scan->dir_inode};
    // A comm that cannot be read (the process just exited) stays empty;
    // membership was already established by the link.
    if ((process.inode == 0 || !comm_cache_.Lookup(process, &scan->comm)) &&
        procfs_->ReadCommOf(scan->pid, &scan->comm).ok() &&
        process.inode != 0) {
      comm_cache_.Record(process, scan->comm);
    }
    scan->have_comm = true;
  }
  e->info.command = scan->comm;
}

// Resolves the namespace "e" from the cache when its witness vouches for
// it, or else opens it through this member, while its ns handle is open,
// resolves it and makes this member its witness. A failure leaves it
// unresolved: the next member retries. In a worker's slice the attributes
// go to the shared run, under resolve_mu_, unless another worker resolved
// it already.
void Discoverer::OpenAndResolve(const NamespaceLink& link, ProcessScan* scan,
                                Run* run, Entry* e) {
  Run* target = run;
  std::unique_lock<std::mutex> lock;
  if (run->shared != nullptr) {
    lock = std::unique_lock<std::mutex>(resolve_mu_);
    target = run->shared;
    if (EntryFor(link, &target->entries).resolved) {
      e->resolved = true;
      return;
    }
  }
  if (TryWitness(link, *scan, run->shared == nullptr, target)) {
    e->resolved = true;
    return;
  }
  NsHandle handle;
  const Status hs = ops_->Open(scan->ns_dir, link, &handle);
  if (hs.ok()) {
    Resolve(handle, target);
    SetWitness(Key{link.type, link.inode}, scan->pid, scan->index, *target);
    e->resolved = true;
  } else if (hs.IsNotFound()) {
    scan->missing = true;
  } else if (hs.IsPermissionDenied()) {
    scan->denied = true;
  } else {
    scan->other = true;
    if (run->stats->first_other.empty()) {
      run->stats->first_other = hs.ToString();
    }
  }
}

// Counts a process once per kind of trouble. Links that were missing mean
// a zombie when /proc/PID/stat says so (its pid and user links still
// counted), and an exit mid-walk otherwise.
void Discoverer::Tally(const ProcessScan& scan, ScanStats* stats) {
  if (scan.denied) ++stats->permission_denied;
  if (scan.other) ++stats->other;
  if (!scan.missing) return;
  std::optional<ProcessStat> stat = scan.stat;
  if (!stat) {
    ProcessStat read;
    if (procfs_->ReadStat(scan.pid, &read).ok()) stat = read;
  }
  if (stat && stat->zombie()) {
    ++stats->zombies;
  } else {
    ++stats->vanished;
  }
}

// ---------------------------------------------------------------------------
// Stage 2: attributes, from the cache or the ioctls.

void Discoverer::RecordOther(const Status& s, ScanStats* stats) {
  ++stats->other;
  if (stats->first_other.empty()) stats->first_other = s.ToString();
}

std::optional<std::uint64_t> Discoverer::QueryId(const NsHandle& handle,
                                                 ScanStats* stats) {
  if (!id_supported_) return std::nullopt;
  std::uint64_t id = 0;
  Status s = ops_->Id(handle, &id);
  if (s.ok()) return id;
  if (s.IsUnsupported()) {
    id_supported_ = false;
  } else {
    RecordOther(s, stats);
  }
  return std::nullopt;
}

void Discoverer::Resolve(const NsHandle& handle, Run* run) {
  const std::optional<std::uint64_t> id = QueryId(handle, run->stats);
  const Key key{handle.type, handle.inode};
  if (ResolveFromCache(key, id, &run->entries)) return;
  ResolveByIoctl(handle, id, run);
}

// Makes sure the namespace "relative" (a parent or owner just obtained from
// an ioctl) has an entry, resolving it if it is new: this is how ancestors
// without member processes are found.
void Discoverer::EnsureRelative(const NsHandle& relative, Run* run) {
  if (!Selected(relative.type)) return;
  Entry& e =
      EntryFor(NamespaceLink{relative.type, relative.inode}, &run->entries);
  if (e.resolved) return;
  Resolve(relative, run);
}

bool Discoverer::ResolveFromCache(const Key& key,
                                  std::optional<std::uint64_t> ns_id,
                                  EntryMap* entries) {
  auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  const Attributes& a = it->second.attrs;
  // An inode can be reused by a new namespace, between two walks too; the
  // id cannot. Without ids (kernels before 6.18) nothing here proves that
  // the cached namespace is this one, so its attributes are asked again.
  if (!ns_id || !a.ns_id || *ns_id != *a.ns_id) return false;
  return TrustCached(key, entries, 0);
}

// Takes the attributes of a namespace proven to be the cached one from the
// cache, and those of its relatives that this run has not resolved yet:
// a namespace holds a reference to its parent and its owner (pid and user
// namespaces to their parent, every namespace to its user namespace), so
// while it lives their inodes cannot have been reused either. False, with
// "key" left unresolved, when a relative is not cached (its type was
// filtered out last time) or the chain is longer than the kernel allows (a
// cycle that a broken NamespaceOps made up); relatives taken before that
// stay taken, rightly: they are pinned all the same.
bool Discoverer::TrustCached(const Key& key, EntryMap* entries,
                             std::uint32_t depth) {
  if (depth > 2 * kMaxNestingDepth + 2) return false;
  auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  const Attributes& a = it->second.attrs;
  std::vector<Key> relatives;
  if (a.parent_inode) relatives.push_back(Key{key.type, *a.parent_inode});
  if (a.owner_inode && key.type != NamespaceType::kUser) {
    relatives.push_back(Key{NamespaceType::kUser, *a.owner_inode});
  }
  for (const Key& rel : relatives) {
    if (!Selected(rel.type)) continue;
    auto e = entries->find(rel);
    if (e != entries->end() && e->second.resolved) continue;
    if (!TrustCached(rel, entries, depth + 1)) return false;
  }
  Entry& e = EntryFor(NamespaceLink{key.type, key.inode}, entries);
  e.info.ns_id = a.ns_id;
  e.info.parent_inode = a.parent_inode;
  e.info.owner_inode = a.owner_inode;
  e.info.owner_uid = a.owner_uid;
  e.resolved = true;
  it->second.generation = generation_;
  return true;
}

// The position of "pid" in the run's PID list.
std::optional<std::size_t> Discoverer::IndexOf(pid_t pid,
                                               const Run& top) const {
  const std::vector<pid_t>& pids = *top.pids;
  auto it = std::lower_bound(pids.begin(), pids.end(), pid);
  if (it == pids.end() || *it != pid) return std::nullopt;
  return static_cast<std::size_t>(it - pids.begin());
}

// Makes the process at "index" of the PID list the witness of a cached
// namespace that it is a member of.
void Discoverer::SetWitness(const Key& key, pid_t pid, std::size_t index,
                            const Run& top) {
  auto it = cache_.find(key);
  if (it == cache_.end() || top.dir_inodes == nullptr) return;
  it->second.witness = Witness{pid, (*top.dir_inodes)[index]};
}

// Stage 2 without a system call, for a namespace the walk meets first in
// "scan" (the link it just read): true when it is resolved from the cache
// because "scan" is its witness, or set aside in top->deferred (marked
// resolved) because its witness is another process of this walk, still
// the same one, whose links are not read yet. "serial": the walk is on one
// thread, so a witness earlier in the PID list has been read already.
// False when nothing vouches for the cached answer: open it.
bool Discoverer::TryWitness(const NamespaceLink& link, const ProcessScan& scan,
                            bool serial, Run* top) {
  if (options_.verify_namespace_ids || top->dir_inodes == nullptr) {
    return false;
  }
  const Key key{link.type, link.inode};
  auto it = cache_.find(key);
  if (it == cache_.end() || !it->second.witness) return false;
  const Witness w = *it->second.witness;
  const std::optional<std::size_t> at = IndexOf(w.pid, *top);
  // The PID is gone, or taken by a new process: nothing vouches any more.
  if (!at || (*top->dir_inodes)[*at] != w.dir_inode) return false;
  if (*at == scan.index) {
    if (!TrustCached(key, &top->entries, 0)) return false;
    ++last_witnessed_;
    return true;
  }
  // Read already, and it did not lead here: it moved, or its open failed.
  if (serial && *at < scan.index) return false;
  EntryFor(link, &top->entries).resolved = true;
  top->deferred.push_back(key);
  return true;
}

// After the walk: each namespace set aside for its witness is taken from
// the cache when the witness read the same inode, and resolved through its
// lowest member otherwise.
void Discoverer::ProveDeferred(Run* run) {
  for (const Key& key : run->deferred) {
    auto it = cache_.find(key);
    std::optional<std::size_t> at;
    if (it != cache_.end() && it->second.witness) {
      at = IndexOf(it->second.witness->pid, *run);
    }
    if (at && run->own_links[*at][TypeIndex(key.type)] == key.inode &&
        TrustCached(key, &run->entries, 0)) {
      ++last_witnessed_;
      continue;
    }
    ResolveThroughMember(key, run);
  }
  run->deferred.clear();
}

// Opens a namespace through its lowest member, resolves it and makes that
// member its witness. When the member has exited by now the namespace stays
// unresolved (a holder reader may still resolve it), as when every member
// of a namespace exits between its readlink and its open.
void Discoverer::ResolveThroughMember(const Key& key, Run* run) {
  Entry& e = EntryFor(NamespaceLink{key.type, key.inode}, &run->entries);
  e.resolved = false;
  const pid_t pid = e.info.pid;
  if (pid == 0) return;
  UniqueFd ns_dir;
  if (!procfs_->OpenPidNs(pid, &ns_dir).ok()) return;
  NsHandle handle;
  const NamespaceLink link{key.type, key.inode};
  if (!ops_->Open(ns_dir.get(), link, &handle).ok()) return;
  Resolve(handle, run);
  const std::optional<std::size_t> at = IndexOf(pid, *run);
  if (at) SetWitness(key, pid, *at, *run);
}

void Discoverer::ResolveByIoctl(const NsHandle& handle,
                                std::optional<std::uint64_t> ns_id, Run* run) {
  ScanStats* stats = run->stats;
  EntryMap* entries = &run->entries;
  ++last_resolved_;
  const Key key{handle.type, handle.inode};
  Attributes a;
  a.ns_id = ns_id;
  bool failed = false;  // an ioctl failed unexpectedly: ask again next time
  // Mark resolved before climbing so that a cycle (impossible in the kernel,
  // possible in a broken fake) cannot recurse forever.
  (*entries)[key].resolved = true;
  if (IsHierarchical(handle.type)) {
    NsHandle parent;
    Status s = ops_->Parent(handle, &parent);
    if (s.ok()) {
      a.parent_inode = parent.inode;
      EnsureRelative(parent, run);
    } else if (!s.IsPermissionDenied()) {
      // EPERM is the top of the visible tree; anything else is unexpected.
      RecordOther(s, stats);
      failed = true;
    }
  }
  NsHandle owner;
  Status s = ops_->Owner(handle, &owner);
  if (s.ok()) {
    a.owner_inode = owner.inode;
    if (handle.type != NamespaceType::kUser) {
      EnsureRelative(owner, run);
    }
  } else if (!s.IsPermissionDenied()) {
    RecordOther(s, stats);
    failed = true;
  }
  if (handle.type == NamespaceType::kUser) {
    uid_t uid = 0;
    Status us = ops_->OwnerUid(handle, &uid);
    if (us.ok()) {
      a.owner_uid = uid;
    } else {
      RecordOther(us, stats);
      failed = true;
    }
  }
  Entry& e = (*entries)[key];
  e.info.ns_id = a.ns_id;
  e.info.parent_inode = a.parent_inode;
  e.info.owner_inode = a.owner_inode;
  e.info.owner_uid = a.owner_uid;
  // A failed answer is no attribute: kept, it would show the namespace
  // without its parent or owner for as long as it lives.
  if (failed) {
    cache_.erase(key);
  } else {
    cache_[key] = CacheEntry{a, generation_, std::nullopt};
  }
}

// ---------------------------------------------------------------------------
// Stage 3: namespaces held by something other than a member process.

void Discoverer::ReadOtherHolders(const std::vector<pid_t>& pids, Run* run) {
  const EntryMap& entries = run->entries;
  HolderScope scope{
      *procfs_,
      *ops_,
      pids,
      [this](NamespaceType type) { return Selected(type); },
      [&entries](const NamespaceLink& link) {
        auto it = entries.find(Key{link.type, link.inode});
        return it == entries.end() || !it->second.resolved;
      },
      [this, &entries](NamespaceType type) { return MembersOf(type, entries); },
      options_.collect_members,
      [run](std::size_t index, NamespaceType type) {
        return index < run->own_links.size()
                   ? std::uint64_t{run->own_links[index][TypeIndex(type)]}
                   : std::uint64_t{0};
      }};
  scope.workers = std::max(options_.workers, 1u);
  for (const std::unique_ptr<HolderReader>& reader : readers_) {
    if (!reader->Enabled(options_)) continue;
    HolderFindings findings;
    reader->Read(scope, &findings);
    findings.stats.kind = std::string(HolderKindName(reader->kind()));
    AddFindings(reader->kind(), &findings, run);
    run->stats->holders.push_back(std::move(findings.stats));
  }
}

// The namespaces of "type" found so far with their lowest member PIDs.
std::vector<std::pair<std::uint64_t, pid_t>> Discoverer::MembersOf(
    NamespaceType type, const EntryMap& entries) const {
  std::vector<std::pair<std::uint64_t, pid_t>> out;
  for (const auto& [key, e] : entries) {
    if (key.type == type) out.emplace_back(key.inode, e.info.pid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every held namespace becomes an entry and counts one holder of "kind",
// and every opened one not yet resolved is resolved as the walk's are.
void Discoverer::AddFindings(HolderKind kind, HolderFindings* findings,
                             Run* run) {
  const std::size_t k = static_cast<std::size_t>(kind);
  for (std::size_t i = 0; i < findings->held.size(); ++i) {
    const NamespaceLink& link = findings->held[i];
    if (!Selected(link.type)) continue;
    Entry& e = EntryFor(link, &run->entries);
    ++e.info.holders[k];
    if (i < findings->how.size() && e.info.held_by.empty()) {
      e.info.held_by = std::move(findings->how[i]);
    }
  }
  for (BindMountRecord& b : findings->bind_mounts) {
    if (Selected(b.type)) run->bind_mounts.push_back(std::move(b));
  }
  for (const NsHandle& handle : findings->opened) {
    if (!Selected(handle.type)) continue;
    Entry& e =
        EntryFor(NamespaceLink{handle.type, handle.inode}, &run->entries);
    if (!e.resolved) Resolve(handle, run);
  }
}

// ---------------------------------------------------------------------------
// Stage 4: finish.

// Forgets namespaces not seen by this run: their inodes may be reused.
void Discoverer::EvictUnseen() {
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.generation != generation_) {
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
}

// Moves the entries into the graph, sorted by (type, inode), with their
// member counts by cgroup in one array, and counts them by type.
void Discoverer::BuildGraph(Run* run, NamespaceGraph* out) {
  std::vector<Entry*> order;
  order.reserve(run->entries.size());
  std::size_t counts = 0;
  for (auto& [key, e] : run->entries) {
    order.push_back(&e);
    counts += e.cgroup_members.size();
  }
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return std::make_pair(a->info.type, a->info.inode) <
           std::make_pair(b->info.type, b->info.inode);
  });
  out->namespaces.reserve(order.size());
  out->cgroup_counts.reserve(counts);
  for (Entry* e : order) {
    out->namespaces.push_back(std::move(e->info));
    out->SetCgroupMembers(e->cgroup_members, &out->namespaces.back());
    ++out->count_by_type[TypeIndex(out->namespaces.back().type)];
  }
  out->cgroups = std::move(run->cgroups);
  out->bind_mounts = std::move(run->bind_mounts);
  std::sort(out->bind_mounts.begin(), out->bind_mounts.end(),
            [](const BindMountRecord& a, const BindMountRecord& b) {
              return std::tie(a.type, a.inode, a.mount_ns_inode, a.path) <
                     std::tie(b.type, b.inode, b.mount_ns_inode, b.path);
            });
}

namespace {

// The index of n's parent in the graph; nullopt at the top of what was
// found.
std::optional<std::size_t> ParentIndex(const NamespaceGraph& g,
                                       const NamespaceInfo& n) {
  if (!n.parent_inode) return std::nullopt;
  const NamespaceInfo* p = g.Find(n.type, *n.parent_inode);
  if (p == nullptr) return std::nullopt;
  return static_cast<std::size_t>(p - g.namespaces.data());
}

// Depth of namespace i, memoised in *depth (-1: not yet known). Parents
// sort anywhere, so it climbs; "climbed" bounds the climb.
std::uint32_t DepthOf(const NamespaceGraph& g, std::size_t i,
                      std::uint32_t climbed, std::vector<int>* depth) {
  if ((*depth)[i] >= 0) return static_cast<std::uint32_t>((*depth)[i]);
  std::uint32_t d = 0;
  const std::optional<std::size_t> parent = ParentIndex(g, g.namespaces[i]);
  if (parent && climbed < kMaxNestingDepth) {
    d = DepthOf(g, *parent, climbed + 1, depth) + 1;
  }
  (*depth)[i] = static_cast<int>(d);
  return d;
}

}  // namespace

// Depth and children, for the hierarchical types.
void Discoverer::LinkHierarchy(NamespaceGraph* graph) {
  std::vector<NamespaceInfo>& all = graph->namespaces;
  std::vector<int> depth(all.size(), -1);
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!IsHierarchical(all[i].type)) continue;
    all[i].depth = DepthOf(*graph, i, 0, &depth);
    const std::optional<std::size_t> parent = ParentIndex(*graph, all[i]);
    if (parent) ++all[*parent].children;
  }
}

}  // namespace nsexp
