// Tests of the YAML configuration file: valid and invalid inputs, positions
// in messages, durations, and the shipped examples.
#include "config/config_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace nsexp {
namespace {

using std::chrono::milliseconds;

struct InvalidCase {
  const char* what;
  const char* yaml;
  const char* prefix;  // "name:line:column:"
  std::vector<const char*> words;
};

// Names the case in test output (instead of a byte dump).
void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.what; }

class InvalidConfigTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidConfigTest, FailsWithPositionAndReason) {
  const InvalidCase& c = GetParam();
  FileConfig cfg;
  cfg.min_interval = milliseconds(1234);  // must stay untouched on failure
  const Status s = ParseConfigYaml(c.yaml, "test.yml", &cfg);
  ASSERT_FALSE(s.ok()) << c.what;
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  const std::string& msg = s.message();
  EXPECT_EQ(msg.rfind(c.prefix, 0), 0u)
      << c.what << ": expected prefix \"" << c.prefix << "\" in: " << msg;
  for (const char* w : c.words) {
    EXPECT_NE(msg.find(w), std::string::npos)
        << c.what << ": expected \"" << w << "\" in: " << msg;
  }
  EXPECT_EQ(cfg.min_interval, milliseconds(1234)) << c.what;
}

const InvalidCase kInvalidCases[] = {
    {"unknown top-level key",
     "webb:\n  listen_address: \":1\"\n",
     "test.yml:1:1: ",
     {"top level: unknown key \"webb\"", "(want web, log, collection"}},
    {"unknown key after valid ones",
     "log:\n  level: info\nmetrix: {}\n",
     "test.yml:3:1: ",
     {"unknown key \"metrix\"", "top level"}},
    {"unknown nested key",
     "web:\n  listen_adress: \":1\"\n",
     "test.yml:2:3: ",
     {"web: unknown key \"listen_adress\"", "listen_address"}},
    {"unknown key nested deeper",
     "collection:\n  types: [pid]\n  minInterval: 5s\n",
     "test.yml:3:3: ",
     {"unknown key \"minInterval\"", "collection"}},
    {"top level is a list",
     "- web\n- log\n",
     "test.yml:1:1: ",
     {"top level", "found a list, want a mapping"}},
    {"list where a mapping is expected",
     "log:\n  - level\n  - info\n",
     "test.yml:2:3: ",
     {"log", "found a list, want a mapping"}},
    {"scalar where a mapping is expected",
     "metrics: true\n",
     "test.yml:1:10: ",
     {"metrics", "found a scalar, want a mapping"}},
    {"mapping where a bool is expected",
     "metrics:\n  per_namespace_series:\n    enabled: true\n",
     "test.yml:3:5: ",
     {"metrics.per_namespace_series", "found a mapping, want true or false"}},
    {"y is not a YAML 1.1 bool here",
     "collection:\n  exclude_kernel_threads: y\n",
     "test.yml:2:27: ",
     {"collection.exclude_kernel_threads", "found \"y\", want true or false"}},
    {"maybe for a bool",
     "metrics:\n  per_namespace_series: maybe\n",
     "test.yml:2:25: ",
     {"metrics.per_namespace_series", "found \"maybe\", want true or false"}},
    {"a number for a holder switch",
     "collection:\n  threads: 2\n",
     "test.yml:2:12: ",
     {"collection.threads", "found \"2\", want true or false"}},
    {"list where a string is expected",
     "web:\n  telemetry_path: [/a]\n",
     "test.yml:2:19: ",
     {"web.telemetry_path", "found a list, want a string"}},
    {"duration without unit",
     "collection:\n  min_interval: 10\n",
     "test.yml:2:17: ",
     {"collection.min_interval", "found \"10\", want a duration"}},
    {"duration in words",
     "collection:\n  min_interval: 10 seconds\n",
     "test.yml:2:17: ",
     {"found \"10 seconds\", want a duration"}},
    {"negative duration",
     "collection:\n  min_interval: -5s\n",
     "test.yml:2:17: ",
     {"found \"-5s\", want a duration"}},
    {"fractional duration",
     "collection:\n  min_interval: 1.5s\n",
     "test.yml:2:17: ",
     {"found \"1.5s\", want a duration"}},
    {"bad regular expression",
     "filters:\n  exclude_commands: [\"ok.*\", \"(unclosed\"]\n",
     "test.yml:2:30: ",
     {"filters.exclude_commands", "invalid regular expression",
      "\"(unclosed\""}},
    {"bad regular expression in a block list",
     "filters:\n  exclude_commands:\n    - \"[a-\"\n",
     "test.yml:3:7: ",
     {"invalid regular expression", "\"[a-\""}},
    {"back-reference number that overflows the regex compiler",
     "filters:\n  exclude_commands: ['a\\37000472096666666666666666']\n",
     "test.yml:2:22: ",
     {"invalid regular expression", "back-reference number longer than 9"}},
    {"repeat count that overflows the regex compiler",
     "filters:\n  exclude_commands: ['a{2,99999999999999999999}']\n",
     "test.yml:2:22: ",
     {"invalid regular expression", "repeat count longer than 9"}},
    {"unknown namespace type",
     "collection:\n  types: [pid, network]\n",
     "test.yml:2:16: ",
     {"collection.types", "unknown namespace type \"network\"", "cgroup",
      "uts"}},
    {"unknown namespace type in filters",
     "filters:\n  exclude_types:\n    - mnt\n    - MNT\n",
     "test.yml:4:7: ",
     {"filters.exclude_types", "unknown namespace type \"MNT\""}},
    {"types not a list",
     "collection:\n  types: pid\n",
     "test.yml:2:10: ",
     {"collection.types", "found a scalar, want a list"}},
    {"empty types list",
     "collection:\n  types: []\n",
     "test.yml:2:10: ",
     {"collection.types", "at least one type"}},
    {"bad log level",
     "log:\n  level: verbose\n",
     "test.yml:2:10: ",
     {"log.level", "debug, info, warn or error", "\"verbose\""}},
    {"bad log format",
     "log:\n  format: xml\n",
     "test.yml:2:11: ",
     {"log.format", "logfmt or json", "\"xml\""}},
    {"listen address without port",
     "web:\n  listen_address: localhost\n",
     "test.yml:2:19: ",
     {"web.listen_address", "[host]:port"}},
    {"telemetry path without slash",
     "web:\n  telemetry_path: metrics\n",
     "test.yml:2:19: ",
     {"web.telemetry_path", "'/'"}},
    {"invalid YAML: unclosed flow list",
     "collection:\n  types: [pid, user\n",
     "test.yml:3:1: ",
     {"invalid YAML"}},
    {"invalid YAML: a list item inside a mapping",
     "web:\n  - a\n  b: c\n",
     "test.yml:3:3: ",
     {"invalid YAML"}},
    {"invalid YAML: a value after a value",
     "log: level: info\n",
     "test.yml:1:11: ",
     {"invalid YAML"}},
    {"invalid YAML: tab indentation",
     "web:\n\tlisten_address: x\n",
     "test.yml:2:16: ",
     {"invalid YAML"}},
    {"invalid YAML: undefined alias",
     "log:\n  level: *lvl\n",
     "test.yml:2:10: ",
     {"invalid YAML", "anchor"}},
    {"duplicate key at the top level",
     "log:\n  level: info\nlog:\n  level: debug\n",
     "test.yml:3:1: ",
     {"top level: duplicate key \"log\""}},
    {"duplicate nested key",
     "metrics:\n  per_namespace_series: true\n  per_namespace_series: "
     "false\n",
     "test.yml:3:3: ",
     {"metrics: duplicate key \"per_namespace_series\""}},
    {"two documents",
     "log:\n  level: info\n---\nlog:\n  level: debug\n",
     "test.yml:",
     {"want one YAML document, found 2"}},
    {"port out of range the server refuses",
     "web:\n  listen_address: \":99999\"\n",
     "test.yml:2:19: ",
     {"web.listen_address", "port must be a number 0-65535"}},
    {"IPv6 host without brackets the server refuses",
     "web:\n  listen_address: \"::1:9\"\n",
     "test.yml:2:19: ",
     {"web.listen_address", "put an IPv6 host in brackets"}},
    {"malformed host the server refuses",
     "web:\n  listen_address: \"a b:9\"\n",
     "test.yml:2:19: ",
     {"web.listen_address", "malformed host"}},
};

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidConfigTest, ::testing::ValuesIn(kInvalidCases),
    [](const ::testing::TestParamInfo<InvalidCase>& param_info) {
      std::string name;
      for (const char* p = param_info.param.what; *p != '\0'; ++p) {
        const char ch = *p;
        name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      }
      return name + "_" + std::to_string(param_info.index);
    });

TEST(ConfigFileTest, EmptyFileGivesDefaults) {
  for (const char* text : {"", "\n", "# only a comment\n", "---\n"}) {
    FileConfig cfg;
    cfg.per_namespace_series = false;  // must be replaced by the default
    const Status s = ParseConfigYaml(text, "empty.yml", &cfg);
    ASSERT_TRUE(s.ok()) << "\"" << text << "\": " << s.ToString();
    const FileConfig defaults;
    EXPECT_FALSE(cfg.listen_address.has_value());
    EXPECT_FALSE(cfg.telemetry_path.has_value());
    EXPECT_FALSE(cfg.log_level.has_value());
    EXPECT_FALSE(cfg.log_format.has_value());
    EXPECT_EQ(cfg.types, defaults.types);
    EXPECT_EQ(cfg.min_interval, milliseconds(0));
    EXPECT_FALSE(cfg.exclude_kernel_threads);
    EXPECT_TRUE(cfg.bind_mounts);
    EXPECT_FALSE(cfg.fds);
    EXPECT_FALSE(cfg.sockets);
    EXPECT_FALSE(cfg.for_children);
    EXPECT_FALSE(cfg.threads);
    EXPECT_TRUE(cfg.containers);
    EXPECT_EQ(cfg.workers, 1u);
    EXPECT_FALSE(cfg.verify_namespace_ids);
    EXPECT_TRUE(cfg.per_namespace_series);
    EXPECT_EQ(cfg.exclude_types, defaults.exclude_types);
    EXPECT_TRUE(cfg.exclude_commands.empty());
  }
}

TEST(ConfigFileTest, DefaultsSelectEveryTypeAndNoFilter) {
  const FileConfig defaults;
  EXPECT_EQ(defaults.types, NamespaceTypeSet::All());
  EXPECT_TRUE(defaults.exclude_types.empty());
  EXPECT_TRUE(defaults.per_namespace_series);
}

TEST(ConfigFileTest, FullFileSetsEverything) {
  const char* text = R"(web:
  listen_address: "127.0.0.1:9999"
  telemetry_path: /custom
log:
  level: debug
  format: json
collection:
  types: [pid, user, net]
  min_interval: 1m30s
  exclude_kernel_threads: True
  bind_mounts: false
  fds: true
  sockets: true
  for_children: true
  threads: true
  containers: false
  workers: 4
  verify_namespace_ids: true
metrics:
  per_namespace_series: FALSE
filters:
  exclude_types: [mnt, uts]
  exclude_commands: ["pause", "kworker/.*"]
)";
  FileConfig cfg;
  const Status s = ParseConfigYaml(text, "full.yml", &cfg);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(cfg.listen_address, "127.0.0.1:9999");
  EXPECT_EQ(cfg.telemetry_path, "/custom");
  EXPECT_EQ(cfg.log_level, "debug");
  EXPECT_EQ(cfg.log_format, "json");
  EXPECT_EQ(cfg.types,
            NamespaceTypeSet({NamespaceType::kPid, NamespaceType::kUser,
                              NamespaceType::kNet}));
  EXPECT_EQ(cfg.min_interval, milliseconds(90000));
  EXPECT_TRUE(cfg.exclude_kernel_threads);
  EXPECT_FALSE(cfg.bind_mounts);
  EXPECT_TRUE(cfg.fds);
  EXPECT_TRUE(cfg.sockets);
  EXPECT_TRUE(cfg.for_children);
  EXPECT_TRUE(cfg.threads);
  EXPECT_FALSE(cfg.containers);
  EXPECT_EQ(cfg.workers, 4u);
  EXPECT_TRUE(cfg.verify_namespace_ids);
  EXPECT_FALSE(cfg.per_namespace_series);
  EXPECT_EQ(cfg.exclude_types,
            NamespaceTypeSet({NamespaceType::kMnt, NamespaceType::kUts}));
  EXPECT_EQ(cfg.exclude_commands,
            (std::vector<std::string>{"pause", "kworker/.*"}));
}

TEST(ConfigFileTest, WorkersTakeOneToSixtyFour) {
  for (const char* ok : {"1", "2", "64"}) {
    FileConfig cfg;
    const Status s = ParseConfigYaml(
        std::string("collection:\n  workers: ") + ok + "\n", "w.yml", &cfg);
    ASSERT_TRUE(s.ok()) << ok << ": " << s.ToString();
    EXPECT_EQ(cfg.workers, std::stoul(ok));
  }
  for (const char* bad :
       {"0", "65", "-1", "2.5", "two", "\"\"", "1000000000000"}) {
    FileConfig cfg;
    const Status s = ParseConfigYaml(
        std::string("collection:\n  workers: ") + bad + "\n", "w.yml", &cfg);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("w.yml:2:12: collection.workers: found"),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("want a whole number from 1 to 64"),
              std::string::npos)
        << s.message();
    EXPECT_EQ(cfg.workers, 1u);
  }
}

TEST(ConfigFileTest, BoolSpellings) {
  struct Case {
    const char* value;
    bool want;
  };
  for (const Case& c :
       {Case{"true", true}, Case{"True", true}, Case{"TRUE", true},
        Case{"yes", true}, Case{"Yes", true}, Case{"YES", true},
        Case{"on", true}, Case{"On", true}, Case{"ON", true},
        Case{"false", false}, Case{"False", false}, Case{"FALSE", false},
        Case{"no", false}, Case{"No", false}, Case{"NO", false},
        Case{"off", false}, Case{"Off", false}, Case{"OFF", false}}) {
    FileConfig cfg;
    cfg.per_namespace_series = !c.want;
    const Status s = ParseConfigYaml(
        std::string("metrics:\n  per_namespace_series: ") + c.value + "\n",
        "b.yml", &cfg);
    ASSERT_TRUE(s.ok()) << c.value << ": " << s.ToString();
    EXPECT_EQ(cfg.per_namespace_series, c.want) << c.value;
  }
}

TEST(ConfigFileTest, EmptyFilterListsAreAllowed) {
  FileConfig cfg;
  const Status s = ParseConfigYaml(
      "filters:\n  exclude_types: []\n  exclude_commands: []\n", "f.yml", &cfg);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(cfg.exclude_types.empty());
  EXPECT_TRUE(cfg.exclude_commands.empty());
}

TEST(ConfigFileTest, NameInMessageIsTheGivenName) {
  FileConfig cfg;
  const Status s = ParseConfigYaml("bogus: 1\n", "conf.d/exporter.yml", &cfg);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("conf.d/exporter.yml:1:1: ", 0), 0u)
      << s.message();
}

TEST(ConfigFileTest, LoadMissingFileNamesThePath) {
  FileConfig cfg;
  const std::string path = std::string(NSEXP_EXAMPLES_DIR) + "/absent.yml";
  const Status s = LoadConfigFile(path, &cfg);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
}

TEST(ConfigFileTest, LoadDirectoryFails) {
  FileConfig cfg;
  const Status s = LoadConfigFile(NSEXP_EXAMPLES_DIR, &cfg);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), std::string("--config.file ") + NSEXP_EXAMPLES_DIR +
                             ": is a directory");
}

struct DurationCase {
  const char* text;
  std::optional<long long> ms;
};

TEST(ParseDurationTest, Table) {
  const DurationCase cases[] = {
      {"0", 0},
      {"0s", 0},
      {"0ms", 0},
      {"500ms", 500},
      {"1s", 1000},
      {"15s", 15000},
      {"1m", 60000},
      {"1h", 3600000},
      {"1h30m", 5400000},
      {"1m30s", 90000},
      {"1s500ms", 1500},
      {"2d", 2LL * 24 * 3600 * 1000},
      {"1w", 7LL * 24 * 3600 * 1000},
      {"1y", 365LL * 24 * 3600 * 1000},
      {"1y2w3d4h5m6s7ms", 365LL * 86400000 + 14LL * 86400000 + 3LL * 86400000 +
                              4LL * 3600000 + 5LL * 60000 + 6000 + 7},
      {"10", std::nullopt},  // a unit is required for anything but 0
      {"", std::nullopt},
      {"s", std::nullopt},
      {"ms", std::nullopt},
      {"-1s", std::nullopt},
      {"+1s", std::nullopt},
      {"1.5s", std::nullopt},
      {"1 s", std::nullopt},
      {" 1s", std::nullopt},
      {"1s ", std::nullopt},
      {"1S", std::nullopt},
      {"1sec", std::nullopt},
      {"30m1h", std::nullopt},  // units out of order
      {"1s1s", std::nullopt},
      {"1x", std::nullopt},
      {"9999999999s", std::nullopt},  // too many digits
      {"999999999y", std::nullopt},   // overflows
      {"292y", 292LL * 365 * 86400000},
      {"293y", std::nullopt},  // beyond what int64 nanoseconds can hold
  };
  for (const DurationCase& c : cases) {
    const auto got = ParseDuration(c.text);
    if (c.ms) {
      ASSERT_TRUE(got.has_value()) << "\"" << c.text << "\"";
      EXPECT_EQ(got->count(), *c.ms) << "\"" << c.text << "\"";
    } else {
      EXPECT_FALSE(got.has_value())
          << "\"" << c.text << "\" gave " << got->count() << "ms";
    }
  }
}

// Every shipped example loads; web-config*.yml is the other file format.
TEST(ExamplesTest, EveryExampleLoads) {
  std::vector<std::string> loaded;
  for (const auto& entry :
       std::filesystem::directory_iterator(NSEXP_EXAMPLES_DIR)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".yml") continue;
    if (name.rfind("web-config", 0) == 0) continue;
    FileConfig cfg;
    const Status s = LoadConfigFile(entry.path().string(), &cfg);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
    loaded.push_back(name);
  }
  std::sort(loaded.begin(), loaded.end());
  for (const char* want : {"host.yml", "kubernetes.yml", "large-host.yml"}) {
    EXPECT_TRUE(
        std::binary_search(loaded.begin(), loaded.end(), std::string(want)))
        << want << " missing from the examples";
  }
}

FileConfig LoadExample(const std::string& name) {
  FileConfig cfg;
  const Status s =
      LoadConfigFile(std::string(NSEXP_EXAMPLES_DIR) + "/" + name, &cfg);
  EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
  return cfg;
}

TEST(ExamplesTest, HostHasTheDocumentedDefaults) {
  const FileConfig cfg = LoadExample("host.yml");
  const FileConfig defaults;
  EXPECT_EQ(cfg.listen_address, ":19101");
  EXPECT_EQ(cfg.telemetry_path, "/metrics");
  EXPECT_EQ(cfg.log_level, "info");
  EXPECT_EQ(cfg.log_format, "logfmt");
  EXPECT_EQ(cfg.types, defaults.types);
  EXPECT_EQ(cfg.min_interval, milliseconds(0));
  EXPECT_FALSE(cfg.exclude_kernel_threads);
  EXPECT_EQ(cfg.workers, defaults.workers);
  EXPECT_TRUE(cfg.per_namespace_series);
  EXPECT_EQ(cfg.exclude_types, defaults.exclude_types);
  EXPECT_TRUE(cfg.exclude_commands.empty());
}

TEST(ExamplesTest, KubernetesSharesScrapesAndDropsMountSeries) {
  const FileConfig cfg = LoadExample("kubernetes.yml");
  const FileConfig defaults;
  EXPECT_FALSE(cfg.listen_address.has_value());
  EXPECT_FALSE(cfg.log_level.has_value());
  EXPECT_EQ(cfg.log_format, "json");
  EXPECT_EQ(cfg.types, defaults.types);
  EXPECT_EQ(cfg.min_interval, milliseconds(10000));
  EXPECT_TRUE(cfg.exclude_kernel_threads);
  EXPECT_TRUE(cfg.per_namespace_series);
  EXPECT_EQ(cfg.exclude_types, NamespaceTypeSet({NamespaceType::kMnt}));
  EXPECT_TRUE(cfg.exclude_commands.empty());
}

TEST(ExamplesTest, LargeHostKeepsAggregatesOnly) {
  const FileConfig cfg = LoadExample("large-host.yml");
  const FileConfig defaults;
  EXPECT_EQ(cfg.types, defaults.types);
  EXPECT_EQ(cfg.min_interval, milliseconds(30000));
  EXPECT_EQ(cfg.workers, 2u);
  EXPECT_FALSE(cfg.per_namespace_series);
  EXPECT_EQ(cfg.exclude_types, defaults.exclude_types);
}

}  // namespace
}  // namespace nsexp

TEST(CheckRegexNumbersTest, AcceptsOrdinaryNumbersAndRefusesLongOnes) {
  EXPECT_EQ(nsexp::CheckRegexNumbers("(a)\\1{2,15}x{3}"), std::nullopt);
  EXPECT_EQ(nsexp::CheckRegexNumbers("\\\\1234567890123"), std::nullopt)
      << "an escaped backslash followed by digits is a literal";
  EXPECT_NE(nsexp::CheckRegexNumbers("{1234567890123}"), std::nullopt);
  EXPECT_EQ(nsexp::CheckRegexNumbers("proc123456789012345"), std::nullopt);
  EXPECT_EQ(nsexp::CheckRegexNumbers("{"), std::nullopt);
  EXPECT_NE(nsexp::CheckRegexNumbers("(a)\\1234567890"), std::nullopt);
  EXPECT_NE(nsexp::CheckRegexNumbers("a{1234567890}"), std::nullopt);
  EXPECT_NE(nsexp::CheckRegexNumbers("a{1,1234567890}"), std::nullopt);
  EXPECT_EQ(nsexp::CheckRegexNumbers("a{123456789,123456789}"), std::nullopt);
}
