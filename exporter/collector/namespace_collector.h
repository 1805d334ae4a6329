// NamespaceCollector: discovery on every scrape, plus the exporter's own
// metrics.
#pragma once

#include <array>
#include <atomic>
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
  std::string version;
  std::string revision;
};

// The prometheus::Collectable behind /metrics. Each Collect() runs one
// discovery and returns fresh families; nothing per-namespace outlives it.
// Thread-safe: concurrent Collect() and Snapshot() calls are serialised, so
// at most one discovery runs at a time. Collect() never throws: a failure
// becomes a counted error, a log line and the self-metrics alone.
class NamespaceCollector : public prometheus::Collectable {
 public:
  NamespaceCollector(std::unique_ptr<ProcFs> procfs,
                     std::unique_ptr<NamespaceOps> ops,
                     CollectorOptions options);
  NamespaceCollector(const NamespaceCollector&) = delete;
  NamespaceCollector& operator=(const NamespaceCollector&) = delete;

  std::vector<prometheus::MetricFamily> Collect() const override;

  // Runs one discovery with "options" (e.g. with members, for the tree
  // view) under the same lock as Collect(), sharing its cache.
  [[nodiscard]] Status Snapshot(const DiscoveryOptions& options,
                                NamespaceGraph* out) const;

  const ProcFs& procfs() const { return *procfs_; }

 private:
  std::vector<prometheus::MetricFamily> CollectLocked() const;
  void LogScan(const ScanStats& stats) const;

  std::unique_ptr<ProcFs> procfs_;
  std::unique_ptr<NamespaceOps> ops_;
  const CollectorOptions options_;

  mutable std::mutex mu_;
  // Collect() is const by the Collectable interface; discovery keeps a
  // cache, so the state below is mutable and guarded by mu_.
  mutable Discoverer discoverer_;
  mutable std::uint64_t errors_vanished_ = 0;
  mutable std::uint64_t errors_denied_ = 0;
  mutable std::uint64_t errors_other_ = 0;
  mutable bool warned_partial_ = false;
};

}  // namespace nsexp
