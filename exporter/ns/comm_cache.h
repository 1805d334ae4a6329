// CommCache: the comm of each namespace's lowest member process, without
// reading /proc/PID/comm of every such process on every walk.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "proc/proc_fs.h"

namespace nsexp {

// Remembers the comm of each process it was asked about, by its PidEntry
// (PID and /proc directory inode, so a reused PID is a new process), with
// the same re-read rules as the CgroupCache (RereadDue()):
//  - a process not in the cache (new, or its PID reused) is read;
//  - it is read again at its second sighting: a container's first process
//    is created as the runtime's ("runc:[2:INIT]") and executes the
//    container's command right after;
//  - every other remembered comm is read again when its turn comes: walk w
//    reads the processes whose PID is w modulo "reread_every", so a comm
//    changed later (execve(2), prctl(PR_SET_NAME)) shows within
//    "reread_every" walks. 1 reads every comm on every walk.
// A process not asked about in a walk is forgotten at its end, so the cache
// holds the lowest members of the last walk's namespaces, a few thousand
// entries at most on a large host.
//
// A walk is Begin(), then Lookup() and Record() for each process asked
// about, then End(). Thread-safe between Begin() and End(): the walk's
// workers call Lookup() and Record() concurrently, each for its own
// processes.
class CommCache {
 public:
  CommCache() = default;
  CommCache(const CommCache&) = delete;
  CommCache& operator=(const CommCache&) = delete;

  // Starts a walk, re-reading in turn with period "reread_every" (0 counts
  // as 1).
  void Begin(unsigned reread_every);

  // True, with *comm set, when the remembered comm of "process" serves this
  // walk; false when the walk must read it (and Record() it, if it could).
  bool Lookup(const PidEntry& process, std::string* comm);

  // Records the comm the walk read for "process".
  void Record(const PidEntry& process, const std::string& comm);

  // Ends the walk: forgets the processes it did not ask about.
  void End();

  // Number of processes remembered.
  std::size_t size() const;
  // Number of comms the last walk read (Record() calls), for tests.
  std::size_t last_reads() const { return last_reads_; }

 private:
  struct Entry {
    std::uint64_t inode = 0;
    std::uint64_t walk = 0;       // the last walk that asked about it
    std::uint32_t sightings = 0;  // walks that asked about it, up to 2
    std::string comm;
  };

  mutable std::mutex mu_;
  std::unordered_map<pid_t, Entry> entries_;
  std::uint64_t walk_ = 0;
  std::uint64_t period_ = 1;
  std::size_t reads_ = 0;
  std::size_t last_reads_ = 0;
};

}  // namespace nsexp
