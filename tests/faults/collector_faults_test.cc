// Faults injected through the ioctl layer (a FakeNamespaceOps over a
// fixture /proc): an ioctl failing with an errno the kernel does not
// document for it, and an allocation failing (std::bad_alloc) in the middle
// of the process walk, on the calling thread and on a worker of a parallel
// walk. Each gives a counted error and a log line, never a crash, a leaked
// descriptor or a stuck scrape; the next scrape is whole and true.
#include <dirent.h>
#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "collector/namespace_collector.h"
#include "exposition.h"
#include "metrics/text_format.h"
#include "ns/fake_namespace_ops.h"
#include "ns/fixture_tables.h"

namespace nsexp {
namespace {

using testing::HasSubstr;

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

// The descriptors this process has open now.
std::size_t OpenFds() {
  std::size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the listing's own
}

// How many times "needle" occurs in "haystack".
std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string::npos;
       p = haystack.find(needle, p + needle.size())) {
    ++n;
  }
  return n;
}

// The "basic" fixture's answers, shared with the test, which can change
// them between collections (under mu) and make Open() of one inode throw
// std::bad_alloc, as an allocation deep in the walk would when memory runs
// out.
class FaultyOps final : public NamespaceOps {
 public:
  struct Control {
    std::mutex mu;
    FakeNamespaceOps fake;
    std::uint64_t bad_alloc_inode = 0;  // 0: none
    bool threw_off_caller = false;      // thrown on a walk worker's thread
    std::thread::id caller;
  };
  explicit FaultyOps(std::shared_ptr<Control> c) : c_(std::move(c)) {}

  Status Open(int ns_dir, const NamespaceLink& link, NsHandle* out) override {
    std::lock_guard<std::mutex> lock(c_->mu);
    if (link.inode == c_->bad_alloc_inode) {
      c_->threw_off_caller = std::this_thread::get_id() != c_->caller;
      throw std::bad_alloc();
    }
    return c_->fake.Open(ns_dir, link, out);
  }
  Status Parent(const NsHandle& ns, NsHandle* out) override {
    std::lock_guard<std::mutex> lock(c_->mu);
    return c_->fake.Parent(ns, out);
  }
  Status Owner(const NsHandle& ns, NsHandle* out) override {
    std::lock_guard<std::mutex> lock(c_->mu);
    return c_->fake.Owner(ns, out);
  }
  Status OwnerUid(const NsHandle& ns, uid_t* out) override {
    std::lock_guard<std::mutex> lock(c_->mu);
    return c_->fake.OwnerUid(ns, out);
  }
  Status Id(const NsHandle& ns, std::uint64_t* out) override {
    std::lock_guard<std::mutex> lock(c_->mu);
    return c_->fake.Id(ns, out);
  }

 private:
  std::shared_ptr<Control> c_;
};

// A collector over the "basic" fixture with "workers" walk threads.
std::unique_ptr<NamespaceCollector> NewCollector(
    std::shared_ptr<FaultyOps::Control> control, unsigned workers) {
  std::unique_ptr<ProcFs> procfs;
  EXPECT_TRUE(ProcFs::Open(kFixtures + "basic", &procfs).ok());
  CollectorOptions options;
  options.discovery.workers = workers;
  fixture::AddBasic(&control->fake);
  control->caller = std::this_thread::get_id();
  return std::make_unique<NamespaceCollector>(
      std::move(procfs), std::make_unique<FaultyOps>(std::move(control)),
      options);
}

// scrape_errors_total{reason="other"} of "c", or -1.
double OtherErrors(const NamespaceCollector& c) {
  std::string text, error;
  AppendTextFormat(c.SelfFamilies(), &text);
  for (const auto& f : ParseExposition(text, &error)) {
    if (f.name != "linux_namespace_exporter_scrape_errors_total") continue;
    for (const auto& m : f.metric) {
      if (!m.label.empty() && m.label[0].value == "other") {
        return m.counter.value;
      }
    }
  }
  return -1;
}

// What a graph says of each namespace, for comparing two graphs.
using Row =
    std::tuple<int, std::uint64_t, std::uint64_t, std::uint64_t, std::uint32_t>;
std::vector<Row> Rows(const NamespaceGraph& g) {
  std::vector<Row> rows;
  for (const NamespaceInfo& ns : g.namespaces) {
    rows.emplace_back(static_cast<int>(ns.type), ns.inode,
                      ns.parent_inode.value_or(0), ns.owner_inode.value_or(0),
                      ns.processes);
  }
  return rows;
}

const NamespaceInfo* Find(const NamespaceGraph& g, std::uint64_t inode) {
  for (const NamespaceInfo& ns : g.namespaces) {
    if (ns.inode == inode) return &ns;
  }
  return nullptr;
}

// The graph an undisturbed collector makes of the fixture.
std::vector<Row> ReferenceRows(unsigned workers) {
  auto control = std::make_shared<FaultyOps::Control>();
  auto c = NewCollector(control, workers);
  const auto r = c->CollectShared();
  EXPECT_TRUE(r.collection->ok);
  return Rows(r.collection->graph);
}

class UnexpectedErrnoTest : public testing::TestWithParam<int> {};

// NS_GET_PARENT and NS_GET_USERNS of the container's pid namespace and
// NS_GET_USERNS of its net namespace fail with the errno: three errors a
// collection, counted, one warning while they last, nothing cached.
TEST_P(UnexpectedErrnoTest, CountedLoggedOnceNotCachedNoLeak) {
  const int err = GetParam();
  auto control = std::make_shared<FaultyOps::Control>();
  auto c = NewCollector(control, 1);
  const std::size_t fds = OpenFds();
  {
    std::lock_guard<std::mutex> lock(control->mu);
    const Status s = StatusFromErrno(err, "ioctl");
    control->fake.at(fixture::kBasicPid).relation_error = s;
    control->fake.at(fixture::kBasicNet).relation_error = s;
  }
  testing::internal::CaptureStderr();
  const auto first = c->CollectShared();
  const auto second = c->CollectShared();
  const std::string log = testing::internal::GetCapturedStderr();
  for (const auto& r : {first, second}) {
    ASSERT_TRUE(r.collection->ok) << "the collection did not complete";
    const NamespaceInfo* pid = Find(r.collection->graph, fixture::kBasicPid);
    ASSERT_NE(pid, nullptr);
    EXPECT_FALSE(pid->parent_inode.has_value());
    EXPECT_EQ(pid->processes, 2u);
  }
  EXPECT_EQ(OtherErrors(*c), 6);
  // One line for the cause while it lasts, naming it; none per namespace.
  EXPECT_EQ(Count(log, "errors reading procfs"), 1u) << log;
  EXPECT_THAT(log, HasSubstr(StatusFromErrno(err, "ioctl").ToString()));
  EXPECT_EQ(Count(log, "\n"), 1u) << log;
  {
    std::lock_guard<std::mutex> lock(control->mu);
    control->fake.at(fixture::kBasicPid).relation_error.reset();
    control->fake.at(fixture::kBasicNet).relation_error.reset();
  }
  // The failed answers were not kept: the next collection asks again.
  const auto healed = c->CollectShared();
  ASSERT_TRUE(healed.collection->ok);
  EXPECT_EQ(Rows(healed.collection->graph), ReferenceRows(1));
  EXPECT_EQ(OtherErrors(*c), 6);
  EXPECT_EQ(OpenFds(), fds) << "a descriptor leaked";
}

INSTANTIATE_TEST_SUITE_P(Errnos, UnexpectedErrnoTest,
                         testing::Values(EIO, ENOTTY, EINVAL, ENOMEM),
                         [](const testing::TestParamInfo<int>& p) {
                           return std::string(strerrorname_np(p.param));
                         });

class OutOfMemoryTest : public testing::TestWithParam<unsigned> {};

// An allocation fails while the walk is in the container's processes: the
// scrape is served as a failed collection (the self-metrics alone), the
// failure is counted and logged, and the next scrape is whole.
TEST_P(OutOfMemoryTest, FailedScrapeCountedLoggedThenWholeNoLeak) {
  const unsigned workers = GetParam();
  auto control = std::make_shared<FaultyOps::Control>();
  auto c = NewCollector(control, workers);
  const std::size_t fds = OpenFds();
  {
    std::lock_guard<std::mutex> lock(control->mu);
    control->bad_alloc_inode = fixture::kBasicNet;
  }
  testing::internal::CaptureStderr();
  const auto failed = c->CollectShared();
  const std::string log = testing::internal::GetCapturedStderr();
  ASSERT_NE(failed.collection, nullptr);
  EXPECT_FALSE(failed.collection->ok);
  EXPECT_THAT(log, HasSubstr("collection failed"));
  EXPECT_THAT(log, HasSubstr("std::bad_alloc"));
  EXPECT_EQ(OtherErrors(*c), 1);
  {
    std::lock_guard<std::mutex> lock(control->mu);
    // With two workers, pid 1200 (the first in the container) is in the
    // second slice: the exception crossed from a worker thread.
    EXPECT_EQ(control->threw_off_caller, workers > 1);
    control->bad_alloc_inode = 0;
  }
  const auto next = c->CollectShared();
  ASSERT_TRUE(next.collection->ok);
  EXPECT_NE(next.generation, failed.generation);
  EXPECT_EQ(Rows(next.collection->graph), ReferenceRows(workers));
  EXPECT_EQ(OtherErrors(*c), 1);
  EXPECT_EQ(OpenFds(), fds) << "a descriptor leaked";
}

INSTANTIATE_TEST_SUITE_P(Workers, OutOfMemoryTest, testing::Values(1u, 2u),
                         [](const testing::TestParamInfo<unsigned>& p) {
                           return std::to_string(p.param) + "Workers";
                         });

}  // namespace
}  // namespace nsexp
