// holder_cost: the cost of each holder reader and of the cgroup read on top
// of the base walk, on the live /proc. Run as root with a population made by
// bench/populate.c:
//   build/bench/micro/nsexp_holder_cost [--reps N] [--only NAME,NAME...]
// (--only keeps the base walk and the variants whose name contains one of
// the NAMEs: "--only fds,sockets").
// Each variant runs one discovery with the base walk plus one switch, in
// interleaved rounds after a warm-up, with a warm attribute cache (as a
// scrape after the first). Prints the median and minimum wall time per
// variant, the extra over the base walk, the median CPU time (user + system
// of every thread) and both as ratios to the base walk, the median number of
// cgroup files read per walk, and the processes walked. The cgroup variants
// read every file every walk (K=1) or keep them in the cgroup cache with the
// re-read period K (DiscoveryOptions::cgroup_reread_every). The "workers"
// variants are the base walk split over threads (collection.workers).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"

namespace {

// User + system CPU time of the whole process so far, in milliseconds.
double CpuMs() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  const auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e3 +
           static_cast<double>(t.tv_usec) / 1e3;
  };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

struct Variant {
  const char* name;
  void (*set)(nsexp::DiscoveryOptions*);
};

void Base(nsexp::DiscoveryOptions* o) {
  o->bind_mounts = false;
  o->fds = false;
  o->sockets = false;
  o->for_children = false;
  o->threads = false;
  o->cgroups = false;
}

// True when "only" (",a,b,") is empty or names a part of "name".
bool Chosen(const std::string& only, const std::string& name) {
  if (only.empty()) return true;
  std::size_t start = 1;
  for (std::size_t comma = only.find(',', start); comma != std::string::npos;
       start = comma + 1, comma = only.find(',', start)) {
    const std::string part = only.substr(start, comma - start);
    if (!part.empty() && name.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 9;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = std::string(",") + argv[++i] + ",";
    } else {
      std::fprintf(stderr,
                   "usage: nsexp_holder_cost [--reps N] [--only NAME,...]\n");
      return 2;
    }
  }
  std::unique_ptr<nsexp::ProcFs> procfs;
  if (!nsexp::ProcFs::Open("/proc", &procfs).ok()) return 1;
  auto ops = nsexp::NewRealNamespaceOps();
  const Variant all[] = {
      {"base walk", [](nsexp::DiscoveryOptions*) {}},
      {"+ for_children",
       [](nsexp::DiscoveryOptions* o) { o->for_children = true; }},
      {"+ threads", [](nsexp::DiscoveryOptions* o) { o->threads = true; }},
      {"+ fds", [](nsexp::DiscoveryOptions* o) { o->fds = true; }},
      {"+ sockets", [](nsexp::DiscoveryOptions* o) { o->sockets = true; }},
      {"+ bind_mounts",
       [](nsexp::DiscoveryOptions* o) { o->bind_mounts = true; }},
      {"+ cgroups, read every walk",
       [](nsexp::DiscoveryOptions* o) {
         o->cgroups = true;
         o->cgroup_reread_every = 1;
       }},
      {"+ cgroups, cached, K=4",
       [](nsexp::DiscoveryOptions* o) {
         o->cgroups = true;
         o->cgroup_reread_every = 4;
       }},
      {"+ cgroups, cached, K=8",
       [](nsexp::DiscoveryOptions* o) {
         o->cgroups = true;
         o->cgroup_reread_every = 8;
       }},
      {"+ cgroups, cached, K=16",
       [](nsexp::DiscoveryOptions* o) {
         o->cgroups = true;
         o->cgroup_reread_every = 16;
       }},
      {"workers=2", [](nsexp::DiscoveryOptions* o) { o->workers = 2; }},
      {"workers=4", [](nsexp::DiscoveryOptions* o) { o->workers = 4; }},
  };
  std::vector<Variant> variants;
  for (const Variant& v : all) {
    if (variants.empty() || Chosen(only, v.name)) variants.push_back(v);
  }
  const std::size_t n = variants.size();
  std::vector<std::unique_ptr<nsexp::Discoverer>> discoverers;
  std::vector<nsexp::DiscoveryOptions> options(n);
  for (std::size_t v = 0; v < n; ++v) {
    discoverers.push_back(
        std::make_unique<nsexp::Discoverer>(procfs.get(), ops.get()));
    Base(&options[v]);
    variants[v].set(&options[v]);
  }
  std::vector<std::vector<double>> ms(n);
  std::vector<std::vector<double>> cpu(n);
  std::uint64_t processes = 0;
  std::size_t namespaces = 0;
  std::vector<std::vector<double>> reads(n);
  // Rounds -2 and -1 warm the caches: the cgroup cache reads every process
  // at its first and second sighting.
  for (int r = -2; r < reps; ++r) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t v = (k + static_cast<std::size_t>(r + 2)) % n;
      nsexp::NamespaceGraph g;
      const double c0 = CpuMs();
      const auto t0 = std::chrono::steady_clock::now();
      if (!discoverers[v]->Discover(options[v], &g).ok()) return 1;
      const auto t1 = std::chrono::steady_clock::now();
      const double c1 = CpuMs();
      if (r >= 0) {
        ms[v].push_back(
            std::chrono::duration<double, std::milli>(t1 - t0).count());
        cpu[v].push_back(c1 - c0);
        reads[v].push_back(
            static_cast<double>(discoverers[v]->last_cgroup_reads()));
      }
      processes = g.stats.processes_scanned;
      namespaces = std::max(namespaces, g.namespaces.size());
    }
  }
  std::printf("%llu processes, %zu namespaces, %d rounds\n",
              static_cast<unsigned long long>(processes), namespaces, reps);
  std::printf(
      "| variant | median (ms) | min (ms) | extra over base (ms) | wall / base "
      "| CPU (ms) | CPU / base | cgroup files read |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  double base = 0;
  double base_cpu = 0;
  for (std::size_t v = 0; v < n; ++v) {
    std::sort(ms[v].begin(), ms[v].end());
    std::sort(cpu[v].begin(), cpu[v].end());
    std::sort(reads[v].begin(), reads[v].end());
    const double median = ms[v][ms[v].size() / 2];
    const double median_cpu = cpu[v][cpu[v].size() / 2];
    if (v == 0) {
      base = median;
      base_cpu = median_cpu;
    }
    std::printf("| %s | %.1f | %.1f | %+.1f | %.2f | %.1f | %.2f | %.0f |\n",
                variants[v].name, median, ms[v].front(), median - base,
                base > 0 ? median / base : 0.0, median_cpu,
                base_cpu > 0 ? median_cpu / base_cpu : 0.0,
                reads[v][reads[v].size() / 2]);
  }
  return 0;
}
