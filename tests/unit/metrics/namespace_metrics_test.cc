// Tests of AppendNamespaceText and UntrustedLabelValue: names, labels,
// values and filters of what /metrics serves, read back into families, and
// the text exposition of one namespace.
#include "metrics/namespace_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "base/utf8.h"
#include "exposition.h"
#include "prometheus/check_names.h"

namespace nsexp {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using testing::HasSubstr;

constexpr std::uint64_t kInitUser = 4026531837;
constexpr std::uint64_t kInitPid = 4026531836;
constexpr std::uint64_t kInitNet = 4026531840;
constexpr std::uint64_t kChildUser = 4026532300;
constexpr std::uint64_t kChildPid = 4026532301;
constexpr std::uint64_t kGrandchildPid = 4026532303;
constexpr std::uint64_t kChildNet = 4026532200;
constexpr std::uint64_t kBoundNet = 4026532500;  // held by a bind mount only
constexpr std::uint64_t kInitMnt = 4026531841;
constexpr std::uint64_t kPrivateMnt = 4026532600;
const std::string kHex =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kUidUnderscores = "1f2e3d4c_5b6a_7980_a1b2_c3d4e5f60718";

NamespaceInfo Ns(NamespaceType type, std::uint64_t inode) {
  NamespaceInfo n;
  n.type = type;
  n.inode = inode;
  return n;
}

// A small graph as discovery would build it: sorted by (type, inode), with
// counts, depth and children filled.
NamespaceGraph SampleGraph() {
  NamespaceGraph g;
  NamespaceInfo net = Ns(NamespaceType::kNet, kInitNet);
  net.ns_id = 4;
  net.owner_inode = kInitUser;
  net.processes = 120;
  net.pid = 1;
  net.command = "systemd";
  g.namespaces.push_back(net);

  NamespaceInfo cnet = Ns(NamespaceType::kNet, kChildNet);
  cnet.ns_id = 100;
  cnet.owner_inode = kInitUser;
  cnet.processes = 2;
  cnet.pid = 1200;
  cnet.command = "nginx";
  g.namespaces.push_back(cnet);

  NamespaceInfo bound = Ns(NamespaceType::kNet, kBoundNet);  // no process
  bound.holders[static_cast<std::size_t>(HolderKind::kBindMount)] = 2;
  bound.holders[static_cast<std::size_t>(HolderKind::kFd)] = 1;
  g.namespaces.push_back(bound);
  g.bind_mounts.push_back(
      {NamespaceType::kNet, kBoundNet, kInitMnt, "/run/netns/blue", "blue"});
  g.bind_mounts.push_back(
      {NamespaceType::kNet, kBoundNet, kPrivateMnt, "/tmp/odd\xff\npath", ""});

  // The container's two processes: one in its cgroup, one in a sub-cgroup
  // of it; the host's in a service.
  g.cgroups = {"0::/system.slice/docker-" + kHex + ".scope\n",
               "0::/system.slice/docker-" + kHex + ".scope/init.scope\n",
               "0::/system.slice/sshd.service\n",
               "0::/kubepods.slice/kubepods-pod" + kUidUnderscores +
                   ".slice/cri-containerd-" + kHex + ".scope\n"};
  g.SetCgroupMembers({{0, 1}, {1, 1}}, &g.namespaces[1]);
  g.SetCgroupMembers({{0, 1}, {1, 1}, {2, 118}, {3, 3}}, &g.namespaces[0]);

  NamespaceInfo pid = Ns(NamespaceType::kPid, kInitPid);
  pid.ns_id = 5;
  pid.owner_inode = kInitUser;
  pid.processes = 118;
  pid.pid = 1;
  pid.command = "systemd";
  pid.children = 1;
  g.namespaces.push_back(pid);

  NamespaceInfo cpid = Ns(NamespaceType::kPid, kChildPid);
  cpid.ns_id = 203;
  cpid.parent_inode = kInitPid;
  cpid.owner_inode = kChildUser;
  cpid.processes = 1;
  cpid.pid = 500;
  cpid.command = "unshare";
  cpid.depth = 1;
  cpid.children = 1;
  g.namespaces.push_back(cpid);

  NamespaceInfo gpid = Ns(NamespaceType::kPid, kGrandchildPid);
  gpid.parent_inode = kChildPid;
  gpid.owner_inode = kChildUser;
  gpid.processes = 1;
  gpid.pid = 501;
  gpid.command = "sh";
  gpid.depth = 2;
  g.namespaces.push_back(gpid);

  NamespaceInfo user = Ns(NamespaceType::kUser, kInitUser);
  user.ns_id = 7;
  user.owner_uid = 0;
  user.processes = 119;
  user.pid = 1;
  user.command = "systemd";
  user.children = 1;
  g.namespaces.push_back(user);

  NamespaceInfo cuser = Ns(NamespaceType::kUser, kChildUser);
  cuser.ns_id = 200;
  cuser.parent_inode = kInitUser;
  cuser.owner_inode = kInitUser;
  cuser.owner_uid = 1000;
  cuser.processes = 3;
  cuser.pid = 500;
  cuser.command = "unshare";
  cuser.depth = 1;
  g.namespaces.push_back(cuser);

  for (const NamespaceInfo& n : g.namespaces) {
    ++g.count_by_type[TypeIndex(n.type)];
  }
  return g;
}

NamespaceLimits SampleLimits() {
  NamespaceLimits limits;
  limits[TypeIndex(NamespaceType::kNet)] = 63203;
  limits[TypeIndex(NamespaceType::kUser)] = 63206;
  return limits;
}

std::string Text(const NamespaceGraph& graph, const NamespaceLimits& limits,
                 const MetricsOptions& options) {
  std::string text;
  AppendNamespaceText(graph, limits, options, &text);
  return text;
}

// What AppendNamespaceText writes, read back; a parse error fails the test.
std::vector<MetricFamily> Written(const NamespaceGraph& graph,
                                  const NamespaceLimits& limits,
                                  const MetricsOptions& options) {
  std::string error;
  auto families = ParseExposition(Text(graph, limits, options), &error);
  EXPECT_EQ(error, "");
  return families;
}

const MetricFamily& FamilyNamed(const std::vector<MetricFamily>& families,
                                const std::string& name) {
  for (const MetricFamily& f : families) {
    if (f.name == name) return f;
  }
  // The writer leaves a family without samples out: absent reads as empty.
  static const MetricFamily kNone;
  return kNone;
}

std::map<std::string, std::string> Labels(const ClientMetric& m) {
  std::map<std::string, std::string> out;
  for (const auto& l : m.label) out[l.name] = l.value;
  return out;
}

// The one metric of "family" whose labels include all of "want"; fails the
// test when there is not exactly one.
const ClientMetric* Series(const MetricFamily& family,
                           const std::map<std::string, std::string>& want) {
  const ClientMetric* found = nullptr;
  int matches = 0;
  for (const ClientMetric& m : family.metric) {
    const auto labels = Labels(m);
    bool all = true;
    for (const auto& [k, v] : want) {
      auto it = labels.find(k);
      if (it == labels.end() || it->second != v) all = false;
    }
    if (all) {
      found = &m;
      ++matches;
    }
  }
  EXPECT_EQ(matches, 1) << family.name;
  return matches == 1 ? found : nullptr;
}

std::set<std::string> TypesIn(const MetricFamily& family) {
  std::set<std::string> out;
  for (const ClientMetric& m : family.metric) out.insert(Labels(m)["type"]);
  return out;
}

TEST(NamespaceTextTest, NamesLabelsAndHelpAreValid) {
  const auto families =
      Written(SampleGraph(), SampleLimits(), MetricsOptions());
  ASSERT_FALSE(families.empty());
  std::set<std::string> names;
  for (const MetricFamily& f : families) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(prometheus::CheckMetricName(f.name));
    EXPECT_EQ(f.name.rfind("linux_namespace", 0), 0u);
    EXPECT_FALSE(f.help.empty());
    EXPECT_EQ(f.type, prometheus::MetricType::Gauge);
    EXPECT_TRUE(names.insert(f.name).second) << "family repeated";
    // Counters end in _total, gauges never do.
    EXPECT_EQ(f.name.find("_total"), std::string::npos);
    for (const ClientMetric& m : f.metric) {
      for (const auto& l : m.label) {
        EXPECT_TRUE(prometheus::CheckLabelName(l.name)) << l.name;
      }
    }
  }
  for (const char* want : {"linux_namespace_info", "linux_namespace_processes",
                           "linux_namespace_depth", "linux_namespace_children",
                           "linux_namespaces", "linux_namespace_limit"}) {
    EXPECT_EQ(names.count(want), 1u) << want;
  }
}

TEST(NamespaceTextTest, NoLabelSetRepeatsWithinAFamily) {
  const auto families =
      Written(SampleGraph(), SampleLimits(), MetricsOptions());
  for (const MetricFamily& f : families) {
    std::set<std::map<std::string, std::string>> seen;
    for (const ClientMetric& m : f.metric) {
      std::set<std::string> label_names;
      for (const auto& l : m.label) {
        EXPECT_TRUE(label_names.insert(l.name).second)
            << f.name << " repeats label " << l.name;
      }
      EXPECT_TRUE(seen.insert(Labels(m)).second)
          << f.name << " repeats a label set";
    }
  }
}

TEST(NamespaceTextTest, InfoLabelsAndValues) {
  const NamespaceGraph g = SampleGraph();
  const auto families = Written(g, SampleLimits(), MetricsOptions());
  const MetricFamily& info = FamilyNamed(families, "linux_namespace_info");
  EXPECT_EQ(info.metric.size(), g.namespaces.size());

  const ClientMetric* m =
      Series(info, {{"type", "pid"}, {"inode", "4026532301"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Labels(*m),
            (std::map<std::string, std::string>{{"type", "pid"},
                                                {"inode", "4026532301"},
                                                {"ns_id", "203"},
                                                {"parent_inode", "4026531836"},
                                                {"owner_inode", "4026532300"},
                                                {"owner_uid", ""},
                                                {"pid", "500"},
                                                {"command", "unshare"}}));
  EXPECT_EQ(m->gauge.value, 1.0);

  // A user namespace has an owner uid; the top has no parent or owner.
  m = Series(info, {{"type", "user"}, {"inode", "4026531837"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Labels(*m)["owner_uid"], "0");
  EXPECT_EQ(Labels(*m)["parent_inode"], "");
  EXPECT_EQ(Labels(*m)["owner_inode"], "");
  m = Series(info, {{"type", "user"}, {"inode", "4026532300"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Labels(*m)["owner_uid"], "1000");

  // No member process: pid and command empty; no NS_GET_ID: ns_id empty.
  m = Series(info, {{"type", "net"}, {"inode", "4026532500"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Labels(*m)["pid"], "");
  EXPECT_EQ(Labels(*m)["command"], "");
  EXPECT_EQ(Labels(*m)["ns_id"], "");
  EXPECT_EQ(Labels(*m)["owner_inode"], "");
}

TEST(NamespaceTextTest, ProcessesDepthAndChildrenValues) {
  const auto families =
      Written(SampleGraph(), SampleLimits(), MetricsOptions());
  const MetricFamily& processes =
      FamilyNamed(families, "linux_namespace_processes");
  const MetricFamily& depth = FamilyNamed(families, "linux_namespace_depth");
  const MetricFamily& children =
      FamilyNamed(families, "linux_namespace_children");

  EXPECT_EQ(processes.metric.size(), 8u);
  const ClientMetric* m =
      Series(processes, {{"type", "net"}, {"inode", "4026531840"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gauge.value, 120.0);
  EXPECT_EQ(Labels(*m).size(), 2u);  // type and inode only
  m = Series(processes, {{"type", "net"}, {"inode", "4026532500"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gauge.value, 0.0);

  // Depth and children: pid and user only.
  EXPECT_EQ(TypesIn(depth), (std::set<std::string>{"pid", "user"}));
  EXPECT_EQ(TypesIn(children), (std::set<std::string>{"pid", "user"}));
  EXPECT_EQ(depth.metric.size(), 5u);
  EXPECT_EQ(children.metric.size(), 5u);
  m = Series(depth, {{"type", "pid"}, {"inode", "4026532303"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gauge.value, 2.0);
  m = Series(children, {{"type", "pid"}, {"inode", "4026532301"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gauge.value, 1.0);
  m = Series(children, {{"type", "user"}, {"inode", "4026532300"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gauge.value, 0.0);
}

TEST(NamespaceTextTest, CountsForEveryTypeLimitsOnlyWhereGiven) {
  const auto families =
      Written(SampleGraph(), SampleLimits(), MetricsOptions());
  const MetricFamily& counts = FamilyNamed(families, "linux_namespaces");
  ASSERT_EQ(counts.metric.size(), 8u);  // zero counts are still exported
  const std::map<std::string, double> want = {
      {"cgroup", 0}, {"ipc", 0},  {"mnt", 0},  {"net", 3},
      {"pid", 3},    {"time", 0}, {"user", 2}, {"uts", 0}};
  for (const ClientMetric& m : counts.metric) {
    const std::string type = Labels(m)["type"];
    EXPECT_EQ(m.gauge.value, want.at(type)) << type;
    EXPECT_EQ(m.label.size(), 1u);
  }

  const MetricFamily& limit = FamilyNamed(families, "linux_namespace_limit");
  EXPECT_EQ(TypesIn(limit), (std::set<std::string>{"net", "user"}));
  const ClientMetric* m = Series(limit, {{"type", "user"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gauge.value, 63206.0);

  const auto none = Written(SampleGraph(), NamespaceLimits(), MetricsOptions());
  EXPECT_TRUE(FamilyNamed(none, "linux_namespace_limit").metric.empty());
}

TEST(NamespaceTextTest, TypesFilterHonoured) {
  MetricsOptions options;
  options.types = {};
  options.types.Add(NamespaceType::kNet);
  const auto families = Written(SampleGraph(), SampleLimits(), options);
  for (const MetricFamily& f : families) {
    for (const ClientMetric& m : f.metric) {
      EXPECT_EQ(Labels(m)["type"], "net") << f.name;
    }
  }
  EXPECT_EQ(FamilyNamed(families, "linux_namespace_info").metric.size(), 3u);
  EXPECT_EQ(FamilyNamed(families, "linux_namespaces").metric.size(), 1u);
  EXPECT_EQ(FamilyNamed(families, "linux_namespace_limit").metric.size(), 1u);
  EXPECT_TRUE(FamilyNamed(families, "linux_namespace_depth").metric.empty());
}

TEST(NamespaceTextTest, ExcludedSeriesStillCounted) {
  MetricsOptions options;
  options.exclude_types.Add(NamespaceType::kPid);
  options.exclude_commands.emplace_back("nginx|sh");
  const auto families = Written(SampleGraph(), SampleLimits(), options);
  const MetricFamily& info = FamilyNamed(families, "linux_namespace_info");
  std::set<std::string> inodes;
  for (const ClientMetric& m : info.metric) inodes.insert(Labels(m)["inode"]);
  // pid excluded by type; the nginx net namespace by command; "sh" matches
  // only fully, so "systemd" and "unshare" stay.
  EXPECT_EQ(inodes, (std::set<std::string>{"4026531840", "4026532500",
                                           "4026531837", "4026532300"}));
  EXPECT_EQ(TypesIn(FamilyNamed(families, "linux_namespace_depth")),
            (std::set<std::string>{"user"}));
  const ClientMetric* m =
      Series(FamilyNamed(families, "linux_namespaces"), {{"type", "pid"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gauge.value, 3.0);
}

TEST(NamespaceTextTest, AggregatesOnly) {
  MetricsOptions options;
  options.per_namespace_series = false;
  const auto families = Written(SampleGraph(), SampleLimits(), options);
  EXPECT_TRUE(FamilyNamed(families, "linux_namespace_info").metric.empty());
  EXPECT_TRUE(
      FamilyNamed(families, "linux_namespace_processes").metric.empty());
  EXPECT_EQ(FamilyNamed(families, "linux_namespaces").metric.size(), 8u);
}

TEST(NamespaceTextTest, NamespacesByDepth) {
  const auto families =
      Written(SampleGraph(), SampleLimits(), MetricsOptions());
  const MetricFamily& by_depth =
      FamilyNamed(families, "linux_namespaces_by_depth");
  std::map<std::pair<std::string, std::string>, double> got;
  for (const ClientMetric& m : by_depth.metric) {
    auto l = Labels(m);
    got[{l["type"], l["depth"]}] = m.gauge.value;
  }
  const std::map<std::pair<std::string, std::string>, double> want = {
      {{"pid", "0"}, 1},
      {{"pid", "1"}, 1},
      {{"pid", "2"}, 1},
      {{"user", "0"}, 1},
      {{"user", "1"}, 1}};
  EXPECT_EQ(got, want);
}

TEST(NamespaceTextTest, HoldersByKindOnlyWhereThereAreAny) {
  const auto families =
      Written(SampleGraph(), SampleLimits(), MetricsOptions());
  const MetricFamily& h = FamilyNamed(families, "linux_namespace_holders");
  ASSERT_EQ(h.metric.size(), 2u);
  const ClientMetric* m = Series(
      h, {{"type", "net"}, {"inode", "4026532500"}, {"holder", "bind_mount"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gauge.value, 2);
  m = Series(h, {{"type", "net"}, {"inode", "4026532500"}, {"holder", "fd"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gauge.value, 1);
}

TEST(NamespaceTextTest, BindMountInfoWithSanitisedPath) {
  const auto families =
      Written(SampleGraph(), SampleLimits(), MetricsOptions());
  const MetricFamily& b =
      FamilyNamed(families, "linux_namespace_bind_mount_info");
  ASSERT_EQ(b.metric.size(), 2u);
  const ClientMetric* m = Series(b, {{"mount_ns_inode", "4026531841"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Labels(*m), (std::map<std::string, std::string>{
                            {"type", "net"},
                            {"inode", "4026532500"},
                            {"mount_ns_inode", "4026531841"},
                            {"path", "/run/netns/blue"},
                            {"name", "blue"}}));
  EXPECT_EQ(m->gauge.value, 1);
  m = Series(b, {{"mount_ns_inode", "4026532600"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Labels(*m)["path"], UntrustedLabelValue("/tmp/odd\xff\npath"));
  EXPECT_EQ(Labels(*m)["path"].find('\n'), std::string::npos);
  // Left out with their namespace's per-namespace series.
  MetricsOptions no_net;
  no_net.exclude_types.Add(NamespaceType::kNet);
  EXPECT_TRUE(FamilyNamed(Written(SampleGraph(), SampleLimits(), no_net),
                          "linux_namespace_bind_mount_info")
                  .metric.empty());
}

TEST(NamespaceTextTest, ContainerProcessesSumSubCgroupsSkipHosts) {
  const auto families =
      Written(SampleGraph(), SampleLimits(), MetricsOptions());
  const MetricFamily& c =
      FamilyNamed(families, "linux_namespace_container_processes");
  // The container's net namespace: one series for both processes. The
  // host's: the docker container, the pod's container; sshd makes none.
  ASSERT_EQ(c.metric.size(), 3u);
  const ClientMetric* m = Series(c, {{"inode", "4026532200"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Labels(*m), (std::map<std::string, std::string>{
                            {"type", "net"},
                            {"inode", "4026532200"},
                            {"container_runtime", "docker"},
                            {"container_id", "docker://" + kHex},
                            {"pod_uid", ""}}));
  EXPECT_EQ(m->gauge.value, 2);
  m = Series(c, {{"inode", "4026531840"}, {"container_runtime", "containerd"}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Labels(*m)["container_id"], "containerd://" + kHex);
  EXPECT_EQ(Labels(*m)["pod_uid"], "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718");
  EXPECT_EQ(m->gauge.value, 3);
  // Without cgroups read, no family at all.
  NamespaceGraph g = SampleGraph();
  g.cgroups.clear();
  EXPECT_TRUE(FamilyNamed(Written(g, SampleLimits(), MetricsOptions()),
                          "linux_namespace_container_processes")
                  .metric.empty());
}

TEST(NamespaceTextTest, EmptyGraph) {
  const auto families =
      Written(NamespaceGraph(), NamespaceLimits(), MetricsOptions());
  EXPECT_TRUE(FamilyNamed(families, "linux_namespace_info").metric.empty());
  const MetricFamily& counts = FamilyNamed(families, "linux_namespaces");
  ASSERT_EQ(counts.metric.size(), 8u);
  for (const ClientMetric& m : counts.metric) EXPECT_EQ(m.gauge.value, 0.0);
}

TEST(UntrustedLabelValueTest, InvalidUtf8AndControlsReplaced) {
  EXPECT_EQ(UntrustedLabelValue("nginx"), "nginx");
  EXPECT_EQ(UntrustedLabelValue("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(UntrustedLabelValue("a\xFF"
                                "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(UntrustedLabelValue("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(UntrustedLabelValue("x\ny"), "x\xEF\xBF\xBDy");
  // Tab too, as in the tree view (README: control characters become U+FFFD).
  EXPECT_EQ(UntrustedLabelValue("x\ty"), "x\xEF\xBF\xBDy");
  EXPECT_EQ(UntrustedLabelValue("a\nb\\c\td"),
            "a\xEF\xBF\xBD"
            "b\\c\xEF\xBF\xBD"
            "d");
  EXPECT_EQ(UntrustedLabelValue(""), "");
}

TEST(UntrustedLabelValueTest, LongValueBoundedOnACharacterBoundary) {
  std::string long_command(300, 'a');
  EXPECT_EQ(UntrustedLabelValue(long_command),
            std::string(kMaxLabelValueBytes, 'a'));
  // 85 three-byte characters fill 255 bytes; the 86th does not fit.
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "\xE2\x82\xAC";
  const std::string got = UntrustedLabelValue(euros);
  EXPECT_EQ(got.size(), 255u);
  EXPECT_EQ(SanitizeUtf8(got, kMaxLabelValueBytes), got);  // still valid
}

TEST(NamespaceTextTest, UntrustedCommandSanitisedInLabel) {
  NamespaceGraph g;
  NamespaceInfo n = Ns(NamespaceType::kNet, kChildNet);
  n.processes = 1;
  n.pid = 42;
  n.command = std::string("evil\xFF\n") + std::string(400, 'x');
  g.namespaces.push_back(n);
  g.count_by_type[TypeIndex(NamespaceType::kNet)] = 1;
  const auto families = Written(g, NamespaceLimits(), MetricsOptions());
  const MetricFamily& info = FamilyNamed(families, "linux_namespace_info");
  ASSERT_EQ(info.metric.size(), 1u);
  const std::string command = Labels(info.metric[0])["command"];
  EXPECT_LE(command.size(), kMaxLabelValueBytes);
  EXPECT_EQ(command.rfind("evil\xEF\xBF\xBD\xEF\xBF\xBDxxx", 0), 0u);
  EXPECT_EQ(SanitizeUtf8(command, 4096), command);
}

// The label says what the tree view says (tree_view_test): control
// characters, tab included, as U+FFFD; the backslash as itself.
TEST(NamespaceTextTest, ControlCharactersInCommandReplacedInLabel) {
  NamespaceGraph g;
  NamespaceInfo n = Ns(NamespaceType::kNet, kChildNet);
  n.processes = 1;
  n.pid = 42;
  n.command = "a\nb\\c\td";
  g.namespaces.push_back(n);
  g.count_by_type[TypeIndex(NamespaceType::kNet)] = 1;
  const auto families = Written(g, NamespaceLimits(), MetricsOptions());
  const MetricFamily& info = FamilyNamed(families, "linux_namespace_info");
  ASSERT_EQ(info.metric.size(), 1u);
  EXPECT_EQ(Labels(info.metric[0])["command"],
            "a\xEF\xBF\xBD"
            "b\\c\xEF\xBF\xBD"
            "d");
}

TEST(NamespaceTextTest, TextExpositionOfOneNamespace) {
  NamespaceGraph g;
  NamespaceInfo n = Ns(NamespaceType::kNet, kChildNet);
  n.ns_id = 100;
  n.owner_inode = kInitUser;
  n.processes = 2;
  n.pid = 1200;
  n.command = "ngi\"nx\\";
  g.namespaces.push_back(n);
  g.count_by_type[TypeIndex(NamespaceType::kNet)] = 1;
  const std::string text = Text(g, SampleLimits(), MetricsOptions());
  EXPECT_THAT(text, HasSubstr("\n"
                              "linux_namespace_info{type=\"net\","
                              "inode=\"4026532200\",ns_id=\"100\","
                              "parent_inode=\"\",owner_inode=\"4026531837\","
                              "owner_uid=\"\",pid=\"1200\","
                              "command=\"ngi\\\"nx\\\\\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nlinux_namespace_processes{type=\"net\","
                              "inode=\"4026532200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE linux_namespace_info gauge\n"));
  EXPECT_THAT(text, HasSubstr("\nlinux_namespaces{type=\"net\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nlinux_namespace_limit{type=\"net\"} 63203\n"));
  EXPECT_THAT(text, testing::Not(HasSubstr("linux_namespace_depth{")));
}

}  // namespace
}  // namespace nsexp
