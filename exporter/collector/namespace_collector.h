// NamespaceCollector: discovery on every scrape, plus the exporter's own
// metrics.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/namespace_metrics.h"
#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"
#include "prometheus/collectable.h"

namespace nsexp {

struct CollectorOptions {
  DiscoveryOptions discovery;
  MetricsOptions metrics;
  // Scrapes within this interval of the last collection share its result.
  std::chrono::milliseconds min_interval{0};
  std::string version;
  std::string revision;
};

// The prometheus::Collectable behind /metrics. Each collection runs one
// discovery and returns fresh families; nothing per-namespace outlives it.
//
// Thread safety: all methods are thread-safe. At most one discovery runs at
// a time: a scrape that arrives while a collection is in flight waits for
// that collection and shares its result (so no scraper waits longer than
// one collection), and scrapes within min_interval of the last collection
// share its result. Collect() never throws: a failure becomes a counted
// error, a log line and the self-metrics alone.
class NamespaceCollector : public prometheus::Collectable {
 public:
  NamespaceCollector(std::unique_ptr<ProcFs> procfs,
                     std::unique_ptr<NamespaceOps> ops,
                     CollectorOptions options);
  NamespaceCollector(const NamespaceCollector&) = delete;
  NamespaceCollector& operator=(const NamespaceCollector&) = delete;

  std::vector<prometheus::MetricFamily> Collect() const override;

  // What one collection found: the graph (turned into series by whoever
  // serves it, as families or straight as text) and the self-metrics of
  // that collection.
  struct Collection {
    bool ok = false;  // false: discovery failed; only "self" is set
    NamespaceGraph graph;
    NamespaceLimits limits;
    MetricsOptions metrics;
    std::vector<prometheus::MetricFamily> self;
  };

  // The result of one collection, shared by every scrape it serves.
  struct SharedResult {
    std::uint64_t generation = 0;  // which collection; equal = same data
    std::shared_ptr<const Collection> collection;
  };

  // The data part of Collect(), without copying it: runs a collection or
  // shares one (in flight, or within min_interval). Never null. May throw
  // std::bad_alloc only.
  SharedResult CollectShared() const;

  // The part of Collect() that always describes the exporter now: the
  // configuration reload metrics and the process_* metrics.
  std::vector<prometheus::MetricFamily> CollectFresh() const;

  // Runs one discovery with "options" (e.g. with members, for the tree
  // view), serialised with collections and sharing their cache.
  [[nodiscard]] Status Snapshot(const DiscoveryOptions& options,
                                NamespaceGraph* out) const;

  // Replaces the options (version and revision are kept); takes effect at
  // the next collection, which is not served from the min_interval cache.
  void UpdateOptions(const CollectorOptions& options);

  // Records the outcome of a configuration (re)load for the
  // ..._config_last_reload_* metrics.
  void RecordReload(bool success);

  // Number of discoveries run by Collect() so far. For tests and logs.
  std::uint64_t collections() const;

  const ProcFs& procfs() const { return *procfs_; }

 private:
  Collection CollectOnce(const CollectorOptions& options) const;
  void LogScan(const ScanStats& stats) const;

  std::unique_ptr<ProcFs> procfs_;
  std::unique_ptr<NamespaceOps> ops_;

  // Guards the discovery state; held for the length of one discovery.
  mutable std::mutex discovery_mu_;
  mutable Discoverer discoverer_;
  mutable bool warned_partial_ = false;

  // Guards everything below: options, the shared result, the counters.
  mutable std::mutex mu_;
  mutable std::condition_variable done_;
  CollectorOptions options_;
  mutable bool in_flight_ = false;
  mutable std::uint64_t generation_ = 0;  // completed collections
  mutable bool have_result_ = false;
  // Bumped by UpdateOptions: a collection that started under older options
  // must not be shared as the result of the new ones.
  std::uint64_t options_generation_ = 0;
  mutable std::chrono::steady_clock::time_point result_time_;
  mutable std::shared_ptr<const Collection> result_;
  mutable std::uint64_t result_generation_ = 0;
  mutable std::uint64_t errors_vanished_ = 0;
  mutable std::uint64_t errors_denied_ = 0;
  mutable std::uint64_t errors_other_ = 0;
  bool reload_ok_ = true;
  double reload_success_time_ = 0;
};

}  // namespace nsexp
