// The standard process_* metrics, read from the procfs root's self/.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "proc/proc_fs.h"
#include "prometheus/metric_family.h"

namespace nsexp {

// Fields of /proc/self/stat that the process metrics need.
struct SelfStat {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t starttime_ticks = 0;  // since boot
  std::uint64_t vsize_bytes = 0;
  std::uint64_t rss_pages = 0;
};

// Parses /proc/PID/stat; the comm field may hold spaces and parentheses,
// so fields are counted from the last ')'. Pure.
Status ParseSelfStat(std::string_view text, SelfStat* out);

// "btime" of /proc/stat, seconds since the epoch. Pure.
std::optional<std::uint64_t> ParseBootTime(std::string_view text);

// The soft "Max open files" limit from /proc/PID/limits; nullopt when
// unlimited or absent. Pure.
std::optional<std::uint64_t> ParseMaxOpenFiles(std::string_view text);

// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds, as the Go client names them. Families whose
// source cannot be read are left out. Thread-safe.
std::vector<prometheus::MetricFamily> CollectProcessFamilies(
    const ProcFs& procfs);

}  // namespace nsexp
