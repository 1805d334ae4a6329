// The scrape path: single-flight collection, discovery, conversion,
// self-metrics, and the catch-all.
#include "collector/namespace_collector.h"

#include <malloc.h>

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

double NowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

NamespaceCollector::NamespaceCollector(std::unique_ptr<ProcFs> procfs,
                                       std::unique_ptr<NamespaceOps> ops,
                                       CollectorOptions options)
    : procfs_(std::move(procfs)),
      ops_(std::move(ops)),
      discoverer_(procfs_.get(), ops_.get()),
      options_(std::move(options)),
      reload_success_time_(NowSeconds()) {}

Status NamespaceCollector::Snapshot(const DiscoveryOptions& options,
                                    NamespaceGraph* out) const {
  std::lock_guard<std::mutex> lock(discovery_mu_);
  try {
    return discoverer_.Discover(options, out);
  } catch (const std::exception& e) {
    return Status::IoError(std::string("discovery threw: ") + e.what());
  } catch (...) {
    return Status::IoError("discovery threw a non-standard exception");
  }
}

void NamespaceCollector::UpdateOptions(const CollectorOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string version = options_.version;
  const std::string revision = options_.revision;
  options_ = options;
  options_.version = version;
  options_.revision = revision;
  ++options_generation_;
  have_result_ = false;  // the next scrape collects with the new options
}

void NamespaceCollector::RecordReload(bool success) {
  std::lock_guard<std::mutex> lock(mu_);
  reload_ok_ = success;
  if (success) reload_success_time_ = NowSeconds();
}

std::uint64_t NamespaceCollector::collections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
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

NamespaceCollector::Collection NamespaceCollector::CollectOnce(
    const CollectorOptions& options) const {
  Collection snap;
  const auto start = std::chrono::steady_clock::now();
  std::vector<MetricFamily>& out = snap.self;
  NamespaceGraph& graph = snap.graph;
  Status s;
  try {
    {
      std::lock_guard<std::mutex> lock(discovery_mu_);
      s = discoverer_.Discover(options.discovery, &graph);
      if (s.ok()) LogScan(graph.stats);
    }
    if (s.ok()) {
      NamespaceLimits limits;
      for (NamespaceType t : kAllNamespaceTypes) {
        std::int64_t v = 0;
        if (procfs_->ReadNamespaceLimit(t, &v).ok()) limits[TypeIndex(t)] = v;
      }
      snap.limits = limits;
      snap.metrics = options.metrics;
      snap.metrics.types = options.discovery.types;
      snap.ok = true;
    }
  } catch (const std::exception& e) {
    s = Status::IoError(std::string("collection threw: ") + e.what());
    snap.ok = false;
  } catch (...) {
    s = Status::IoError("collection threw a non-standard exception");
    snap.ok = false;
  }
  if (!s.ok())
    Log(LogLevel::kError, "collection failed", {{"err", s.ToString()}});

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::lock_guard<std::mutex> lock(mu_);
  if (s.ok()) {
    errors_vanished_ += graph.stats.vanished;
    errors_denied_ += graph.stats.permission_denied;
    errors_other_ += graph.stats.other;
  } else {
    ++errors_other_;
  }
  MetricFamily build;
  build.name = "linux_namespace_exporter_build_info";
  build.help = "Version and revision the exporter was built from; value 1.";
  build.type = MetricType::Gauge;
  {
    ClientMetric m;
    m.label = {{"version", options.version}, {"revision", options.revision}};
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
  return snap;
}

NamespaceCollector::SharedResult NamespaceCollector::CollectShared() const {
  std::unique_lock<std::mutex> lock(mu_);
  if (in_flight_) {
    // Share the collection already running rather than queue behind it.
    const std::uint64_t gen = generation_;
    done_.wait(lock, [&] { return generation_ != gen; });
    return SharedResult{result_generation_, result_};
  }
  if (have_result_ && result_ && options_.min_interval.count() > 0 &&
      std::chrono::steady_clock::now() - result_time_ < options_.min_interval) {
    return SharedResult{result_generation_, result_};
  }
  in_flight_ = true;
  const CollectorOptions options = options_;
  const std::uint64_t options_generation = options_generation_;
  lock.unlock();
  std::shared_ptr<const Collection> fresh;
  try {
    fresh = std::make_shared<const Collection>(CollectOnce(options));
  } catch (...) {
    fresh = std::make_shared<const Collection>();
  }
  lock.lock();
  std::shared_ptr<const Collection> previous = std::move(result_);
  result_ = fresh;
  result_time_ = std::chrono::steady_clock::now();
  have_result_ = options_generation == options_generation_;
  in_flight_ = false;
  ++generation_;
  result_generation_ = generation_;
  done_.notify_all();
  SharedResult shared{result_generation_, std::move(fresh)};
  lock.unlock();
  // Free the previous result (unless a scrape still holds it) and hand the
  // pages back to the kernel rather than keep every scrape's peak resident
  // (glibc's malloc_trim(3)).
  if (previous.use_count() == 1) {
    previous.reset();
    malloc_trim(0);
  }
  return shared;
}

std::vector<MetricFamily> NamespaceCollector::CollectFresh() const {
  std::vector<MetricFamily> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out.push_back(GaugeFamily(
        "linux_namespace_exporter_config_last_reload_successful",
        "Whether the last configuration reload attempt was successful.",
        reload_ok_ ? 1 : 0));
    out.push_back(GaugeFamily(
        "linux_namespace_exporter_config_last_reload_success_timestamp_"
        "seconds",
        "Timestamp of the last successful configuration reload.",
        reload_success_time_));
  }
  for (auto& f : CollectProcessFamilies(*procfs_)) out.push_back(std::move(f));
  return out;
}

std::vector<MetricFamily> NamespaceCollector::Collect() const {
  try {
    const SharedResult shared = CollectShared();
    std::vector<MetricFamily> out;
    if (shared.collection) {
      if (shared.collection->ok) {
        out = BuildNamespaceFamilies(shared.collection->graph,
                                     shared.collection->limits,
                                     shared.collection->metrics);
      }
      out.insert(out.end(), shared.collection->self.begin(),
                 shared.collection->self.end());
    }
    for (auto& f : CollectFresh()) out.push_back(std::move(f));
    return out;
  } catch (...) {
    // Nothing may escape: prometheus-cpp's scrape path does not catch, and
    // a throw here would end the process.
    return {};
  }
}

}  // namespace nsexp
