// Tests of the YAML loader shared by both configuration files: its helpers,
// and that --config.file and --web.config.file follow the same rules with
// the same messages.
#include "config/yaml_support.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_file.h"
#include "config/web_config.h"

namespace nsexp {
namespace {

// Runs "walk" on the document "text" of a file named "t.yml".
Status Walk(const std::string& text,
            const std::function<void(const YAML::Node&)>& walk) {
  return ParseYamlDocument(text, "t.yml", walk);
}

TEST(YamlSupportTest, BoolAcceptsYaml11Spellings) {
  for (const char* t :
       {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"}) {
    bool got = false;
    ASSERT_TRUE(Walk(std::string("b: ") + t,
                     [&](const YAML::Node& n) { got = YamlBool(n["b"], "b"); })
                    .ok())
        << t;
    EXPECT_TRUE(got) << t;
  }
  for (const char* f :
       {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"}) {
    bool got = true;
    ASSERT_TRUE(Walk(std::string("b: ") + f,
                     [&](const YAML::Node& n) { got = YamlBool(n["b"], "b"); })
                    .ok())
        << f;
    EXPECT_FALSE(got) << f;
  }
}

TEST(YamlSupportTest, BoolRefusesOtherValuesWithPosition) {
  const auto walk = [](const YAML::Node& n) { YamlBool(n["b"], "x.b"); };
  EXPECT_EQ(Walk("b: maybe\n", walk).message(),
            "t.yml:1:4: x.b: found \"maybe\", want true or false");
  EXPECT_EQ(Walk("b: 1\n", walk).message(),
            "t.yml:1:4: x.b: found \"1\", want true or false");
  EXPECT_EQ(Walk("b: [a]\n", walk).message(),
            "t.yml:1:4: x.b: found a list, want true or false");
}

TEST(YamlSupportTest, KeysDuplicateUnknownAndNonMapping) {
  const auto walk = [](const YAML::Node& n) {
    CheckYamlKeys(n, "top level", {"a", "b", "c"});
  };
  EXPECT_TRUE(Walk("a: 1\nb: 2\n", walk).ok());
  EXPECT_TRUE(Walk("", walk).ok());
  EXPECT_EQ(Walk("a: 1\nb: 2\na: 3\n", walk).message(),
            "t.yml:3:1: top level: duplicate key \"a\"");
  EXPECT_EQ(Walk("a: 1\nd: 2\n", walk).message(),
            "t.yml:2:1: top level: unknown key \"d\" (want a, b or c)");
  EXPECT_EQ(Walk("- a\n", walk).message(),
            "t.yml:1:1: top level: found a list, want a mapping");
  EXPECT_EQ(Walk("[a]: 1\n", walk).message(),
            "t.yml:1:1: top level: keys must be strings");
}

TEST(YamlSupportTest, StringsAndLists) {
  std::string s = "x";
  std::vector<std::string> list;
  ASSERT_TRUE(Walk("s:\nl: [a, b]\n", [&](const YAML::Node& n) {
                s = YamlString(n["s"], "s");
                list = YamlStringList(n["l"], "l");
              }).ok());
  EXPECT_EQ(s, "");
  EXPECT_EQ(list, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(
      Walk("l: a\n", [](const YAML::Node& n) { YamlStringList(n["l"], "l"); })
          .message(),
      "t.yml:1:4: l: found a scalar, want a list of strings");
  EXPECT_EQ(Walk("l: [[a]]\n",
                 [](const YAML::Node& n) { YamlStringList(n["l"], "l"); })
                .message(),
            "t.yml:1:5: l[]: found a list, want a string");
}

TEST(YamlSupportTest, SyntaxErrorsAndDocuments) {
  const auto nothing = [](const YAML::Node&) {};
  const Status bad = Walk("a: [b\n", nothing);
  EXPECT_EQ(bad.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(bad.message().rfind("t.yml:2:1: invalid YAML: ", 0), 0u)
      << bad.message();
  EXPECT_NE(Walk("a: 1\n---\nb: 2\n", nothing)
                .message()
                .find("want one YAML document, found 2"),
            std::string::npos);
  bool null_root = false;
  ASSERT_TRUE(
      Walk("", [&](const YAML::Node& n) { null_root = n.IsNull(); }).ok());
  EXPECT_TRUE(null_root);
}

TEST(YamlSupportTest, ReadYamlFileRefusesADirectoryAndNamesTheFlag) {
  std::string text;
  const Status dir = ReadYamlFile("--x.file", NSEXP_EXAMPLES_DIR, &text);
  EXPECT_EQ(dir.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(dir.message(),
            std::string("--x.file ") + NSEXP_EXAMPLES_DIR + ": is a directory");
  const std::string missing = std::string(NSEXP_EXAMPLES_DIR) + "/absent.yml";
  const Status absent = ReadYamlFile("--x.file", missing, &text);
  EXPECT_TRUE(absent.IsNotFound()) << absent.ToString();
  EXPECT_EQ(absent.message().rfind("--x.file " + missing, 0), 0u)
      << absent.message();
  ASSERT_TRUE(ReadYamlFile("--x.file",
                           std::string(NSEXP_EXAMPLES_DIR) + "/host.yml", &text)
                  .ok());
  EXPECT_NE(text.find("listen_address"), std::string::npos);
}

// The two files, on the same kind of input, give the same rule and the same
// message after their own key path.
TEST(BothConfigFilesTest, RefuseDuplicateKeysAlike) {
  FileConfig file;
  WebConfig web;
  EXPECT_EQ(ParseConfigYaml("log: {}\nlog: {}\n", "f.yml", &file).message(),
            "f.yml:2:1: top level: duplicate key \"log\"");
  EXPECT_EQ(ParseWebConfig("http_server_config: {}\nhttp_server_config: {}\n",
                           "f.yml", &web)
                .message(),
            "f.yml:2:1: top level: duplicate key \"http_server_config\"");
}

TEST(BothConfigFilesTest, AcceptAndRefuseTheSameBooleans) {
  for (const char* v : {"yes", "on", "True", "off", "no", "FALSE"}) {
    FileConfig file;
    WebConfig web;
    EXPECT_TRUE(
        ParseConfigYaml(std::string("metrics:\n  per_namespace_series: ") + v,
                        "f.yml", &file)
            .ok())
        << v;
    EXPECT_TRUE(
        ParseWebConfig(std::string("http_server_config:\n  http2: ") + v,
                       "f.yml", &web)
            .ok())
        << v;
  }
  FileConfig file;
  WebConfig web;
  EXPECT_EQ(
      ParseConfigYaml("metrics:\n  per_namespace_series: y\n", "f.yml", &file)
          .message(),
      "f.yml:2:25: metrics.per_namespace_series: found \"y\", want true or "
      "false");
  EXPECT_EQ(
      ParseWebConfig("http_server_config:\n  http2: y\n", "f.yml", &web)
          .message(),
      "f.yml:2:10: http_server_config.http2: found \"y\", want true or false");
}

TEST(BothConfigFilesTest, RefuseADirectoryAlike) {
  FileConfig file;
  WebConfig web;
  const Status f = LoadConfigFile(NSEXP_EXAMPLES_DIR, &file);
  const Status w = LoadWebConfigFile(NSEXP_EXAMPLES_DIR, &web);
  EXPECT_EQ(f.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(w.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(f.message(), std::string("--config.file ") + NSEXP_EXAMPLES_DIR +
                             ": is a directory");
  EXPECT_EQ(w.message(), std::string("--web.config.file ") +
                             NSEXP_EXAMPLES_DIR + ": is a directory");
}

TEST(BothConfigFilesTest, RefuseTwoDocumentsAndBadSyntaxAlike) {
  FileConfig file;
  WebConfig web;
  const std::string two = "{}\n---\n{}\n";
  EXPECT_EQ(ParseConfigYaml(two, "f.yml", &file).message(),
            ParseWebConfig(two, "f.yml", &web).message());
  const std::string bad = "a: [b\n";
  EXPECT_EQ(ParseConfigYaml(bad, "f.yml", &file).message(),
            ParseWebConfig(bad, "f.yml", &web).message());
  EXPECT_NE(ParseConfigYaml(bad, "f.yml", &file).message().find("invalid YAML"),
            std::string::npos);
}

// Found by fuzzing (tests/fuzz/regressions): on ",!" yaml-cpp 0.7 emits
// nodes forever, and loading it never ended.
TEST(YamlSupportTest, InputThatMakesYamlCppLoopIsRefused) {
  bool walked = false;
  const Status s = Walk(",!", [&](const YAML::Node&) { walked = true; });
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("t.yml:"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("invalid YAML: more than 100000 nodes"),
            std::string::npos)
      << s.ToString();
  EXPECT_FALSE(walked);
  FileConfig file;
  WebConfig web;
  EXPECT_FALSE(ParseConfigYaml("a: ,!", "f.yml", &file).ok());
  EXPECT_FALSE(ParseWebConfig(",!", "f.yml", &web).ok());
}

TEST(YamlSupportTest, ManyNodesUpToTheLimitAreAccepted) {
  std::string text = "[";
  for (std::size_t i = 3; i < kMaxYamlNodes; ++i) text += "1,";
  text += "1]";  // kMaxYamlNodes - 2 scalars, a list and a document
  std::size_t items = 0;
  EXPECT_TRUE(Walk(text, [&](const YAML::Node& n) { items = n.size(); }).ok());
  EXPECT_EQ(items, kMaxYamlNodes - 2);
  EXPECT_FALSE(
      Walk(text.substr(0, text.size() - 1) + ",1]", [](const YAML::Node&) {
      }).ok());
}

}  // namespace
}  // namespace nsexp
