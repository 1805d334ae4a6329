// holder_cost: the cost of each holder reader and of the cgroup read on top
// of the base walk, on the live /proc. Run as root with a population made by
// bench/populate.c:
//   build/bench/micro/nsexp_holder_cost [--reps N]
// Each variant runs one discovery with the base walk plus one switch, in
// interleaved rounds after a warm-up, with a warm attribute cache (as a
// scrape after the first). Prints the median and minimum wall time per
// variant, the extra over the base walk, and the processes walked.
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

struct Variant {
  const char* name;
  void (*set)(nsexp::DiscoveryOptions*);
};

void Base(nsexp::DiscoveryOptions* o) {
  o->bind_mounts = false;
  o->fds = false;
  o->for_children = false;
  o->threads = false;
  o->cgroups = false;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 9;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: nsexp_holder_cost [--reps N]\n");
      return 2;
    }
  }
  std::unique_ptr<nsexp::ProcFs> procfs;
  if (!nsexp::ProcFs::Open("/proc", &procfs).ok()) return 1;
  auto ops = nsexp::NewRealNamespaceOps();
  const Variant variants[] = {
      {"base walk", [](nsexp::DiscoveryOptions*) {}},
      {"+ for_children",
       [](nsexp::DiscoveryOptions* o) { o->for_children = true; }},
      {"+ threads", [](nsexp::DiscoveryOptions* o) { o->threads = true; }},
      {"+ fds", [](nsexp::DiscoveryOptions* o) { o->fds = true; }},
      {"+ bind_mounts",
       [](nsexp::DiscoveryOptions* o) { o->bind_mounts = true; }},
      {"+ cgroups", [](nsexp::DiscoveryOptions* o) { o->cgroups = true; }},
  };
  const std::size_t n = sizeof(variants) / sizeof(variants[0]);
  std::vector<std::unique_ptr<nsexp::Discoverer>> discoverers;
  std::vector<nsexp::DiscoveryOptions> options(n);
  for (std::size_t v = 0; v < n; ++v) {
    discoverers.push_back(
        std::make_unique<nsexp::Discoverer>(procfs.get(), ops.get()));
    Base(&options[v]);
    variants[v].set(&options[v]);
  }
  std::vector<std::vector<double>> ms(n);
  std::uint64_t processes = 0;
  std::size_t namespaces = 0;
  for (int r = -1; r < reps; ++r) {  // round -1 warms the caches
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t v = (k + static_cast<std::size_t>(r + 1)) % n;
      nsexp::NamespaceGraph g;
      const auto t0 = std::chrono::steady_clock::now();
      if (!discoverers[v]->Discover(options[v], &g).ok()) return 1;
      const auto t1 = std::chrono::steady_clock::now();
      if (r >= 0) {
        ms[v].push_back(
            std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      processes = g.stats.processes_scanned;
      namespaces = std::max(namespaces, g.namespaces.size());
    }
  }
  std::printf("%llu processes, %zu namespaces, %d rounds\n",
              static_cast<unsigned long long>(processes), namespaces, reps);
  std::printf("| variant | median (ms) | min (ms) | extra over base (ms) |\n");
  std::printf("| --- | ---: | ---: | ---: |\n");
  double base = 0;
  for (std::size_t v = 0; v < n; ++v) {
    std::sort(ms[v].begin(), ms[v].end());
    const double median = ms[v][ms[v].size() / 2];
    if (v == 0) base = median;
    std::printf("| %s | %.1f | %.1f | %+.1f |\n", variants[v].name, median,
                ms[v].front(), median - base);
  }
  return 0;
}
