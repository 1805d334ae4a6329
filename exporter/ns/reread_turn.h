// The re-read rule the walk's per-process caches share (CgroupCache,
// CommCache).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace nsexp {

// Whether walk "walk" must read again what a cache remembers of process
// "pid", seen in "sightings" earlier walks (counted up to 2): before its
// second sighting always (a runtime's new process becomes the container's
// right after), then when its turn comes, once in "period" walks by PID
// (period >= 1).
inline bool RereadDue(pid_t pid, std::uint32_t sightings, std::uint64_t walk,
                      std::uint64_t period) {
  return sightings < 2 ||
         static_cast<std::uint64_t>(pid) % period == walk % period;
}

}  // namespace nsexp
