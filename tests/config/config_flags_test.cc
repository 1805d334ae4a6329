// Tests of command-line parsing: exits, help, version, which flags were
// given, and the tree subcommand.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"

namespace nsexp {
namespace {

struct Parsed {
  FlagOutcome outcome;
  Config config;
};

Parsed Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "linux_namespace_exporter");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  Parsed p;
  p.outcome = ParseFlags(static_cast<int>(argv.size()), argv.data(), "1.2.3",
                         "abcdef123456", &p.config);
  return p;
}

// The line of "text" that starts (after spaces) with "flag".
std::string HelpLine(const std::string& text, const std::string& flag) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const std::size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos &&
        line.compare(first, flag.size(), flag) == 0 &&
        (line.size() == first + flag.size() ||
         line[first + flag.size()] == ' ')) {
      return line;
    }
    start = end + 1;
  }
  return "";
}

TEST(ConfigFlagsTest, NoArgumentsServeWithDefaults) {
  const Parsed p = Parse({});
  EXPECT_FALSE(p.outcome.exit);
  EXPECT_EQ(p.outcome.exit_code, 0);
  EXPECT_EQ(p.config.command, Config::Command::kServe);
  EXPECT_EQ(p.config.listen_address, ":19101");
  EXPECT_EQ(p.config.telemetry_path, "/metrics");
  EXPECT_EQ(p.config.procfs, "/proc");
  EXPECT_EQ(p.config.log_level, "info");
  EXPECT_EQ(p.config.log_format, "logfmt");
  EXPECT_TRUE(p.config.config_file.empty());
  EXPECT_TRUE(p.config.web_config_file.empty());
  EXPECT_FALSE(p.config.config_check);
  EXPECT_FALSE(p.config.listen_address_set);
  EXPECT_FALSE(p.config.telemetry_path_set);
  EXPECT_FALSE(p.config.log_level_set);
  EXPECT_FALSE(p.config.log_format_set);
}

TEST(ConfigFlagsTest, UnknownFlagExitsTwoWithUsage) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--web.listen-adress=:1"},
           {"--bogus"},
           {"--log.level=info", "--collector.foo"},
           {"stray-positional"}}) {
    const Parsed p = Parse(args);
    EXPECT_TRUE(p.outcome.exit) << args.back();
    EXPECT_EQ(p.outcome.exit_code, 2) << args.back();
    EXPECT_TRUE(p.outcome.out.empty()) << args.back();
    EXPECT_NE(p.outcome.err.find("linux_namespace_exporter: "),
              std::string::npos)
        << p.outcome.err;
    EXPECT_NE(p.outcome.err.find("Usage:"), std::string::npos) << p.outcome.err;
    EXPECT_NE(p.outcome.err.find("--web.listen-address"), std::string::npos)
        << p.outcome.err;
  }
}

TEST(ConfigFlagsTest, BadValuesExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--log.level=verbose"},
                                             {"--log.format=xml"},
                                             {"--web.listen-address"},
                                             {"tree", "--type=network"},
                                             {"tree", "--format=yaml"}}) {
    const Parsed p = Parse(args);
    EXPECT_TRUE(p.outcome.exit) << args.back();
    EXPECT_EQ(p.outcome.exit_code, 2) << args.back();
    EXPECT_FALSE(p.outcome.err.empty()) << args.back();
  }
}

TEST(ConfigFlagsTest, HelpExitsZeroAndListsEveryFlagWithItsDefault) {
  const Parsed p = Parse({"--help"});
  ASSERT_TRUE(p.outcome.exit);
  EXPECT_EQ(p.outcome.exit_code, 0);
  EXPECT_TRUE(p.outcome.err.empty()) << p.outcome.err;
  const std::string& help = p.outcome.out;
  struct Want {
    const char* flag;
    const char* default_text;  // "" where the default is empty
  };
  for (const Want& w :
       {Want{"--web.listen-address", "=:19101"},
        Want{"--web.telemetry-path", "=/metrics"},
        Want{"--web.config.file", ""}, Want{"--config.file", ""},
        Want{"--config.check", ""}, Want{"--path.procfs", "=/proc"},
        Want{"--log.level", "=info"}, Want{"--log.format", "=logfmt"},
        Want{"--version", ""}, Want{"-h,--help", ""}}) {
    const std::string line = HelpLine(help, w.flag);
    ASSERT_FALSE(line.empty()) << w.flag << " not in help:\n" << help;
    EXPECT_NE(line.find(w.default_text), std::string::npos)
        << w.flag << " without default " << w.default_text << ": " << line;
  }
  // The choices of the enumerated flags are spelt out.
  EXPECT_NE(HelpLine(help, "--log.level").find("debug,info,warn,error"),
            std::string::npos);
  EXPECT_NE(HelpLine(help, "--log.format").find("logfmt,json"),
            std::string::npos);
  EXPECT_NE(help.find("tree"), std::string::npos);
}

TEST(ConfigFlagsTest, TreeHelpListsItsOptions) {
  const Parsed p = Parse({"tree", "--help"});
  ASSERT_TRUE(p.outcome.exit);
  EXPECT_EQ(p.outcome.exit_code, 0);
  EXPECT_NE(HelpLine(p.outcome.out, "--type").find("=pid"), std::string::npos)
      << p.outcome.out;
  EXPECT_NE(HelpLine(p.outcome.out, "--format").find("=text"),
            std::string::npos)
      << p.outcome.out;
}

TEST(ConfigFlagsTest, VersionExitsZeroWithVersionAndRevision) {
  const Parsed p = Parse({"--version"});
  ASSERT_TRUE(p.outcome.exit);
  EXPECT_EQ(p.outcome.exit_code, 0);
  EXPECT_TRUE(p.outcome.err.empty());
  EXPECT_NE(p.outcome.out.find("linux_namespace_exporter"), std::string::npos);
  EXPECT_NE(p.outcome.out.find("1.2.3"), std::string::npos) << p.outcome.out;
  EXPECT_NE(p.outcome.out.find("abcdef123456"), std::string::npos)
      << p.outcome.out;
  EXPECT_EQ(p.outcome.out.back(), '\n');
}

TEST(ConfigFlagsTest, GivenFlagsAreMarkedSetEvenWithDefaultValues) {
  // Given with the default value: still "set", so it overrides the file.
  const Parsed p =
      Parse({"--web.listen-address=:19101", "--log.level", "info"});
  ASSERT_FALSE(p.outcome.exit) << p.outcome.err;
  EXPECT_TRUE(p.config.listen_address_set);
  EXPECT_TRUE(p.config.log_level_set);
  EXPECT_FALSE(p.config.telemetry_path_set);
  EXPECT_FALSE(p.config.log_format_set);
}

TEST(ConfigFlagsTest, EveryValueFlagIsStored) {
  const Parsed p =
      Parse({"--web.listen-address=127.0.0.1:1234", "--web.telemetry-path=/m",
             "--web.config.file=web.yml", "--config.file=exporter.yml",
             "--config.check", "--path.procfs=/host/proc", "--log.level=debug",
             "--log.format=json"});
  ASSERT_FALSE(p.outcome.exit) << p.outcome.err;
  EXPECT_EQ(p.config.command, Config::Command::kServe);
  EXPECT_EQ(p.config.listen_address, "127.0.0.1:1234");
  EXPECT_EQ(p.config.telemetry_path, "/m");
  EXPECT_EQ(p.config.web_config_file, "web.yml");
  EXPECT_EQ(p.config.config_file, "exporter.yml");
  EXPECT_TRUE(p.config.config_check);
  EXPECT_EQ(p.config.procfs, "/host/proc");
  EXPECT_EQ(p.config.log_level, "debug");
  EXPECT_EQ(p.config.log_format, "json");
  EXPECT_TRUE(p.config.listen_address_set);
  EXPECT_TRUE(p.config.telemetry_path_set);
  EXPECT_TRUE(p.config.log_level_set);
  EXPECT_TRUE(p.config.log_format_set);
}

TEST(ConfigFlagsTest, TreeSubcommandDefaults) {
  const Parsed p = Parse({"tree"});
  ASSERT_FALSE(p.outcome.exit) << p.outcome.err;
  EXPECT_EQ(p.config.command, Config::Command::kTree);
  EXPECT_EQ(p.config.tree_type, "pid");
  EXPECT_EQ(p.config.tree_format, "text");
}

TEST(ConfigFlagsTest, TreeSubcommandOptions) {
  for (const char* type :
       {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}) {
    const Parsed p = Parse({"--path.procfs=/host/proc", "tree",
                            std::string("--type=") + type, "--format", "json"});
    ASSERT_FALSE(p.outcome.exit) << type << ": " << p.outcome.err;
    EXPECT_EQ(p.config.command, Config::Command::kTree);
    EXPECT_EQ(p.config.tree_type, type);
    EXPECT_EQ(p.config.tree_format, "json");
    EXPECT_EQ(p.config.procfs, "/host/proc");
  }
}

TEST(ConfigFlagsTest, TreeOptionsAreNotTopLevelFlags) {
  const Parsed p = Parse({"--type=user"});
  EXPECT_TRUE(p.outcome.exit);
  EXPECT_EQ(p.outcome.exit_code, 2);
}

}  // namespace
}  // namespace nsexp
