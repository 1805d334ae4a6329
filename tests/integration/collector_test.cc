// Tests of the collector's scheduling on the real /proc: single flight,
// min_interval sharing, UpdateOptions, reload metrics, and the
// per_namespace_series and exclude_types settings.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/namespace_collector.h"
#include "exposition.h"
#include "metrics/text_format.h"

namespace nsexp {
namespace {

using prometheus::MetricFamily;

// What the counting decorator saw, shared with the test.
struct OpsProbe {
  std::atomic<int> current{0};
  std::atomic<int> max{0};
  std::atomic<long> calls{0};

  // A gate: while "held", the first Open() of a discovery reports itself
  // "entered" and waits for Release(), so that a test acts while a
  // collection is provably in flight.
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;     // guarded by mu
  bool entered = false;  // guarded by mu

  void Hold() {
    std::lock_guard<std::mutex> lock(mu);
    held = true;
  }
  // Blocks until a discovery waits at the gate.
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return entered; });
  }
  // True while a discovery waits at the gate.
  bool InFlight() {
    std::lock_guard<std::mutex> lock(mu);
    return entered && held;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    held = false;
    cv.notify_all();
  }
  // Called by Open(): waits at the gate when it is held.
  void Gate() {
    std::unique_lock<std::mutex> lock(mu);
    if (!held) return;
    entered = true;
    cv.notify_all();
    cv.wait(lock, [this] { return !held; });
  }
};

// Forwards to the real ioctls and records how many calls run at once. Two
// discoveries running together would overlap here, since every discovery
// opens each namespace it finds. The first "delayed_opens" calls of Open()
// sleep, to hold the first discoveries in flight whatever the size of the
// host.
class CountingOps : public NamespaceOps {
 public:
  CountingOps(std::unique_ptr<NamespaceOps> inner,
              std::shared_ptr<OpsProbe> probe,
              std::chrono::microseconds open_delay, int delayed_opens)
      : inner_(std::move(inner)),
        probe_(std::move(probe)),
        open_delay_(open_delay),
        delayed_opens_(delayed_opens) {}

  Status Open(int ns_dir, const NamespaceLink& link, NsHandle* out) override {
    Entry e(probe_.get());
    probe_->Gate();
    if (delayed_opens_.fetch_sub(1) > 0)
      std::this_thread::sleep_for(open_delay_);
    return inner_->Open(ns_dir, link, out);
  }
  Status Parent(const NsHandle& ns, NsHandle* out) override {
    Entry e(probe_.get());
    return inner_->Parent(ns, out);
  }
  Status Owner(const NsHandle& ns, NsHandle* out) override {
    Entry e(probe_.get());
    return inner_->Owner(ns, out);
  }
  Status OwnerUid(const NsHandle& ns, uid_t* out) override {
    Entry e(probe_.get());
    return inner_->OwnerUid(ns, out);
  }
  Status Id(const NsHandle& ns, std::uint64_t* out) override {
    Entry e(probe_.get());
    return inner_->Id(ns, out);
  }

 private:
  class Entry {
   public:
    explicit Entry(OpsProbe* p) : p_(p) {
      p_->calls.fetch_add(1);
      const int now = p_->current.fetch_add(1) + 1;
      int seen = p_->max.load();
      while (now > seen && !p_->max.compare_exchange_weak(seen, now)) {
      }
    }
    ~Entry() { p_->current.fetch_sub(1); }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

   private:
    OpsProbe* p_;
  };

  std::unique_ptr<NamespaceOps> inner_;
  std::shared_ptr<OpsProbe> probe_;
  std::chrono::microseconds open_delay_;
  std::atomic<int> delayed_opens_;
};

std::unique_ptr<NamespaceCollector> MakeCollector(
    const CollectorOptions& options, std::shared_ptr<OpsProbe> probe,
    std::chrono::microseconds open_delay = std::chrono::microseconds(0),
    int delayed_opens = 0) {
  std::unique_ptr<ProcFs> procfs;
  const Status s = ProcFs::Open(std::string(ProcFs::kDefaultRoot), &procfs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return nullptr;
  return std::make_unique<NamespaceCollector>(
      std::move(procfs),
      std::make_unique<CountingOps>(NewRealNamespaceOps(), std::move(probe),
                                    open_delay, delayed_opens),
      options);
}

// One scrape as /metrics serves it (see WebServer), read back.
std::vector<MetricFamily> Scrape(const NamespaceCollector& collector) {
  const NamespaceCollector::SharedResult shared = collector.CollectShared();
  std::string text;
  const NamespaceCollector::Collection& c = *shared.collection;
  if (c.ok) AppendNamespaceText(c.graph, c.limits, c.metrics, &text);
  AppendTextFormat(collector.SelfFamilies(), &text);
  std::string error;
  auto families = ParseExposition(text, &error);
  EXPECT_EQ(error, "");
  return families;
}

const MetricFamily* FindFamily(const std::vector<MetricFamily>& families,
                               const std::string& name) {
  for (const MetricFamily& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Samples of a family; 0 when the family is absent.
std::size_t SeriesCount(const std::vector<MetricFamily>& families,
                        const std::string& name) {
  const MetricFamily* f = FindFamily(families, name);
  return f == nullptr ? 0 : f->metric.size();
}

double GaugeValue(const std::vector<MetricFamily>& families,
                  const std::string& name) {
  const MetricFamily* f = FindFamily(families, name);
  EXPECT_NE(f, nullptr) << name;
  if (f == nullptr || f->metric.empty()) return -1;
  return f->metric.front().gauge.value;
}

std::string Label(const prometheus::ClientMetric& m, const std::string& name) {
  for (const auto& l : m.label) {
    if (l.name == name) return l.value;
  }
  return "";
}

CollectorOptions Options(std::chrono::milliseconds min_interval) {
  CollectorOptions o;
  o.min_interval = min_interval;
  o.version = "test";
  o.revision = "test";
  return o;
}

TEST(CollectorTest, ConcurrentCollectsRunOneDiscoveryAtATime) {
  auto probe = std::make_shared<OpsProbe>();
  // The first collection takes at least 0.2 s: the eight calls overlap.
  auto collector = MakeCollector(Options(std::chrono::milliseconds(0)), probe,
                                 std::chrono::microseconds(5000), 40);
  ASSERT_NE(collector, nullptr);

  constexpr int kThreads = 8;
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  int ready = 0;
  std::vector<std::vector<MetricFamily>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> lock(mu);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      results[static_cast<std::size_t>(i)] = Scrape(*collector);
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return ready == kThreads; });
    go = true;
    cv.notify_all();
  }
  for (auto& t : threads) t.join();

  const std::uint64_t collections = collector->collections();
  EXPECT_GE(collections, 1u);
  EXPECT_LT(collections, static_cast<std::uint64_t>(kThreads))
      << "overlapping scrapes did not share a collection";
  EXPECT_GT(probe->calls.load(), 0) << "the ops decorator was never used";
  EXPECT_EQ(probe->max.load(), 1) << "two discoveries ran at once";
  for (const auto& r : results) {
    ASSERT_NE(FindFamily(r, "linux_namespaces"), nullptr);
    ASSERT_NE(FindFamily(r, "linux_namespace_exporter_scrape_duration_seconds"),
              nullptr);
  }
}

TEST(CollectorTest, SnapshotAndCollectNeverDiscoverTogether) {
  auto probe = std::make_shared<OpsProbe>();
  auto collector = MakeCollector(Options(std::chrono::milliseconds(0)), probe,
                                 std::chrono::microseconds(2000), 100);
  ASSERT_NE(collector, nullptr);
  std::atomic<bool> start{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      while (!start.load()) std::this_thread::yield();
      for (int round = 0; round < 2; ++round) {
        if (i % 2 == 0) {
          NamespaceGraph graph;
          DiscoveryOptions opts;
          opts.collect_members = true;
          EXPECT_TRUE(collector->Snapshot(opts, &graph).ok());
          EXPECT_FALSE(graph.namespaces.empty());
        } else {
          EXPECT_FALSE(Scrape(*collector).empty());
        }
      }
    });
  }
  start = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(probe->max.load(), 1) << "two discoveries ran at once";
}

TEST(CollectorTest, WithoutMinIntervalEverySequentialCollectDiscovers) {
  auto probe = std::make_shared<OpsProbe>();
  auto collector = MakeCollector(Options(std::chrono::milliseconds(0)), probe);
  ASSERT_NE(collector, nullptr);
  (void)Scrape(*collector);
  (void)Scrape(*collector);
  (void)Scrape(*collector);
  EXPECT_EQ(collector->collections(), 3u);
}

TEST(CollectorTest, MinIntervalSharesOneCollection) {
  auto probe = std::make_shared<OpsProbe>();
  auto collector = MakeCollector(Options(std::chrono::seconds(10)), probe);
  ASSERT_NE(collector, nullptr);
  const auto first = Scrape(*collector);
  const long calls_after_first = probe->calls.load();
  const auto second = Scrape(*collector);
  EXPECT_EQ(collector->collections(), 1u);
  EXPECT_EQ(probe->calls.load(), calls_after_first)
      << "the second scrape touched the kernel";
  const std::string d = "linux_namespace_exporter_scrape_duration_seconds";
  EXPECT_EQ(GaugeValue(first, d), GaugeValue(second, d));
}

TEST(CollectorTest, TreeSnapshotsAreSharedInFlightAndForAWhile) {
  auto probe = std::make_shared<OpsProbe>();
  // Slow opens keep the first tree discovery in flight while the others
  // arrive.
  auto collector = MakeCollector(Options(std::chrono::milliseconds(0)), probe,
                                 std::chrono::milliseconds(20), 5);
  ASSERT_NE(collector, nullptr);
  constexpr int kThreads = 8;
  std::vector<std::shared_ptr<const NamespaceGraph>> graphs(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      EXPECT_TRUE(collector->SharedTreeSnapshot(&graphs[i]).ok());
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_NE(graphs[0], nullptr);
  for (const auto& g : graphs) EXPECT_EQ(g, graphs[0]);
  const long calls = probe->calls.load();
  std::shared_ptr<const NamespaceGraph> again;
  ASSERT_TRUE(collector->SharedTreeSnapshot(&again).ok());
  EXPECT_EQ(again, graphs[0]) << "a fresh tree graph was not shared";
  EXPECT_EQ(probe->calls.load(), calls)
      << "the shared graph touched the kernel";
  bool members = false;
  for (const auto& ns : again->namespaces) members |= !ns.members.empty();
  EXPECT_TRUE(members) << "the tree graph lists no member processes";
}

TEST(CollectorTest, UpdateOptionsForcesTheNextCollection) {
  auto probe = std::make_shared<OpsProbe>();
  auto collector = MakeCollector(Options(std::chrono::seconds(10)), probe);
  ASSERT_NE(collector, nullptr);
  const auto before = Scrape(*collector);
  ASSERT_EQ(collector->collections(), 1u);
  ASSERT_GT(SeriesCount(before, "linux_namespace_info"), 0u);

  CollectorOptions changed = Options(std::chrono::seconds(10));
  changed.metrics.per_namespace_series = false;
  changed.version = "ignored";  // the running build's version is kept
  collector->UpdateOptions(changed);
  const auto after = Scrape(*collector);
  EXPECT_EQ(collector->collections(), 2u);
  EXPECT_EQ(SeriesCount(after, "linux_namespace_info"), 0u)
      << "the new options were not used";
  const MetricFamily* build =
      FindFamily(after, "linux_namespace_exporter_build_info");
  ASSERT_NE(build, nullptr);
  ASSERT_FALSE(build->metric.empty());
  EXPECT_EQ(Label(build->metric.front(), "version"), "test");

  // The new result is shared again within its own interval.
  (void)Scrape(*collector);
  EXPECT_EQ(collector->collections(), 2u);
}

TEST(CollectorTest, UpdateOptionsDuringACollectionIsNotLost) {
  auto probe = std::make_shared<OpsProbe>();
  auto collector = MakeCollector(Options(std::chrono::seconds(10)), probe);
  ASSERT_NE(collector, nullptr);
  probe->Hold();
  std::vector<MetricFamily> old_result;
  std::thread scrape([&] { old_result = Scrape(*collector); });
  // The collection is in flight, held at its first namespace, when the
  // reload arrives.
  probe->WaitEntered();
  CollectorOptions changed = Options(std::chrono::seconds(10));
  changed.metrics.per_namespace_series = false;
  collector->UpdateOptions(changed);
  EXPECT_TRUE(probe->InFlight()) << "the update did not meet a collection";
  EXPECT_EQ(collector->collections(), 0u) << "the collection already ended";
  probe->Release();
  scrape.join();
  EXPECT_EQ(collector->collections(), 1u);
  EXPECT_GT(SeriesCount(old_result, "linux_namespace_info"), 0u)
      << "the collection in flight did not run under the old options";

  // The result of the old options must not be served under the new ones.
  const auto next = Scrape(*collector);
  EXPECT_EQ(collector->collections(), 2u);
  EXPECT_EQ(SeriesCount(next, "linux_namespace_info"), 0u)
      << "the reload was lost to the min_interval cache";
}

TEST(CollectorTest, RecordReloadShowsEvenInASharedResult) {
  auto probe = std::make_shared<OpsProbe>();
  auto collector = MakeCollector(Options(std::chrono::seconds(10)), probe);
  ASSERT_NE(collector, nullptr);
  const std::string ok =
      "linux_namespace_exporter_config_last_reload_successful";
  const std::string ts =
      "linux_namespace_exporter_config_last_reload_success_timestamp_seconds";

  const auto first = Scrape(*collector);
  EXPECT_EQ(GaugeValue(first, ok), 1);
  const double t0 = GaugeValue(first, ts);
  EXPECT_GT(t0, 1e9);  // a Unix time, not a duration

  collector->RecordReload(false);
  const auto failed = Scrape(*collector);
  EXPECT_EQ(collector->collections(), 1u) << "the result was not shared";
  EXPECT_EQ(GaugeValue(failed, ok), 0);
  EXPECT_EQ(GaugeValue(failed, ts), t0) << "a failure moved the timestamp";

  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  collector->RecordReload(true);
  const auto recovered = Scrape(*collector);
  EXPECT_EQ(collector->collections(), 1u);
  EXPECT_EQ(GaugeValue(recovered, ok), 1);
  EXPECT_GT(GaugeValue(recovered, ts), t0);
}

TEST(CollectorTest, PerNamespaceSeriesOffLeavesOnlyAggregates) {
  auto probe = std::make_shared<OpsProbe>();
  CollectorOptions o = Options(std::chrono::milliseconds(0));
  o.metrics.per_namespace_series = false;
  auto collector = MakeCollector(o, probe);
  ASSERT_NE(collector, nullptr);
  const auto families = Scrape(*collector);
  for (const char* name :
       {"linux_namespace_info", "linux_namespace_processes",
        "linux_namespace_depth", "linux_namespace_children"}) {
    EXPECT_EQ(SeriesCount(families, name), 0u) << name << " still exported";
  }
  const MetricFamily* total = FindFamily(families, "linux_namespaces");
  ASSERT_NE(total, nullptr);
  double sum = 0;
  for (const auto& m : total->metric) sum += m.gauge.value;
  EXPECT_GT(sum, 0) << "aggregates must still count every namespace";
  const MetricFamily* by_depth =
      FindFamily(families, "linux_namespaces_by_depth");
  ASSERT_NE(by_depth, nullptr);
  EXPECT_FALSE(by_depth->metric.empty());
  for (const auto& m : by_depth->metric) {
    const std::string type = Label(m, "type");
    EXPECT_TRUE(type == "pid" || type == "user") << type;
  }
}

TEST(CollectorTest, ExcludedTypesKeepTheirAggregates) {
  auto probe = std::make_shared<OpsProbe>();
  CollectorOptions o = Options(std::chrono::milliseconds(0));
  o.metrics.exclude_types.Add(NamespaceType::kMnt);
  auto collector = MakeCollector(o, probe);
  ASSERT_NE(collector, nullptr);
  const auto families = Scrape(*collector);
  const MetricFamily* info = FindFamily(families, "linux_namespace_info");
  ASSERT_NE(info, nullptr);
  bool saw_net = false;
  for (const auto& m : info->metric) {
    EXPECT_NE(Label(m, "type"), "mnt");
    saw_net = saw_net || Label(m, "type") == "net";
  }
  EXPECT_TRUE(saw_net);
  const MetricFamily* total = FindFamily(families, "linux_namespaces");
  ASSERT_NE(total, nullptr);
  bool mnt_counted = false;
  for (const auto& m : total->metric) {
    if (Label(m, "type") == "mnt") mnt_counted = m.gauge.value > 0;
  }
  EXPECT_TRUE(mnt_counted);
}

}  // namespace
}  // namespace nsexp
