// Tests of MergeRuntimeConfig and BuildRuntimeConfig: flags over the file,
// defaults, compiled filters and validation with the server's checks.
#include "config/runtime_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>

#include "config/config_file.h"

namespace nsexp {
namespace {

using std::chrono::milliseconds;

RuntimeConfig MustMerge(const Config& flags, const FileConfig& file) {
  RuntimeConfig out;
  const Status s = MergeRuntimeConfig(flags, file, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(MergeRuntimeConfigTest, NoFileGivesTheFlagDefaults) {
  const RuntimeConfig c = MustMerge(Config(), FileConfig());
  EXPECT_EQ(c.listen_address, ":19101");
  EXPECT_EQ(c.telemetry_path, "/metrics");
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.log_format, LogFormat::kLogfmt);
  EXPECT_EQ(c.types, NamespaceTypeSet::All());
  EXPECT_TRUE(c.exclude_types.empty());
  EXPECT_EQ(c.min_interval, milliseconds(0));
  EXPECT_FALSE(c.exclude_kernel_threads);
  EXPECT_TRUE(c.bind_mounts);
  EXPECT_FALSE(c.fds);
  EXPECT_FALSE(c.for_children);
  EXPECT_FALSE(c.threads);
  EXPECT_TRUE(c.containers);
  EXPECT_TRUE(c.per_namespace_series);
  EXPECT_TRUE(c.exclude_commands.empty());
}

FileConfig FullFile() {
  FileConfig file;
  file.listen_address = "127.0.0.1:9999";
  file.telemetry_path = "/from-file";
  file.log_level = "debug";
  file.log_format = "json";
  file.types = {NamespaceType::kNet, NamespaceType::kPid};
  file.exclude_types = {NamespaceType::kMnt};
  file.min_interval = milliseconds(1500);
  file.exclude_kernel_threads = true;
  file.bind_mounts = false;
  file.fds = true;
  file.threads = true;
  file.containers = false;
  file.workers = 3;
  file.per_namespace_series = false;
  file.exclude_commands = {"pause", "kworker/.*"};
  return file;
}

TEST(MergeRuntimeConfigTest, FileWinsOverFlagDefaults) {
  const RuntimeConfig c = MustMerge(Config(), FullFile());
  EXPECT_EQ(c.listen_address, "127.0.0.1:9999");
  EXPECT_EQ(c.telemetry_path, "/from-file");
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.log_format, LogFormat::kJson);
  EXPECT_EQ(c.types,
            NamespaceTypeSet({NamespaceType::kNet, NamespaceType::kPid}));
  EXPECT_EQ(c.exclude_types, NamespaceTypeSet({NamespaceType::kMnt}));
  EXPECT_EQ(c.min_interval, milliseconds(1500));
  EXPECT_EQ(c.workers, 3u);
  EXPECT_TRUE(c.exclude_kernel_threads);
  EXPECT_FALSE(c.bind_mounts);
  EXPECT_TRUE(c.fds);
  EXPECT_FALSE(c.for_children);
  EXPECT_TRUE(c.threads);
  EXPECT_FALSE(c.containers);
  EXPECT_FALSE(c.per_namespace_series);
  ASSERT_EQ(c.exclude_commands.size(), 2u);
  // Compiled, and matched against the whole name by the caller.
  EXPECT_TRUE(std::regex_match("kworker/0:1", c.exclude_commands[1]));
  EXPECT_FALSE(std::regex_match("kworker", c.exclude_commands[1]));
  EXPECT_TRUE(std::regex_match("pause", c.exclude_commands[0]));
}

TEST(MergeRuntimeConfigTest, FlagsGivenWinOverTheFile) {
  Config flags;
  flags.listen_address = "127.0.0.1:1234";
  flags.listen_address_set = true;
  flags.telemetry_path = "/from-flag";
  flags.telemetry_path_set = true;
  flags.log_level = "warn";
  flags.log_level_set = true;
  flags.log_format = "logfmt";
  flags.log_format_set = true;
  const RuntimeConfig c = MustMerge(flags, FullFile());
  EXPECT_EQ(c.listen_address, "127.0.0.1:1234");
  EXPECT_EQ(c.telemetry_path, "/from-flag");
  EXPECT_EQ(c.log_level, LogLevel::kWarn);
  EXPECT_EQ(c.log_format, LogFormat::kLogfmt);
  // The file's other settings stay.
  EXPECT_FALSE(c.per_namespace_series);
}

TEST(MergeRuntimeConfigTest, EachFlagWinsOnItsOwn) {
  Config flags;
  flags.log_level = "error";
  flags.log_level_set = true;
  const RuntimeConfig c = MustMerge(flags, FullFile());
  EXPECT_EQ(c.log_level, LogLevel::kError);
  EXPECT_EQ(c.listen_address, "127.0.0.1:9999");
  EXPECT_EQ(c.telemetry_path, "/from-file");
  EXPECT_EQ(c.log_format, LogFormat::kJson);
}

struct BadCase {
  const char* what;
  Config flags;
  FileConfig file;
  const char* want;  // the whole message
};

TEST(MergeRuntimeConfigTest, RefusesWhatTheServerWouldRefuseNamingTheSource) {
  Config bad_flag;
  bad_flag.listen_address = ":65536";
  bad_flag.listen_address_set = true;
  FileConfig bad_file;
  bad_file.listen_address = "::1:9";
  Config bad_path;
  bad_path.telemetry_path = "metrics";
  bad_path.telemetry_path_set = true;
  FileConfig bad_level;
  bad_level.log_level = "loud";
  FileConfig no_types;
  no_types.types = NamespaceTypeSet();
  FileConfig bad_regex;
  bad_regex.exclude_commands = {"(unclosed"};
  const BadCase cases[] = {
      {"flag address", bad_flag, FileConfig(),
       "--web.listen-address: listen address \":65536\": port must be a "
       "number 0-65535"},
      {"file address", Config(), bad_file,
       "web.listen_address: listen address \"::1:9\": put an IPv6 host in "
       "brackets"},
      {"flag path", bad_path, FileConfig(),
       "--web.telemetry-path: telemetry path \"metrics\": must start with "
       "'/'"},
      {"file level", Config(), bad_level,
       "log.level: found \"loud\", want debug, info, warn or error"},
      {"no types", Config(), no_types,
       "collection.types: name at least one type"},
  };
  for (const BadCase& c : cases) {
    RuntimeConfig out;
    out.telemetry_path = "/untouched";
    const Status s = MergeRuntimeConfig(c.flags, c.file, &out);
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << c.what;
    EXPECT_EQ(s.message(), c.want) << c.what;
    EXPECT_EQ(out.telemetry_path, "/untouched") << c.what;
  }
  RuntimeConfig out;
  const Status s = MergeRuntimeConfig(Config(), bad_regex, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("invalid regular expression \"(unclosed\""),
            std::string::npos)
      << s.message();
}

class BuildRuntimeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nsexp_runtime_config_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove(dir_.c_str());
  }
  std::string Write(const std::string& text) {
    path_ = dir_ + "/exporter.yml";
    std::ofstream(path_) << text;
    return path_;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(BuildRuntimeConfigTest, WithoutAFileUsesTheFlags) {
  Config flags;
  flags.telemetry_path = "/m";
  flags.telemetry_path_set = true;
  RuntimeConfig c;
  ASSERT_TRUE(BuildRuntimeConfig(flags, &c).ok());
  EXPECT_EQ(c.telemetry_path, "/m");
  EXPECT_EQ(c.listen_address, ":19101");
}

TEST_F(BuildRuntimeConfigTest, ReadsTheFileAndAppliesTheFlagsOverIt) {
  Config flags;
  flags.config_file = Write(
      "web:\n  listen_address: \"127.0.0.1:9\"\n  telemetry_path: /f\n"
      "collection:\n  types: [user]\n");
  flags.telemetry_path = "/flag";
  flags.telemetry_path_set = true;
  RuntimeConfig c;
  const Status s = BuildRuntimeConfig(flags, &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.listen_address, "127.0.0.1:9");
  EXPECT_EQ(c.telemetry_path, "/flag");
  EXPECT_EQ(c.types, NamespaceTypeSet({NamespaceType::kUser}));
}

TEST_F(BuildRuntimeConfigTest, FileErrorsKeepTheirPosition) {
  Config flags;
  flags.config_file = Write("web:\n  listen_address: \":99999\"\n");
  RuntimeConfig c;
  const Status s = BuildRuntimeConfig(flags, &c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), flags.config_file +
                             ":2:19: web.listen_address: listen address "
                             "\":99999\": port must be a number 0-65535");
}

TEST_F(BuildRuntimeConfigTest, MissingFileIsNotFound) {
  Config flags;
  flags.config_file = dir_ + "/absent.yml";
  RuntimeConfig c;
  const Status s = BuildRuntimeConfig(flags, &c);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("--config.file " + flags.config_file),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace nsexp
