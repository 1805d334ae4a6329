// Tests of NamespaceCollector over a fixture tree with a fake ioctl layer:
// a collection that throws is logged and counted, and leaves no scrape
// waiting; the partial-picture warning blames only missing capabilities.
#include "collector/namespace_collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/privileges.h"
#include "exposition.h"
#include "metrics/text_format.h"
#include "ns/fake_namespace_ops.h"
#include "ns/fixture_copy.h"
#include "ns/fixture_tables.h"

namespace nsexp {
namespace {

using prometheus::MetricFamily;
using testing::HasSubstr;

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";
constexpr auto kPatience = std::chrono::seconds(10);

// The fixture answers of FakeNamespaceOps, except that Open() throws while
// "throwing" is set; while "hold" is set, the throwing call first waits
// until the test releases it, to keep a collection in flight.
class ThrowingOps : public NamespaceOps {
 public:
  struct Control {
    std::atomic<bool> throwing{false};
    std::mutex mu;
    std::condition_variable cv;
    bool hold = false;
    bool held = false;  // a call is waiting in Open()
  };

  explicit ThrowingOps(std::shared_ptr<Control> control)
      : control_(std::move(control)) {
    fixture::AddBasic(&inner_);
  }

  // The fixture table, to change before the collector takes the ops.
  FakeNamespaceOps& inner() { return inner_; }

  Status Open(int ns_dir, const NamespaceLink& link, NsHandle* out) override {
    if (control_->throwing.load()) {
      std::unique_lock<std::mutex> lock(control_->mu);
      control_->held = true;
      control_->cv.notify_all();
      control_->cv.wait(lock, [&] { return !control_->hold; });
      throw std::runtime_error("fake ioctl layer failed");
    }
    std::lock_guard<std::mutex> lock(mu_);
    return inner_.Open(ns_dir, link, out);
  }
  Status OpenMounted(const ProcFs& procfs, const std::string& pid,
                     const NsfsMount& mount, NsHandle* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_.OpenMounted(procfs, pid, mount, out);
  }
  Status Parent(const NsHandle& ns, NsHandle* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_.Parent(ns, out);
  }
  Status Owner(const NsHandle& ns, NsHandle* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_.Owner(ns, out);
  }
  Status OwnerUid(const NsHandle& ns, uid_t* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_.OwnerUid(ns, out);
  }
  Status Id(const NsHandle& ns, std::uint64_t* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_.Id(ns, out);
  }

 private:
  std::shared_ptr<Control> control_;
  std::mutex mu_;
  FakeNamespaceOps inner_;
};

// The self-metrics sample of "name" of "collector" with label
// reason="reason", or -1.
// The value of the exporter's own sample "name" whose labels include
// "labels" (the first such sample), or -1 when there is none.
double SelfSample(
    const NamespaceCollector& collector, const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string text, error;
  AppendTextFormat(collector.SelfFamilies(), &text);
  for (const MetricFamily& f : ParseExposition(text, &error)) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      const bool match =
          std::all_of(labels.begin(), labels.end(), [&m](const auto& want) {
            return std::any_of(
                m.label.begin(), m.label.end(),
                [&want](const prometheus::ClientMetric::Label& l) {
                  return l.name == want.first && l.value == want.second;
                });
          });
      if (!match) continue;
      return f.type == prometheus::MetricType::Counter ? m.counter.value
                                                       : m.gauge.value;
    }
  }
  EXPECT_EQ(error, "");
  return -1;
}

double SelfValueOf(const NamespaceCollector& collector, const std::string& name,
                   const std::string& reason = "") {
  if (reason.empty()) return SelfSample(collector, name, {});
  return SelfSample(collector, name, {{"reason", reason}});
}

class NamespaceCollectorTest : public testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<ProcFs> procfs;
    ASSERT_TRUE(ProcFs::Open(kFixtures + "basic", &procfs).ok());
    CollectorOptions options;
    options.version = "v";
    options.revision = "r";
    collector_ = std::make_unique<NamespaceCollector>(
        std::move(procfs), std::make_unique<ThrowingOps>(control_), options);
  }

  double SelfValue(const std::string& name, const std::string& reason = "") {
    return SelfValueOf(*collector_, name, reason);
  }

  std::shared_ptr<ThrowingOps::Control> control_ =
      std::make_shared<ThrowingOps::Control>();
  std::unique_ptr<NamespaceCollector> collector_;
};

TEST_F(NamespaceCollectorTest, CollectsTheFixture) {
  const auto shared = collector_->CollectShared();
  ASSERT_NE(shared.collection, nullptr);
  EXPECT_TRUE(shared.collection->ok);
  EXPECT_FALSE(shared.collection->graph.namespaces.empty());
  EXPECT_EQ(collector_->collections(), 1u);
  EXPECT_EQ(SelfValue("linux_namespace_exporter_scrape_errors_total", "other"),
            0);
  EXPECT_EQ(SelfValue("linux_namespace_exporter_build_info"), 1);
}

TEST_F(NamespaceCollectorTest, NoMountNamespaceUnscanned) {
  ASSERT_TRUE(collector_->CollectShared().collection->ok);
  EXPECT_EQ(SelfValue("linux_namespace_exporter_mount_namespaces_unscanned"),
            0);
}

TEST(NamespaceCollectorUnscannedTest, CountsBindMountedMountNamespaces) {
  // PID 1's mount namespace holds a bind mount of a mount namespace that
  // no process is in: its mountinfo cannot be read.
  const fixture::FixtureCopy tree(kFixtures + "bind_mounts");
  ASSERT_FALSE(tree.root().empty());
  tree.Append({"1"}, "mountinfo",
              "702 29 0:4 mnt:[4026532504] /run/x/mnt rw - nsfs nsfs rw\n");
  std::unique_ptr<ProcFs> procfs;
  ASSERT_TRUE(ProcFs::Open(tree.root(), &procfs).ok());
  auto ops = std::make_unique<FakeNamespaceOps>();
  fixture::AddBindMounts(ops.get());
  NamespaceCollector collector(std::move(procfs), std::move(ops),
                               CollectorOptions{});
  ASSERT_TRUE(collector.CollectShared().collection->ok);
  EXPECT_EQ(SelfValueOf(collector,
                        "linux_namespace_exporter_mount_namespaces_unscanned"),
            1);
  // With the bind mount reader off nothing is looked for, nothing unscanned.
  CollectorOptions off;
  off.discovery.bind_mounts = false;
  collector.UpdateOptions(off);
  ASSERT_TRUE(collector.CollectShared().collection->ok);
  EXPECT_EQ(SelfValueOf(collector,
                        "linux_namespace_exporter_mount_namespaces_unscanned"),
            0);
}

// The value of linux_namespace_exporter_holder_errors_total{holder,reason}.
double HolderErrors(const NamespaceCollector& collector,
                    const std::string& holder, const std::string& reason) {
  return SelfSample(collector, "linux_namespace_exporter_holder_errors_total",
                    {{"holder", holder}, {"reason", reason}});
}

TEST(NamespaceCollectorHolderErrorsTest, CountsEachHolderKindsFailedReads) {
  // PID 1's mountinfo lists a bind mount that cannot be opened (the fake
  // ops know no namespace 4026532999: an unexpected error, reason other).
  const fixture::FixtureCopy tree(kFixtures + "bind_mounts");
  ASSERT_FALSE(tree.root().empty());
  tree.Append({"1"}, "mountinfo",
              "703 29 0:4 net:[4026532999] /run/netns/gone rw - nsfs nsfs "
              "rw\n");
  std::unique_ptr<ProcFs> procfs;
  ASSERT_TRUE(ProcFs::Open(tree.root(), &procfs).ok());
  auto ops = std::make_unique<FakeNamespaceOps>();
  fixture::AddBindMounts(ops.get());
  NamespaceCollector collector(std::move(procfs), std::move(ops),
                               CollectorOptions{});
  // Every kind and reason is there from the start, at 0.
  for (HolderKind kind : kAllHolderKinds) {
    for (const char* reason : {"vanished", "permission_denied", "other"}) {
      EXPECT_EQ(
          HolderErrors(collector, std::string(HolderKindName(kind)), reason), 0)
          << HolderKindName(kind) << " " << reason;
    }
  }
  ASSERT_TRUE(collector.CollectShared().collection->ok);
  const double first = HolderErrors(collector, "bind_mount", "other");
  EXPECT_GE(first, 1);
  EXPECT_EQ(HolderErrors(collector, "bind_mount", "vanished"), 0);
  EXPECT_EQ(HolderErrors(collector, "fd", "other"), 0);
  // A counter: the next collection adds to it.
  CollectorOptions again;
  again.min_interval = std::chrono::milliseconds(0);
  collector.UpdateOptions(again);
  ASSERT_TRUE(collector.CollectShared().collection->ok);
  EXPECT_EQ(HolderErrors(collector, "bind_mount", "other"), 2 * first);
}

TEST_F(NamespaceCollectorTest, ThrowIsLoggedCountedAndNextScrapeRuns) {
  control_->throwing = true;
  testing::internal::CaptureStderr();
  const auto failed = collector_->CollectShared();
  const std::string log = testing::internal::GetCapturedStderr();
  ASSERT_NE(failed.collection, nullptr);
  EXPECT_FALSE(failed.collection->ok);
  EXPECT_THAT(log, HasSubstr("collection failed"));
  EXPECT_THAT(log, HasSubstr("fake ioctl layer failed"));
  EXPECT_EQ(SelfValue("linux_namespace_exporter_scrape_errors_total", "other"),
            1);

  // The failure must not leave the collection marked in flight.
  control_->throwing = false;
  auto next = std::async(std::launch::async,
                         [&] { return collector_->CollectShared(); });
  ASSERT_EQ(next.wait_for(kPatience), std::future_status::ready)
      << "the scrape after a throw is still waiting";
  const auto ok = next.get();
  EXPECT_TRUE(ok.collection->ok);
  EXPECT_NE(ok.generation, failed.generation);
  EXPECT_EQ(collector_->collections(), 2u);
}

TEST_F(NamespaceCollectorTest, ScrapeWaitingOnAThrowingCollectionIsReleased) {
  {
    std::lock_guard<std::mutex> lock(control_->mu);
    control_->hold = true;
  }
  control_->throwing = true;
  testing::internal::CaptureStderr();
  auto first = std::async(std::launch::async,
                          [&] { return collector_->CollectShared(); });
  {
    std::unique_lock<std::mutex> lock(control_->mu);
    ASSERT_TRUE(
        control_->cv.wait_for(lock, kPatience, [&] { return control_->held; }));
  }
  // A second scrape arrives while the first is in flight: it waits for it.
  auto second = std::async(std::launch::async,
                           [&] { return collector_->CollectShared(); });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(50)),
            std::future_status::timeout)
      << "the second scrape did not wait for the one in flight";
  {
    std::lock_guard<std::mutex> lock(control_->mu);
    control_->hold = false;
  }
  control_->cv.notify_all();
  ASSERT_EQ(first.wait_for(kPatience), std::future_status::ready);
  ASSERT_EQ(second.wait_for(kPatience), std::future_status::ready)
      << "a scrape waiting on a collection that threw was never released";
  (void)testing::internal::GetCapturedStderr();
  const auto a = first.get();
  const auto b = second.get();
  EXPECT_FALSE(a.collection->ok);
  EXPECT_EQ(a.generation, b.generation) << "the waiter ran its own collection";
  EXPECT_EQ(collector_->collections(), 1u);
}

// A collection drops the last result when it starts. A scrape that waited
// for the collection before it, and wakes only after the next one started,
// must share the next one, never get the dropped (null) result. Eight
// threads collecting back to back make that interleaving common (before
// the fix, a null result came within a few hundred calls).
TEST_F(NamespaceCollectorTest,
       WaitersNeverGetTheResultANewerCollectionDropped) {
  constexpr int kThreads = 8;
  constexpr int kCalls = 300;
  std::atomic<int> null_results{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        const auto r = collector_->CollectShared();
        if (r.collection == nullptr) {
          ++null_results;
        } else if (!r.collection->ok) {
          ++failed;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(null_results.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(collector_->collections(), 1u);
}

// Processes refused although the capability is held (a sandbox protecting
// them): one warning, naming how many and the first, blaming the
// capability only when it is really missing.
TEST(NamespaceCollectorWarningTest, DeniedProcessesWarnOnceWithoutFalseBlame) {
  auto ops =
      std::make_unique<ThrowingOps>(std::make_shared<ThrowingOps::Control>());
  ops->inner().at(fixture::kBasicIpc).open_error =
      Status::PermissionDenied("fake: protected");
  std::unique_ptr<ProcFs> procfs;
  ASSERT_TRUE(ProcFs::Open(kFixtures + "basic", &procfs).ok());
  NamespaceCollector collector(std::move(procfs), std::move(ops),
                               CollectorOptions());
  testing::internal::CaptureStderr();
  EXPECT_TRUE(collector.CollectShared().collection->ok);
  EXPECT_TRUE(collector.CollectShared().collection->ok);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find("partial picture"), log.rfind("partial picture"))
      << "warned more than once:\n"
      << log;
  EXPECT_THAT(log, HasSubstr("2 processes could not be inspected"));
  if (HoldsPtraceCapability()) {
    EXPECT_THAT(log, testing::Not(HasSubstr("needs CAP_SYS_PTRACE"))) << log;
  } else {
    EXPECT_THAT(log, HasSubstr("needs CAP_SYS_PTRACE")) << log;
  }
}

TEST(PartialPictureWarningTest, BlamesTheCapabilityOnlyWhenMissing) {
  ScanStats stats;
  stats.permission_denied = 1;
  stats.first_denied = "pid 1: permission denied";
  const std::string held = PartialPictureWarning(stats, true);
  EXPECT_THAT(held, testing::Not(HasSubstr("needs CAP_SYS_PTRACE")));
  EXPECT_THAT(held, HasSubstr("1 process could not be inspected"));
  EXPECT_THAT(held, HasSubstr("pid 1: permission denied"));

  stats.permission_denied = 3;
  const std::string missing = PartialPictureWarning(stats, false);
  EXPECT_THAT(missing, HasSubstr("3 processes could not be inspected"));
  EXPECT_THAT(missing, HasSubstr("needs CAP_SYS_PTRACE"));
}

}  // namespace
}  // namespace nsexp
