// The scrape path: single-flight collection, discovery, self-metrics, and
// the catch-all.
#include "collector/namespace_collector.h"

#include <malloc.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "base/logging.h"
#include "base/privileges.h"
#include "collector/process_metrics.h"
#include "ns/tree_view.h"

namespace nsexp {

namespace {

double NowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

prometheus::Gauge& AddGauge(prometheus::Registry* registry, const char* name,
                            const char* help,
                            const prometheus::Labels& labels = {}) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add(
      labels);
}

prometheus::Family<prometheus::Counter>& ErrorsFamily(
    prometheus::Registry* registry) {
  return prometheus::BuildCounter()
      .Name("linux_namespace_exporter_scrape_errors_total")
      .Help(
          "Processes skipped during collection, by reason: vanished (exited "
          "mid-walk), permission_denied, other.")
      .Register(*registry);
}

}  // namespace

std::string PartialPictureWarning(const ScanStats& stats, bool holds_ptrace) {
  std::string msg = "partial picture: " + DeniedSummary(stats) + "; ";
  if (!holds_ptrace) {
    return msg +
           "reading another process's /proc/PID/ns needs CAP_SYS_PTRACE, "
           "which the exporter lacks (run as root, or grant the capability)";
  }
  return msg +
         "the exporter holds CAP_SYS_PTRACE, so a security module or sandbox "
         "protects them";
}

// Marks a collection in flight for as long as it lives. However the scope
// is left, the mark is cleared, the generation bumped and the scrapes
// waiting for it woken: by Finish() with a result, or, when an exception
// unwinds the scope first, by the destructor, which counts the failure as
// scrape_errors_total{reason="other"}, publishes failed_ and stores its
// generation in *failed_generation. Created with mu_ held.
class NamespaceCollector::Flight {
 public:
  // REQUIRES: c->mu_ held and no collection in flight.
  Flight(const NamespaceCollector* c, std::uint64_t* failed_generation)
      : c_(c),
        options_generation_(c->options_generation_),
        failed_generation_(failed_generation) {
    c_->in_flight_ = true;
  }
  Flight(const Flight&) = delete;
  Flight& operator=(const Flight&) = delete;

  // Publishes "fresh" as the newest result and ends the flight.
  // REQUIRES: mu_ not held.
  SharedResult Finish(std::shared_ptr<const Collection> fresh) {
    std::shared_ptr<const Collection> previous;
    SharedResult shared;
    {
      std::lock_guard<std::mutex> lock(c_->mu_);
      previous = Publish(std::move(fresh));
      shared = SharedResult{c_->generation_, c_->result_};
    }
    // Free the previous result (unless a scrape still holds it; normally
    // there is none, CollectShared dropped it) and hand the pages back to
    // the kernel rather than keep every scrape's peak resident (glibc's
    // malloc_trim(3)).
    if (previous.use_count() <= 1) {
      previous.reset();
      malloc_trim(0);
    }
    return shared;
  }

  // REQUIRES: mu_ not held.
  ~Flight() {
    if (finished_) return;
    c_->errors_other_.Increment();
    std::lock_guard<std::mutex> lock(c_->mu_);
    Publish(c_->failed_);
    *failed_generation_ = c_->generation_;
  }

 private:
  // REQUIRES: c_->mu_ held. Returns the result it replaced.
  std::shared_ptr<const Collection> Publish(
      std::shared_ptr<const Collection> fresh) {
    finished_ = true;
    std::shared_ptr<const Collection> previous = std::move(c_->result_);
    c_->result_ = std::move(fresh);
    c_->result_time_ = std::chrono::steady_clock::now();
    c_->have_result_ = options_generation_ == c_->options_generation_;
    c_->in_flight_ = false;
    ++c_->generation_;
    c_->done_.notify_all();
    return previous;
  }

  const NamespaceCollector* c_;
  const std::uint64_t options_generation_;
  std::uint64_t* const failed_generation_;
  bool finished_ = false;
};

NamespaceCollector::NamespaceCollector(std::unique_ptr<ProcFs> procfs,
                                       std::unique_ptr<NamespaceOps> ops,
                                       CollectorOptions options)
    : procfs_(std::move(procfs)),
      ops_(std::move(ops)),
      duration_(AddGauge(&registry_,
                         "linux_namespace_exporter_scrape_duration_seconds",
                         "Time the last collection took, in seconds.")),
      processes_scanned_(AddGauge(
          &registry_, "linux_namespace_exporter_processes_scanned",
          "Processes listed in the procfs root by the last collection.")),
      mount_namespaces_unscanned_(AddGauge(
          &registry_, "linux_namespace_exporter_mount_namespaces_unscanned",
          "Mount namespaces that no process is in, found by the last "
          "collection, whose bind mounts could not be scanned.")),
      errors_vanished_(ErrorsFamily(&registry_).Add({{"reason", "vanished"}})),
      errors_denied_(
          ErrorsFamily(&registry_).Add({{"reason", "permission_denied"}})),
      errors_other_(ErrorsFamily(&registry_).Add({{"reason", "other"}})),
      holder_errors_(
          prometheus::BuildCounter()
              .Name("linux_namespace_exporter_holder_errors_total")
              .Help("Holders a holder reader could not read, by holder kind "
                    "and reason: vanished (the process, fd or mount went "
                    "away), permission_denied, other (also counted in "
                    "scrape_errors_total{reason=\"other\"}).")
              .Register(registry_)),
      reload_ok_(AddGauge(
          &registry_, "linux_namespace_exporter_config_last_reload_successful",
          "Whether the last configuration reload attempt was successful.")),
      reload_success_time_(AddGauge(
          &registry_,
          "linux_namespace_exporter_config_last_reload_success_timestamp_"
          "seconds",
          "Timestamp of the last successful configuration reload.")),
      web_reload_ok_(AddGauge(
          &registry_,
          "linux_namespace_exporter_web_config_last_reload_successful",
          "Whether the last reload of the web configuration or of its TLS "
          "files was successful.")),
      failed_(std::make_shared<const Collection>()),
      discoverer_(procfs_.get(), ops_.get()),
      options_(std::move(options)) {
  AddGauge(&registry_, "linux_namespace_exporter_build_info",
           "Version and revision the exporter was built from; value 1.",
           {{"version", options_.version}, {"revision", options_.revision}})
      .Set(1);
  for (HolderKind kind : kAllHolderKinds) {
    for (const char* reason : {"vanished", "permission_denied", "other"}) {
      holder_errors_.Add(
          {{"holder", std::string(HolderKindName(kind))}, {"reason", reason}});
    }
  }
  reload_ok_.Set(1);
  reload_success_time_.Set(NowSeconds());
  web_reload_ok_.Set(1);
}

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

Status NamespaceCollector::SharedTreeSnapshot(
    std::shared_ptr<const NamespaceGraph>* out) const {
  auto graph = std::make_shared<NamespaceGraph>();
  std::unique_lock<std::mutex> lock(tree_mu_);
  for (;;) {
    if (tree_ && std::chrono::steady_clock::now() < tree_expiry_) {
      *out = tree_;
      return Status::Ok();
    }
    if (!tree_in_flight_) break;
    const std::uint64_t generation = tree_generation_;
    tree_done_.wait(lock, [&] { return tree_generation_ != generation; });
    if (!tree_status_.ok()) return tree_status_;
  }
  tree_in_flight_ = true;
  lock.unlock();
  // Members, every holder reader and cgroups: what the tree view shows;
  // sockets as collection.sockets says.
  bool sockets = false;
  {
    std::lock_guard<std::mutex> options_lock(mu_);
    sockets = options_.discovery.sockets;
  }
  const DiscoveryOptions options = TreeDiscoveryOptions(sockets);
  const auto start = std::chrono::steady_clock::now();
  Status s = Snapshot(options, graph.get());  // never throws
  const auto end = std::chrono::steady_clock::now();
  lock.lock();
  tree_in_flight_ = false;
  ++tree_generation_;
  tree_status_ = s;
  if (s.ok()) {
    tree_ = std::move(graph);
    tree_expiry_ = end + std::max<std::chrono::steady_clock::duration>(
                             kTreeMinAge, kTreeAgeFactor * (end - start));
    *out = tree_;
  }
  tree_done_.notify_all();
  return s;
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
  reload_ok_.Set(success ? 1 : 0);
  if (success) reload_success_time_.Set(NowSeconds());
}

void NamespaceCollector::RecordWebConfigReload(bool success) {
  web_reload_ok_.Set(success ? 1 : 0);
}

std::uint64_t NamespaceCollector::collections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void NamespaceCollector::LogScan(const ScanStats& stats) const {
  if (stats.permission_denied > 0 && !warned_partial_) {
    warned_partial_ = true;
    Log(LogLevel::kWarn, PartialPictureWarning(stats, HoldsPtraceCapability()),
        {{"denied_processes", std::to_string(stats.permission_denied)},
         {"first_denied", stats.first_denied}});
  }
  // Errors other than an exit or a denial: a warning when they start (the
  // first collection with any after one without), the summary at debug.
  std::uint64_t holder_other = 0;
  std::string first_holder_error;
  for (const HolderStats& h : stats.holders) {
    holder_other += h.other;
    if (first_holder_error.empty() && h.other > 0) {
      first_holder_error = h.kind + ": " + h.first_error;
    }
  }
  const bool other = stats.other > 0 || holder_other > 0;
  if (other && !had_other_) {
    Log(LogLevel::kWarn, "errors reading procfs, counted as reason=other",
        {{"processes", std::to_string(stats.other)},
         {"first_other", stats.first_other},
         {"holders", std::to_string(holder_other)},
         {"first_holder_error", first_holder_error}});
  }
  had_other_ = other;
  if (LogEnabled(LogLevel::kDebug)) {
    Log(LogLevel::kDebug, "scan summary",
        {{"processes", std::to_string(stats.processes_scanned)},
         {"vanished", std::to_string(stats.vanished)},
         {"permission_denied", std::to_string(stats.permission_denied)},
         {"other", std::to_string(stats.other)},
         {"first_other", stats.first_other},
         {"resolved_by_ioctl", std::to_string(discoverer_.last_resolved())},
         {"cached", std::to_string(discoverer_.cache_size())}});
    // Each holder reader's own accounting.
    for (const HolderStats& h : stats.holders) {
      Log(LogLevel::kDebug, "holder summary",
          {{"holder", h.kind},
           {"holders", std::to_string(h.holders)},
           {"vanished", std::to_string(h.vanished)},
           {"permission_denied", std::to_string(h.permission_denied)},
           {"other", std::to_string(h.other)},
           {"unscanned", std::to_string(h.unscanned)},
           {"first_error", h.first_error}});
    }
  }
}

void NamespaceCollector::CountHolderErrors(const ScanStats& stats) const {
  for (const HolderStats& h : stats.holders) {
    const std::pair<const char*, std::uint64_t> counts[] = {
        {"vanished", h.vanished},
        {"permission_denied", h.permission_denied},
        {"other", h.other}};
    for (const auto& [reason, n] : counts) {
      if (n == 0) continue;
      holder_errors_.Add({{"holder", h.kind}, {"reason", reason}})
          .Increment(static_cast<double>(n));
    }
  }
}

void NamespaceCollector::ReadLimits(Collection* snap) const {
  // A knob the kernel lacks (max_time_namespaces before 5.6) is no error;
  // any other failure is counted, and logged when it starts.
  std::string first_error;
  for (NamespaceType t : kAllNamespaceTypes) {
    std::int64_t v = 0;
    const Status s = procfs_->ReadNamespaceLimit(t, &v);
    if (s.ok()) {
      snap->limits[TypeIndex(t)] = v;
      continue;
    }
    if (s.IsNotFound()) continue;
    if (s.IsPermissionDenied()) {
      errors_denied_.Increment();
    } else {
      errors_other_.Increment();
    }
    if (first_error.empty()) first_error = s.ToString();
  }
  const bool failed = !first_error.empty();
  if (failed && !had_limit_error_.exchange(true)) {
    Log(LogLevel::kWarn, "cannot read the namespace limits of sys/user",
        {{"err", first_error}});
  } else if (!failed) {
    had_limit_error_ = false;
  }
}

std::shared_ptr<const NamespaceCollector::Collection>
NamespaceCollector::CollectOnce(const CollectorOptions& options) const {
  const auto start = std::chrono::steady_clock::now();
  auto snap = std::make_shared<Collection>();
  Status s;
  {
    std::lock_guard<std::mutex> lock(discovery_mu_);
    s = discoverer_.Discover(options.discovery, &snap->graph);
    if (s.ok()) LogScan(snap->graph.stats);
  }
  const ScanStats& stats = snap->graph.stats;
  processes_scanned_.Set(static_cast<double>(stats.processes_scanned));
  std::uint64_t unscanned = 0;
  for (const HolderStats& h : stats.holders) {
    if (h.kind == HolderKindName(HolderKind::kBindMount)) {
      unscanned += h.unscanned;
    }
  }
  mount_namespaces_unscanned_.Set(static_cast<double>(unscanned));
  if (s.ok()) {
    ReadLimits(snap.get());
    snap->metrics = options.metrics;
    snap->metrics.types = options.discovery.types;
    snap->ok = true;
    errors_vanished_.Increment(static_cast<double>(stats.vanished));
    errors_denied_.Increment(static_cast<double>(stats.permission_denied));
    CountHolderErrors(stats);
    std::uint64_t holder_other = 0;
    for (const HolderStats& h : stats.holders) holder_other += h.other;
    errors_other_.Increment(static_cast<double>(stats.other + holder_other));
  } else {
    Log(LogLevel::kError, "collection failed", {{"err", s.ToString()}});
    errors_other_.Increment();
  }
  duration_.Set(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return snap;
}

NamespaceCollector::SharedResult NamespaceCollector::CollectShared(
    const std::function<void()>& on_start) const {
  std::unique_lock<std::mutex> lock(mu_);
  if (in_flight_) {
    // Share the collection already running rather than queue behind it.
    // A collection that starts before this thread wakes has dropped the
    // result (see below): then this scrape shares that one too.
    const std::uint64_t gen = generation_;
    done_.wait(lock, [&] { return generation_ != gen && result_ != nullptr; });
    return SharedResult{generation_, result_};
  }
  if (have_result_ && result_ && options_.min_interval.count() > 0 &&
      std::chrono::steady_clock::now() - result_time_ < options_.min_interval) {
    return SharedResult{generation_, result_};
  }
  const CollectorOptions options = options_;
  // The catch-all: nothing a collection throws reaches the server. The
  // Flight has counted the failure and released the waiters by the time a
  // handler runs; the handler adds the log line.
  SharedResult failed{0, failed_};
  // Once a collection starts, the last result is never served again (the
  // scrapes that hold it keep it alive): dropped now, its memory serves the
  // new walk, which would otherwise hold two graphs at its peak.
  std::shared_ptr<const Collection> last = std::move(result_);
  try {
    Flight flight(this, &failed.generation);
    lock.unlock();
    last.reset();
    if (on_start) on_start();
    return flight.Finish(CollectOnce(options));
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "collection failed",
        {{"err", std::string("collection threw: ") + e.what()}});
  } catch (...) {
    Log(LogLevel::kError, "collection failed",
        {{"err", "collection threw a non-standard exception"}});
  }
  return failed;
}

std::vector<prometheus::MetricFamily> NamespaceCollector::SelfFamilies() const {
  std::vector<prometheus::MetricFamily> out = registry_.Collect();
  for (auto& f : CollectProcessFamilies(*procfs_)) out.push_back(std::move(f));
  return out;
}

}  // namespace nsexp
