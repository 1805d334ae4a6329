// NamespaceCollector: discovery on a scrape, shared by concurrent scrapers,
// and the exporter's own metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/namespace_metrics.h"
#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace nsexp {

struct CollectorOptions {
  DiscoveryOptions discovery;
  MetricsOptions metrics;
  // Scrapes within this interval of the last collection share its result.
  std::chrono::milliseconds min_interval{0};
  std::string version;
  std::string revision;
};

// The data behind /metrics. The per-namespace series are not kept here: a
// collection is a NamespaceGraph that the server writes straight as text
// (AppendNamespaceText), fresh every collection, so nothing per-namespace
// outlives it. The exporter's own metrics (build info, the last
// collection's duration and size, the error counters, the reload state)
// are long-lived prometheus-cpp counters and gauges in a registry of their
// own (SelfFamilies()).
//
// Thread safety: all methods are thread-safe. At most one discovery runs at
// a time: a scrape that arrives while a collection is in flight waits for
// that collection and shares its result (so no scraper waits longer than
// one collection), and scrapes within min_interval of the last collection
// share its result. A collection that fails or throws is logged, counted as
// scrape_errors_total{reason="other"} and served as the self-metrics alone;
// the in-flight mark is held by a scope guard, so no failure leaves later
// scrapes waiting.
class NamespaceCollector {
 public:
  NamespaceCollector(std::unique_ptr<ProcFs> procfs,
                     std::unique_ptr<NamespaceOps> ops,
                     CollectorOptions options);
  NamespaceCollector(const NamespaceCollector&) = delete;
  NamespaceCollector& operator=(const NamespaceCollector&) = delete;

  // What one collection found, for whoever serves it.
  struct Collection {
    bool ok = false;  // false: discovery failed; nothing else is set
    NamespaceGraph graph;
    NamespaceLimits limits;
    MetricsOptions metrics;
  };

  // The result of one collection, shared by every scrape it serves.
  struct SharedResult {
    std::uint64_t generation = 0;  // which collection; equal = same data
    std::shared_ptr<const Collection> collection;  // never null
  };

  // Runs a collection or shares one (in flight, or within min_interval).
  // A failed collection is a result with ok == false. When this call starts
  // a new collection, "on_start" (if set) runs first, on this thread with
  // no lock held: a caller drops there what it built from the last result,
  // which a new collection makes stale, so that the walk can reuse that
  // memory. May throw std::bad_alloc only.
  SharedResult CollectShared(
      const std::function<void()>& on_start = nullptr) const;

  // The exporter's own metrics as they stand now: build info, the last
  // collection's duration and processes scanned, scrape_errors_total, the
  // configuration reload metrics and the process_* metrics.
  std::vector<prometheus::MetricFamily> SelfFamilies() const;

  // Runs one discovery with "options" (e.g. with members, for the tree
  // view), serialised with collections and sharing their cache. A throw
  // from discovery becomes kIoError.
  [[nodiscard]] Status Snapshot(const DiscoveryOptions& options,
                                NamespaceGraph* out) const;

  // A graph discovered with members (for the tree view), shared: callers
  // that arrive while one such discovery runs wait for it and share it, and
  // a graph younger than kTreeMinAge, or than kTreeAgeFactor times the
  // discovery took, is served again without discovering. So however many
  // tree requests arrive, discoveries for them hold the discovery lock (and
  // so delay collections) for at most about 1/kTreeAgeFactor of the time.
  // *out is never null on Ok; the errors of Snapshot() otherwise.
  [[nodiscard]] Status SharedTreeSnapshot(
      std::shared_ptr<const NamespaceGraph>* out) const;
  static constexpr std::chrono::seconds kTreeMinAge{1};
  static constexpr int kTreeAgeFactor = 4;

  // Replaces the options (version and revision are kept); takes effect at
  // the next collection, which is not served from the min_interval cache.
  void UpdateOptions(const CollectorOptions& options);

  // Records the outcome of a configuration (re)load for the
  // ..._config_last_reload_* metrics.
  void RecordReload(bool success);

  // Records the outcome of a web configuration reload (SIGHUP, or TLS files
  // that changed on disk) for linux_namespace_exporter_web_config_last_
  // reload_successful.
  void RecordWebConfigReload(bool success);

  // Number of collections completed (or failed) so far. For tests and logs.
  std::uint64_t collections() const;

  const ProcFs& procfs() const { return *procfs_; }

 private:
  class Flight;

  // One discovery and what goes with it; throws whatever discovery throws.
  std::shared_ptr<const Collection> CollectOnce(
      const CollectorOptions& options) const;
  void LogScan(const ScanStats& stats) const;
  // Adds each holder reader's failed reads to holder_errors_.
  void CountHolderErrors(const ScanStats& stats) const;

  // Reads the sys/user limits into *snap, counting and logging failures.
  void ReadLimits(Collection* snap) const;

  std::unique_ptr<ProcFs> procfs_;
  std::unique_ptr<NamespaceOps> ops_;

  // The exporter's own counters and gauges; each is thread-safe alone.
  prometheus::Registry registry_;
  prometheus::Gauge& duration_;
  prometheus::Gauge& processes_scanned_;
  prometheus::Gauge& mount_namespaces_unscanned_;
  prometheus::Counter& errors_vanished_;
  prometheus::Counter& errors_denied_;
  prometheus::Counter& errors_other_;
  // linux_namespace_exporter_holder_errors_total, a series per holder kind
  // and reason, all made up front.
  prometheus::Family<prometheus::Counter>& holder_errors_;
  prometheus::Gauge& reload_ok_;
  prometheus::Gauge& reload_success_time_;
  prometheus::Gauge& web_reload_ok_;

  // Served in place of a collection that threw; allocated up front so that
  // the failure path allocates nothing.
  const std::shared_ptr<const Collection> failed_;

  // Guards the discovery state; held for the length of one discovery.
  mutable std::mutex discovery_mu_;
  mutable Discoverer discoverer_;
  mutable bool warned_partial_ = false;
  mutable bool had_other_ = false;  // the last scan had "other" errors
  // The last collection could not read a namespace limit.
  mutable std::atomic<bool> had_limit_error_{false};

  // Guards everything below: options and the shared result.
  mutable std::mutex mu_;
  mutable std::condition_variable done_;
  CollectorOptions options_;
  mutable bool in_flight_ = false;        // set and cleared by Flight only
  mutable std::uint64_t generation_ = 0;  // completed collections
  mutable bool have_result_ = false;
  // Bumped by UpdateOptions: a collection that started under older options
  // must not be shared as the result of the new ones.
  std::uint64_t options_generation_ = 0;
  mutable std::chrono::steady_clock::time_point result_time_;
  mutable std::shared_ptr<const Collection> result_;

  // SharedTreeSnapshot()'s state, guarded by tree_mu_.
  mutable std::mutex tree_mu_;
  mutable std::condition_variable tree_done_;
  mutable bool tree_in_flight_ = false;
  mutable std::uint64_t tree_generation_ = 0;  // finished tree discoveries
  mutable Status tree_status_;                 // of the last one
  mutable std::shared_ptr<const NamespaceGraph> tree_;  // last good graph
  mutable std::chrono::steady_clock::time_point tree_expiry_;
};

// The warning logged the first time a collection could not inspect some
// processes. It blames the capabilities only when CAP_SYS_PTRACE is
// missing ("holds_ptrace" false); otherwise a sandbox or security module
// refused them, and it says how many and which came first. Pure.
std::string PartialPictureWarning(const ScanStats& stats, bool holds_ptrace);

}  // namespace nsexp
