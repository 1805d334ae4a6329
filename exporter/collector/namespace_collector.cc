// The scrape path: discovery, conversion, self-metrics, and the catch-all.
#include "collector/namespace_collector.h"

#include <chrono>
#include <exception>
#include <utility>

#include "base/logging.h"
#include "collector/process_metrics.h"

namespace nsexp {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily GaugeFamily(const char* name, const char* help, double value) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = MetricType::Gauge;
  ClientMetric m;
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
  return f;
}

}  // namespace

NamespaceCollector::NamespaceCollector(std::unique_ptr<ProcFs> procfs,
                                       std::unique_ptr<NamespaceOps> ops,
                                       CollectorOptions options)
    : procfs_(std::move(procfs)),
      ops_(std::move(ops)),
      options_(std::move(options)),
      discoverer_(procfs_.get(), ops_.get()) {}

Status NamespaceCollector::Snapshot(const DiscoveryOptions& options,
                                    NamespaceGraph* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    return discoverer_.Discover(options, out);
  } catch (const std::exception& e) {
    return Status::IoError(std::string("discovery threw: ") + e.what());
  } catch (...) {
    return Status::IoError("discovery threw a non-standard exception");
  }
}

void NamespaceCollector::LogScan(const ScanStats& stats) const {
  if (stats.permission_denied > 0 && !warned_partial_) {
    warned_partial_ = true;
    Log(LogLevel::kWarn,
        "partial picture: some processes could not be inspected; reading "
        "another process's /proc/PID/ns needs CAP_SYS_PTRACE (run as root, "
        "or grant the capability)",
        {{"denied_processes", std::to_string(stats.permission_denied)},
         {"example", stats.first_denied}});
  }
  if (LogEnabled(LogLevel::kDebug)) {
    Log(LogLevel::kDebug, "scan summary",
        {{"processes", std::to_string(stats.processes_scanned)},
         {"vanished", std::to_string(stats.vanished)},
         {"permission_denied", std::to_string(stats.permission_denied)},
         {"other", std::to_string(stats.other)},
         {"first_other", stats.first_other},
         {"resolved_by_ioctl", std::to_string(discoverer_.last_resolved())},
         {"cached", std::to_string(discoverer_.cache_size())}});
  }
}

std::vector<MetricFamily> NamespaceCollector::CollectLocked() const {
  const auto start = std::chrono::steady_clock::now();
  std::vector<MetricFamily> out;
  NamespaceGraph graph;
  Status s;
  try {
    s = discoverer_.Discover(options_.discovery, &graph);
    if (s.ok()) {
      NamespaceLimits limits;
      for (NamespaceType t : kAllNamespaceTypes) {
        std::int64_t v = 0;
        if (procfs_->ReadNamespaceLimit(t, &v).ok()) limits[TypeIndex(t)] = v;
      }
      MetricsOptions mo;
      mo.types = options_.discovery.types;
      out = BuildNamespaceFamilies(graph, limits, mo);
    }
  } catch (const std::exception& e) {
    s = Status::IoError(std::string("collection threw: ") + e.what());
    out.clear();
  } catch (...) {
    s = Status::IoError("collection threw a non-standard exception");
    out.clear();
  }
  if (!s.ok()) {
    ++errors_other_;
    Log(LogLevel::kError, "collection failed", {{"err", s.ToString()}});
  } else {
    errors_vanished_ += graph.stats.vanished;
    errors_denied_ += graph.stats.permission_denied;
    errors_other_ += graph.stats.other;
    LogScan(graph.stats);
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  MetricFamily build;
  build.name = "linux_namespace_exporter_build_info";
  build.help = "Version and revision the exporter was built from; value 1.";
  build.type = MetricType::Gauge;
  {
    ClientMetric m;
    m.label = {{"version", options_.version}, {"revision", options_.revision}};
    m.gauge.value = 1;
    build.metric.push_back(std::move(m));
  }
  out.push_back(std::move(build));
  out.push_back(GaugeFamily("linux_namespace_exporter_scrape_duration_seconds",
                            "Time the last collection took, in seconds.",
                            seconds));
  out.push_back(
      GaugeFamily("linux_namespace_exporter_processes_scanned",
                  "Processes listed in the procfs root by the last collection.",
                  static_cast<double>(graph.stats.processes_scanned)));
  MetricFamily errors;
  errors.name = "linux_namespace_exporter_scrape_errors_total";
  errors.help =
      "Processes skipped during collection, by reason: vanished (exited "
      "mid-walk), permission_denied, other.";
  errors.type = MetricType::Counter;
  for (const auto& [reason, value] :
       {std::pair<const char*, std::uint64_t>{"vanished", errors_vanished_},
        {"permission_denied", errors_denied_},
        {"other", errors_other_}}) {
    ClientMetric m;
    m.label = {{"reason", reason}};
    m.counter.value = static_cast<double>(value);
    errors.metric.push_back(std::move(m));
  }
  out.push_back(std::move(errors));
  try {
    for (auto& f : CollectProcessFamilies(*procfs_))
      out.push_back(std::move(f));
  } catch (...) {
    // Process metrics are best effort; the scrape goes on without them.
  }
  return out;
}

std::vector<MetricFamily> NamespaceCollector::Collect() const {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    return CollectLocked();
  } catch (...) {
    // Nothing may escape: prometheus-cpp's scrape path does not catch, and
    // a throw here would end the process.
    return {};
  }
}

}  // namespace nsexp
