// Tests of the text exposition format writer, against prometheus-cpp's own
// serializer where the two must agree.
#include "metrics/text_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "metrics/namespace_metrics.h"
#include "prometheus/text_serializer.h"

namespace nsexp {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Gauge(const std::string& name, const std::string& help,
                   std::vector<ClientMetric::Label> labels, double v) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = MetricType::Gauge;
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = v;
  f.metric.push_back(m);
  return f;
}

std::string Format(const std::vector<MetricFamily>& families) {
  std::string out;
  AppendTextFormat(families, &out);
  return out;
}

TEST(TextFormatTest, GaugeWithLabels) {
  EXPECT_EQ(Format({Gauge("linux_namespaces", "Namespaces found.",
                          {{"type", "net"}}, 3)}),
            "# HELP linux_namespaces Namespaces found.\n"
            "# TYPE linux_namespaces gauge\n"
            "linux_namespaces{type=\"net\"} 3\n");
}

TEST(TextFormatTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(
      Format({Gauge("m", "a\\b\nc \"q\"", {{"command", "a\"b\\c\nd"}}, 1)}),
      "# HELP m a\\\\b\\nc \"q\"\n"
      "# TYPE m gauge\n"
      "m{command=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(TextFormatTest, CounterNoLabelsAndFractions) {
  MetricFamily f;
  f.name = "c_total";
  f.help = "h";
  f.type = MetricType::Counter;
  ClientMetric m;
  m.counter.value = 0.25;
  f.metric.push_back(m);
  EXPECT_EQ(Format({f}),
            "# HELP c_total h\n# TYPE c_total counter\nc_total 0.25\n");
}

TEST(TextFormatTest, SpecialValues) {
  EXPECT_EQ(Format({Gauge("m", "h", {}, std::nan(""))}).substr(26), "m NaN\n");
  EXPECT_EQ(
      Format({Gauge("m", "h", {}, std::numeric_limits<double>::infinity())})
          .substr(26),
      "m +Inf\n");
  EXPECT_EQ(
      Format({Gauge("m", "h", {}, -std::numeric_limits<double>::infinity())})
          .substr(26),
      "m -Inf\n");
  // Large integers beyond 2^53 are not exact: printed as doubles.
  EXPECT_EQ(Format({Gauge("m", "h", {}, 1e20)}).substr(26), "m 1e+20\n");
  EXPECT_EQ(Format({Gauge("m", "h", {}, 4026531836.0)}).substr(26),
            "m 4026531836\n");
}

TEST(TextFormatTest, SkipsEmptyFamilies) {
  MetricFamily empty;
  empty.name = "e";
  empty.help = "h";
  empty.type = MetricType::Gauge;
  EXPECT_EQ(Format({empty}), "");
}

TEST(TextFormatTest, AgreesWithPrometheusCppOnIntegerSamples) {
  std::vector<MetricFamily> families;
  for (int i = 0; i < 50; ++i) {
    families.push_back(Gauge("linux_namespace_processes", "Processes.",
                             {{"type", "pid"}, {"inode", std::to_string(i)}},
                             i * 7));
  }
  // prometheus-cpp writes integral values the same way; both must parse to
  // the same text for the samples the exporter makes.
  EXPECT_EQ(Format(families), prometheus::TextSerializer().Serialize(families));
}

NamespaceGraph VariedGraph() {
  NamespaceGraph g;
  for (int i = 0; i < 64; ++i) {
    NamespaceInfo n;
    n.type = kAllNamespaceTypes[static_cast<std::size_t>(i) % 8];
    n.inode = 4026531800u + static_cast<std::uint64_t>(i);
    if (i % 3 != 0) n.ns_id = 100u + static_cast<std::uint64_t>(i);
    if (IsHierarchical(n.type) && i > 8) n.parent_inode = n.inode - 8;
    if (i % 5 != 0) n.owner_inode = 4026531837u;
    if (n.type == NamespaceType::kUser) n.owner_uid = 1000;
    n.processes = static_cast<std::uint32_t>(i % 4);
    if (n.processes > 0) {
      n.pid = 10 + i;
      // Hostile names: quotes, backslashes, newlines, invalid UTF-8.
      n.command = i % 2 ? "a\"b\\c\nd" : "x\xff\xfey";
    }
    n.depth = static_cast<std::uint32_t>(i % 3);
    n.children = static_cast<std::uint32_t>(i % 2);
    g.namespaces.push_back(n);
    ++g.count_by_type[TypeIndex(n.type)];
  }
  return g;
}

// The scrape path writes text straight from the graph; it must say exactly
// what the families say, whatever the options.
TEST(TextFormatTest, NamespaceTextEqualsSerialisedFamilies) {
  const NamespaceGraph g = VariedGraph();
  NamespaceLimits limits;
  limits[TypeIndex(NamespaceType::kNet)] = 96551;
  limits[TypeIndex(NamespaceType::kPid)] = 0;
  std::vector<MetricsOptions> variants(4);
  variants[1].per_namespace_series = false;
  variants[2].exclude_types.Add(NamespaceType::kMnt);
  variants[2].types.Remove(NamespaceType::kTime);
  variants[3].exclude_commands.emplace_back("a.*");
  for (std::size_t v = 0; v < variants.size(); ++v) {
    SCOPED_TRACE(v);
    std::string direct, via_families;
    AppendNamespaceText(g, limits, variants[v], &direct);
    AppendTextFormat(BuildNamespaceFamilies(g, limits, variants[v]),
                     &via_families);
    EXPECT_FALSE(direct.empty());
    EXPECT_EQ(direct, via_families);
  }
}

}  // namespace
}  // namespace nsexp
