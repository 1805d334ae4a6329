// Tests of the text exposition format writer, against prometheus-cpp's own
// serializer where the two must agree.
#include "metrics/text_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "exposition.h"
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

// The oracle: the families DESIGN.md describes, built here from the graph
// with prometheus-cpp's types, independently of AppendNamespaceText.
class ReferenceFamilies {
 public:
  ReferenceFamilies(const NamespaceGraph& g, const NamespaceLimits& limits,
                    const MetricsOptions& o) {
    MetricFamily& info = Add("linux_namespace_info",
                             "Namespace attributes from the nsfs ioctls; value "
                             "is always 1. pid and command name the lowest "
                             "member process.");
    MetricFamily& processes =
        Add("linux_namespace_processes",
            "Processes (thread groups) whose /proc/PID/ns/<type> is this "
            "namespace.");
    MetricFamily& depth = Add(
        "linux_namespace_depth",
        "Nesting level of a pid or user namespace, 0 for the topmost visible.");
    MetricFamily& children =
        Add("linux_namespace_children",
            "Direct child namespaces of a pid or user namespace.");
    std::map<std::pair<std::string, std::uint32_t>, int> by_depth;
    for (const NamespaceInfo& n : g.namespaces) {
      const std::string type(NamespaceTypeName(n.type));
      const std::string inode = std::to_string(n.inode);
      const bool hierarchical = type == "pid" || type == "user";
      if (!o.types.Contains(n.type)) continue;
      if (hierarchical) ++by_depth[{type, n.depth}];
      if (!Exported(n, o)) continue;
      const auto opt = [](const auto& v) {
        return v ? std::to_string(*v) : std::string();
      };
      Sample(&info,
             {{"type", type},
              {"inode", inode},
              {"ns_id", opt(n.ns_id)},
              {"parent_inode", opt(n.parent_inode)},
              {"owner_inode", opt(n.owner_inode)},
              {"owner_uid", opt(n.owner_uid)},
              {"pid", n.pid > 0 ? std::to_string(n.pid) : ""},
              {"command", UntrustedLabelValue(n.command)}},
             1);
      Sample(&processes, {{"type", type}, {"inode", inode}}, n.processes);
      if (hierarchical) {
        Sample(&depth, {{"type", type}, {"inode", inode}}, n.depth);
        Sample(&children, {{"type", type}, {"inode", inode}}, n.children);
      }
    }
    MetricFamily& counts =
        Add("linux_namespaces", "Namespaces of each type found.");
    MetricFamily& limit = Add("linux_namespace_limit",
                              "Per-user limit on namespaces of each type, from "
                              "/proc/sys/user/max_<type>_namespaces.");
    for (NamespaceType t : kAllNamespaceTypes) {
      if (!o.types.Contains(t)) continue;
      Sample(&counts, {{"type", std::string(NamespaceTypeName(t))}},
             static_cast<double>(g.count_by_type[TypeIndex(t)]));
      if (limits[TypeIndex(t)]) {
        Sample(&limit, {{"type", std::string(NamespaceTypeName(t))}},
               static_cast<double>(*limits[TypeIndex(t)]));
      }
    }
    MetricFamily& depths = Add(
        "linux_namespaces_by_depth",
        "Pid and user namespaces at each nesting level (0 = topmost visible).");
    for (const auto& [key, count] : by_depth) {
      Sample(&depths,
             {{"type", key.first}, {"depth", std::to_string(key.second)}},
             count);
    }
  }

  std::vector<MetricFamily> families() const {
    return std::vector<MetricFamily>(families_.begin(), families_.end());
  }

 private:
  static bool Exported(const NamespaceInfo& n, const MetricsOptions& o) {
    if (!o.per_namespace_series || o.exclude_types.Contains(n.type)) {
      return false;
    }
    for (const std::regex& re : o.exclude_commands) {
      if (n.pid > 0 && std::regex_match(n.command, re)) return false;
    }
    return true;
  }
  MetricFamily& Add(const std::string& name, const std::string& help) {
    families_.push_back(MetricFamily{name, help, MetricType::Gauge, {}});
    return families_.back();
  }
  static void Sample(MetricFamily* f, std::vector<ClientMetric::Label> labels,
                     double value) {
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    f->metric.push_back(std::move(m));
  }

  std::deque<MetricFamily> families_;  // stable references while adding
};

// The scrape path writes text straight from the graph; it must say exactly
// what prometheus-cpp's serializer says of the reference families,
// whatever the options.
TEST(TextFormatTest, NamespaceTextEqualsPrometheusCppSerialisation) {
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
    std::string direct;
    AppendNamespaceText(g, limits, variants[v], &direct);
    // prometheus-cpp writes a family without samples as a header alone;
    // the exporter leaves it out.
    std::vector<MetricFamily> oracle;
    for (const MetricFamily& f :
         ReferenceFamilies(g, limits, variants[v]).families()) {
      if (!f.metric.empty()) oracle.push_back(f);
    }
    EXPECT_FALSE(direct.empty());
    EXPECT_EQ(direct, prometheus::TextSerializer().Serialize(oracle));
  }
}

// The reader the other tests use gives back what the serializer was given.
TEST(TextFormatTest, ExpositionReadsBack) {
  const NamespaceGraph g = VariedGraph();
  const auto families =
      ReferenceFamilies(g, NamespaceLimits(), MetricsOptions()).families();
  const std::string text = prometheus::TextSerializer().Serialize(families);
  std::string error;
  const auto read = ParseExposition(text, &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(prometheus::TextSerializer().Serialize(read), text);
  ParseExposition("# HELP m h\n# TYPE m gauge\nm{a=\"\\q\"} 1\n", &error);
  EXPECT_NE(error, "") << "an unknown escape was accepted";
}

}  // namespace
}  // namespace nsexp
