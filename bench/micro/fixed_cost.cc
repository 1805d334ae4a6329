// fixed_cost: the per-scrape reads that do not grow with the number of
// processes, each timed on the live /proc and set against one base walk
// (no holders, no cgroups, warm attribute cache) over the same /proc:
//   build/bench/micro/nsexp_fixed_cost [--reps N]
// The pieces: the eight /proc/sys/user/max_*_namespaces limits, the
// process_* self-metrics (self/stat, self/fd, self/limits; the boot time is
// read once per process lifetime already), and the exporter's own
// mountinfo (one of the bind-mount reader's reads, the one every scrape
// makes whatever the population). Prints the median time of each in
// microseconds and as a share of the base walk's median.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/process_metrics.h"
#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"

namespace {

// The median of "reps" timed calls of "f", in microseconds.
double MedianUs(int reps, const std::function<void()>& f) {
  std::vector<double> us;
  f();  // warm-up
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 9;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: nsexp_fixed_cost [--reps N]\n");
      return 2;
    }
  }
  std::unique_ptr<nsexp::ProcFs> procfs;
  if (!nsexp::ProcFs::Open("/proc", &procfs).ok()) return 1;
  auto ops = nsexp::NewRealNamespaceOps();
  nsexp::Discoverer discoverer(procfs.get(), ops.get());
  nsexp::DiscoveryOptions base;
  base.bind_mounts = false;
  base.cgroups = false;
  std::uint64_t processes = 0;
  const double walk = MedianUs(reps, [&] {
    nsexp::NamespaceGraph g;
    if (discoverer.Discover(base, &g).ok()) {
      processes = g.stats.processes_scanned;
    }
  });
  const double limits = MedianUs(reps * 100, [&] {
    for (nsexp::NamespaceType t : nsexp::kAllNamespaceTypes) {
      std::int64_t v = 0;
      (void)procfs->ReadNamespaceLimit(t, &v);
    }
  });
  const double self_metrics = MedianUs(
      reps * 100, [&] { (void)nsexp::CollectProcessFamilies(*procfs); });
  std::size_t mounts = 0;
  const double mountinfo = MedianUs(reps * 100, [&] {
    std::vector<nsexp::NsfsMount> m;
    if (procfs->ReadNsfsMounts("self", &m).ok()) mounts = m.size();
  });
  std::printf("%llu processes, %d rounds of the walk, %d of each read\n",
              static_cast<unsigned long long>(processes), reps, reps * 100);
  std::printf("| per scrape | median (us) | share of the base walk |\n");
  std::printf("| --- | ---: | ---: |\n");
  std::printf("| base walk | %.0f | 100%% |\n", walk);
  const std::pair<const char*, double> rows[] = {
      {"8 namespace limits", limits},
      {"process_* self-metrics", self_metrics},
      {"own mountinfo", mountinfo},
  };
  for (const auto& [name, us] : rows) {
    std::printf("| %s | %.1f | %.3f%% |\n", name, us, 100.0 * us / walk);
  }
  std::printf("(%zu nsfs mounts in the own mountinfo)\n", mounts);
  return 0;
}
