// CgroupCache: which /proc/PID/cgroup text to count a process under without
// reading the file of every process on every walk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proc/proc_fs.h"

namespace nsexp {

// How many walks it takes at most to re-read every cached process's cgroup
// (DiscoveryOptions::cgroup_reread_every): the bound on how long a process
// moved between cgroups stays counted under the old one. Chosen from the
// costs in docs/performance.md.
inline constexpr unsigned kDefaultCgroupRereadEvery = 8;

// Remembers the cgroup text of each process by its PidEntry (PID and /proc
// directory inode, so a reused PID is a new process) and says, walk by walk,
// which processes must be read again (RereadDue()):
//  - a process not in the cache (new, or its PID reused) is read;
//  - a process is read again at its second sighting, the walk after the
//    one that first read it: container runtimes create a process in their
//    own cgroup and move it into the container's right after (runc init);
//  - every other cached process is read again when its turn comes: walk w
//    reads the processes whose PID is w modulo "reread_every", so each is
//    read at least once in any "reread_every" consecutive walks, and a
//    process moved to another cgroup is counted under the new one within
//    "reread_every" walks of the move. 1 reads every process every walk.
// Entries of processes that a walk does not list are dropped, so the cache
// holds at most one entry per listed process.
//
// A walk is Plan(), then Cached() and Record() for each process, then
// Finish(). Thread safety: Plan() and Finish() need exclusive access;
// between them, Cached() may be called from any thread and Record() from
// several threads at once for distinct indices.
class CgroupCache {
 public:
  CgroupCache() = default;
  CgroupCache(const CgroupCache&) = delete;
  CgroupCache& operator=(const CgroupCache&) = delete;

  // Starts a walk over "pids" (ascending by PID, as ListPidEntries gives
  // them), re-reading in turn with period "reread_every" (0 counts as 1).
  void Plan(std::vector<PidEntry> pids, unsigned reread_every);

  // The text to count pids[index] under, or nullptr when the walk must
  // read the file and Record() it. Valid until Finish().
  const std::string* Cached(std::size_t index) const;

  // Records the text the walk read for pids[index]. The text is interned
  // at once: a walk that reads every file holds one copy of each distinct
  // text, not one per process, until Finish().
  void Record(std::size_t index, std::string_view text);

  // Ends the walk: keeps what was read, drops the processes not listed.
  // A process that was to be read and was not (it was skipped) keeps its
  // old entry, or gets none when it had none.
  void Finish();

  // Number of processes remembered.
  std::size_t size() const { return entries_.size(); }
  // Number of files the last walk read (Record() calls). For tests, the
  // debug log and the benchmark.
  std::size_t last_reads() const { return last_reads_; }

 private:
  struct Entry {
    PidEntry id;
    std::uint32_t sightings = 0;              // walks that listed it, up to 2
    std::shared_ptr<const std::string> text;  // shared through pool_
  };
  // The text, shared with every entry that has the same one. Takes
  // pool_mu_.
  std::shared_ptr<const std::string> Intern(std::string_view text);

  std::vector<Entry> entries_;  // ascending by PID
  // The distinct texts of entries_, each held once: processes share a
  // handful of cgroups, and one small block per process, kept for its whole
  // life among the walk's short-lived blocks, fragments the heap (measured:
  // 2.2 MiB more resident memory at 10,000 processes than interned texts).
  std::map<std::string_view, std::shared_ptr<const std::string>> pool_;
  std::mutex pool_mu_;  // Record() runs on the walk's workers
  std::uint64_t walk_ = 0;
  std::size_t last_reads_ = 0;
  // The walk in progress: its PID list, for each listed process the index
  // of its entry in entries_ (or none), whether to read it, and what was
  // read.
  std::vector<PidEntry> pids_;
  std::vector<std::optional<std::size_t>> match_;
  std::vector<bool> read_;
  std::vector<std::shared_ptr<const std::string>> fresh_;
};

}  // namespace nsexp
