// process_* metrics, matching the Go client's process collector.
#include "collector/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <string>

namespace nsexp {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Single(const char* name, const char* help, MetricType type,
                    double value) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  ClientMetric m;
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

bool ToU64(std::string_view s, std::uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Counts the entries of self/fd, less "." and "..".
std::optional<std::uint64_t> CountOpenFds(const ProcFs& procfs) {
  std::string path = procfs.root() + "/self/fd";
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return std::nullopt;
  DIR* d = ::fdopendir(dir.get());
  if (d == nullptr) return std::nullopt;
  dir.Release();  // now owned by d
  std::uint64_t n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  // The descriptor used to read the directory is itself listed.
  return n > 0 ? n - 1 : 0;
}

}  // namespace

Status ParseSelfStat(std::string_view text, SelfStat* out) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 > text.size()) {
    return Status::InvalidArgument("stat: no ')' after comm");
  }
  std::string_view rest = text.substr(close + 2);
  // Fields after comm, numbered from 3 (state) as in proc(5).
  std::vector<std::string_view> f;
  f.reserve(24);
  while (!rest.empty() && f.size() < 22) {  // fields 3..24
    const std::size_t sp = rest.find(' ');
    f.push_back(rest.substr(0, sp));
    if (sp == std::string_view::npos) break;
    rest = rest.substr(sp + 1);
  }
  // proc(5): utime 14, stime 15, starttime 22, vsize 23, rss 24.
  if (f.size() < 22) return Status::InvalidArgument("stat: too few fields");
  auto field = [&f](std::size_t n) { return f[n - 3]; };
  if (!ToU64(field(14), &out->utime_ticks) ||
      !ToU64(field(15), &out->stime_ticks) ||
      !ToU64(field(22), &out->starttime_ticks) ||
      !ToU64(field(23), &out->vsize_bytes) ||
      !ToU64(field(24), &out->rss_pages)) {
    return Status::InvalidArgument("stat: malformed number");
  }
  return Status::Ok();
}

std::optional<std::uint64_t> ParseBootTime(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (line.substr(0, 6) == "btime ") {
      std::uint64_t v = 0;
      std::string_view num = line.substr(6);
      while (!num.empty() && num.back() == ' ') num.remove_suffix(1);
      if (ToU64(num, &v)) return v;
      return std::nullopt;
    }
    pos = nl + 1;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ParseMaxOpenFiles(std::string_view text) {
  const std::size_t at = text.find("Max open files");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 14);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const std::size_t sp = rest.find(' ');
  std::uint64_t v = 0;
  if (!ToU64(rest.substr(0, sp), &v)) return std::nullopt;  // "unlimited"
  return v;
}

std::vector<MetricFamily> CollectProcessFamilies(const ProcFs& procfs) {
  std::vector<MetricFamily> out;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  std::string text;
  SelfStat st;
  if (procfs.ReadFile("self/stat", &text).ok() &&
      ParseSelfStat(text, &st).ok() && ticks > 0) {
    const double t = static_cast<double>(ticks);
    out.push_back(
        Single("process_cpu_seconds_total",
               "Total user and system CPU time spent "
               "in seconds.",
               MetricType::Counter,
               static_cast<double>(st.utime_ticks + st.stime_ticks) / t));
    out.push_back(
        Single("process_resident_memory_bytes",
               "Resident memory size in bytes.", MetricType::Gauge,
               static_cast<double>(st.rss_pages) * static_cast<double>(page)));
    out.push_back(Single("process_virtual_memory_bytes",
                         "Virtual memory size in bytes.", MetricType::Gauge,
                         static_cast<double>(st.vsize_bytes)));
    // The boot time never changes: read /proc/stat (a line per CPU and
    // more) once, not on every scrape. 0 means not read yet.
    static std::atomic<std::uint64_t> boot_time{0};
    if (boot_time.load() == 0) {
      std::string stat_all;
      if (procfs.ReadFile("stat", &stat_all).ok()) {
        if (auto boot = ParseBootTime(stat_all)) boot_time.store(*boot);
      }
    }
    if (const std::uint64_t boot = boot_time.load(); boot != 0) {
      out.push_back(
          Single("process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.",
                 MetricType::Gauge,
                 static_cast<double>(boot) +
                     static_cast<double>(st.starttime_ticks) / t));
    }
  }
  if (auto fds = CountOpenFds(procfs)) {
    out.push_back(Single("process_open_fds", "Number of open file descriptors.",
                         MetricType::Gauge, static_cast<double>(*fds)));
  }
  if (procfs.ReadFile("self/limits", &text).ok()) {
    if (auto max = ParseMaxOpenFiles(text)) {
      out.push_back(Single("process_max_fds",
                           "Maximum number of open file descriptors.",
                           MetricType::Gauge, static_cast<double>(*max)));
    }
  }
  return out;
}

}  // namespace nsexp
