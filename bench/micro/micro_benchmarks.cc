// Google Benchmark micro-benchmarks of the parsers and the metric
// conversion: a regression on the scrape path shows as a number here.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "exposition.h"
#include "metrics/namespace_metrics.h"
#include "metrics/text_format.h"
#include "ns/discovery.h"
#include "ns/namespace_graph.h"
#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"
#include "prometheus/text_serializer.h"

namespace nsexp {
namespace {

void BM_ParseNamespaceLink(benchmark::State& state) {
  const std::string link = "net:[4026532562]";
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseNamespaceLink(link));
  }
}
BENCHMARK(BM_ParseNamespaceLink);

void BM_ParseProcessStatus(benchmark::State& state) {
  const std::string text =
      "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\n"
      "Ngid:\t0\nPid:\t4242\nPPid:\t4100\nTracerPid:\t0\n"
      "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
      "FDSize:\t256\nGroups:\t27 1000\nNStgid:\t4242\t17\t1\n"
      "NSpid:\t4242\t17\t1\nNSpgid:\t4242\t17\t1\nNSsid:\t4100\t0\t0\n"
      "VmPeak:\t   10000 kB\nVmSize:\t   10000 kB\nThreads:\t1\n"
      "SigQ:\t0/96551\nCapEff:\t0000000000000000\n";
  ProcessStatus st;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseProcessStatus(text, &st));
  }
}
BENCHMARK(BM_ParseProcessStatus);

void BM_ParseNsfsMounts(benchmark::State& state) {
  std::string text;
  for (int i = 0; i < state.range(0); ++i) {
    text += std::to_string(100 + i) + " 29 0:23 / /var/lib/kubelet/pods/p" +
            std::to_string(i) +
            "/volumes rw,relatime shared:1 - ext4 /dev/vda rw\n";
    if (i % 10 == 0) {
      text += std::to_string(5000 + i) + " 29 0:4 net:[" +
              std::to_string(4026532000 + i) + "] /run/netns/cni-" +
              std::to_string(i) + " rw shared:5 - nsfs nsfs rw\n";
    }
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseNsfsMounts(text));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseNsfsMounts)->Arg(100)->Arg(2000);

// A graph shaped like a busy node: per 1000 namespaces, a third pid (some
// nested), the rest spread over the other types.
NamespaceGraph MakeGraph(int n) {
  NamespaceGraph g;
  for (int i = 0; i < n; ++i) {
    NamespaceInfo ns;
    ns.type = kAllNamespaceTypes[static_cast<std::size_t>(i) % 8];
    ns.inode = 4026531800u + static_cast<std::uint64_t>(i);
    ns.ns_id = 1000u + static_cast<std::uint64_t>(i);
    ns.owner_inode = 4026531837u;
    if (IsHierarchical(ns.type) && i > 8) {
      ns.parent_inode = ns.inode - 8;
      ns.depth = static_cast<std::uint32_t>(i % 3);
    }
    if (ns.type == NamespaceType::kUser) ns.owner_uid = 0;
    ns.processes = static_cast<std::uint32_t>(i % 7);
    ns.pid = 1000 + i;
    ns.command = "containerd-shim";
    g.namespaces.push_back(ns);
    ++g.count_by_type[TypeIndex(ns.type)];
  }
  return g;
}

// The scrape path: text straight from the graph, no families.
void BM_AppendNamespaceText(benchmark::State& state) {
  const NamespaceGraph g = MakeGraph(static_cast<int>(state.range(0)));
  NamespaceLimits limits;
  const MetricsOptions options;
  for (auto _ : state) {
    std::string out;
    AppendNamespaceText(g, limits, options, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AppendNamespaceText)->Arg(1600)->Arg(10000);

// The same series as prometheus-cpp families (read back from the text, so
// that both say the same), built per scrape as a Collectable would.
std::vector<prometheus::MetricFamily> Families(int n) {
  std::string text, error;
  AppendNamespaceText(MakeGraph(n), NamespaceLimits(), MetricsOptions(), &text);
  return ParseExposition(text, &error);
}

// The baseline the direct writer replaced, measured in the same run:
// families (here copied, about what building them per scrape allocates)
// serialised by prometheus-cpp's TextSerializer.
void BM_PrometheusCppTextSerializer(benchmark::State& state) {
  const auto families = Families(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    const std::vector<prometheus::MetricFamily> copy = families;
    benchmark::DoNotOptimize(prometheus::TextSerializer().Serialize(copy));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PrometheusCppTextSerializer)->Arg(1600)->Arg(10000);

// Our writer for families (the self-metrics path) on the same families.
void BM_AppendTextFormat(benchmark::State& state) {
  const auto families = Families(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    std::string out;
    AppendTextFormat(families, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AppendTextFormat)->Arg(1600)->Arg(10000);

void BM_UntrustedLabelValue(benchmark::State& state) {
  const std::string comm = "kworker/u8:1-\xff\xfe-writeback";
  for (auto _ : state) {
    benchmark::DoNotOptimize(UntrustedLabelValue(comm));
  }
}
BENCHMARK(BM_UntrustedLabelValue);

// Discovery of this host's /proc with a warm cache, with and without the
// witnesses (verify_namespace_ids) and NS_GET_ID (older kernels).
// Run as root next to a population (bench/populate) to see the cost.
void BM_DiscoverLiveProc(benchmark::State& state) {
  std::unique_ptr<ProcFs> procfs;
  if (!ProcFs::Open("/proc", &procfs).ok()) {
    state.SkipWithError("cannot open /proc");
    return;
  }
  RealNamespaceOpsOptions options;
  options.use_ns_get_id = state.range(0) != 0;
  std::unique_ptr<NamespaceOps> ops = NewRealNamespaceOps(options);
  Discoverer discoverer(procfs.get(), ops.get());
  DiscoveryOptions discovery;
  discovery.verify_namespace_ids = state.range(1) != 0;
  NamespaceGraph graph;
  (void)discoverer.Discover(discovery, &graph);  // warm the cache
  for (auto _ : state) {
    (void)discoverer.Discover(discovery, &graph);
  }
  state.counters["processes"] =
      static_cast<double>(graph.stats.processes_scanned);
  state.counters["namespaces"] = static_cast<double>(graph.namespaces.size());
  state.counters["resolved"] = static_cast<double>(discoverer.last_resolved());
  state.counters["witnessed"] =
      static_cast<double>(discoverer.last_witnessed());
}
// Args: {NS_GET_ID used, verify_namespace_ids}. {1, 0} is the default: a
// namespace whose witness stayed is not opened; {1, 1} opens every one and
// asks NS_GET_ID; {0, 1} asks every ioctl again (kernels before 6.18).
BENCHMARK(BM_DiscoverLiveProc)
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace nsexp

BENCHMARK_MAIN();
