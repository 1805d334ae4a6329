// Tests of RenderTree on the nested fixture: text layout and JSON.
#include "ns/tree_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "ns/discovery.h"
#include "ns/fake_namespace_ops.h"
#include "ns/fixture_tables.h"

namespace nsexp {
namespace {

using namespace fixture;  // NOLINT(build/namespaces): the fixture names
using testing::HasSubstr;

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

// A minimal JSON checker (RFC 8259 grammar, no semantic checks): true when
// "text" is exactly one JSON value, optionally followed by whitespace.
class JsonChecker {
 public:
  static bool Valid(std::string_view text) {
    JsonChecker c(text);
    c.SkipSpace();
    if (!c.Value(0)) return false;
    c.SkipSpace();
    return c.pos_ == c.s_.size();
  }

 private:
  explicit JsonChecker(std::string_view s) : s_(s) {}

  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' ||
                                s_[pos_] == '\t' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool Value(int depth) {
    if (depth > 200 || pos_ >= s_.size()) return false;
    switch (s_[pos_]) {
      case '{':
        return Object(depth);
      case '[':
        return Array(depth);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }
  bool Object(int depth) {
    Eat('{');
    SkipSpace();
    if (Eat('}')) return true;
    for (;;) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"' || !String()) return false;
      SkipSpace();
      if (!Eat(':')) return false;
      SkipSpace();
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (Eat('}')) return true;
      if (!Eat(',')) return false;
    }
  }
  bool Array(int depth) {
    Eat('[');
    SkipSpace();
    if (Eat(']')) return true;
    for (;;) {
      SkipSpace();
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (Eat(']')) return true;
      if (!Eat(',')) return false;
    }
  }
  bool String() {
    Eat('"');
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (pos_ >= s_.size()) return false;
        const char e = s_[pos_++];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            if (pos_ >= s_.size() ||
                !std::isxdigit(static_cast<unsigned char>(s_[pos_++]))) {
              return false;
            }
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) ==
                   std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool Digits() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() &&
           std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      ++pos_;
    }
    return pos_ > start;
  }
  bool Number() {
    Eat('-');
    if (Eat('0')) {
      // no leading zeros
    } else if (!Digits()) {
      return false;
    }
    if (Eat('.') && !Digits()) return false;
    if (Eat('e') || Eat('E')) {
      if (!Eat('+')) Eat('-');
      if (!Digits()) return false;
    }
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

TEST(JsonCheckerTest, AcceptsAndRejects) {
  EXPECT_TRUE(JsonChecker::Valid(R"({"a":[1,-2.5e3,true,null,"x\"\u00e9"]})"));
  EXPECT_TRUE(JsonChecker::Valid("[]\n"));
  EXPECT_FALSE(JsonChecker::Valid(R"({"a":1,})"));
  EXPECT_FALSE(JsonChecker::Valid(R"({"a" 1})"));
  EXPECT_FALSE(JsonChecker::Valid("[1] [2]"));
  EXPECT_FALSE(JsonChecker::Valid("\"tab\there\""));
  EXPECT_FALSE(JsonChecker::Valid(R"(["\q"])"));
  EXPECT_FALSE(JsonChecker::Valid("[01]"));
  EXPECT_FALSE(JsonChecker::Valid("{"));
}

class TreeViewTest : public testing::Test {
 protected:
  void SetUp() override {
    AddNested(&ops_);
    ASSERT_TRUE(ProcFs::Open(kFixtures + "nested", &procfs_).ok());
    Discoverer d(procfs_.get(), &ops_);
    DiscoveryOptions options;
    options.collect_members = true;
    ASSERT_TRUE(d.Discover(options, &graph_).ok());
  }

  FakeNamespaceOps ops_;
  std::unique_ptr<ProcFs> procfs_;
  NamespaceGraph graph_;
};

TEST_F(TreeViewTest, PidTextIndentsByDepthWithNStgid) {
  EXPECT_EQ(
      RenderTree(*procfs_, graph_, NamespaceType::kPid, TreeFormat::kText),
      "pid:[4026531836] ns_id=5 processes=2\n"
      "        [1]  systemd\n"
      "        [700]  netns\n"
      "    pid:[4026532301] ns_id=203 processes=1\n"
      "            [500 1]  unshare\n"
      "        pid:[4026532303] ns_id=204 processes=2\n"
      "                [501 5 1]  sh\n"
      "                [502 6 2]  sleep\n"
      "    pid:[4026532310] ns_id=205 processes=0\n"
      "        pid:[4026532311] ns_id=206 processes=1\n"
      "                [600 7 1]  inner\n");
}

TEST_F(TreeViewTest, UserTextShowsOwnerUid) {
  EXPECT_EQ(
      RenderTree(*procfs_, graph_, NamespaceType::kUser, TreeFormat::kText),
      "user:[4026531837] ns_id=7 owner_uid=0 processes=3\n"
      "        [1]  systemd\n"
      "        [600 7 1]  inner\n"
      "        [700]  netns\n"
      "    user:[4026532300] ns_id=200 owner_uid=1000 processes=1\n"
      "            [500 1]  unshare\n"
      "        user:[4026532304] ns_id=201 owner_uid=1000 processes=2\n"
      "                [501 5 1]  sh\n"
      "                [502 6 2]  sleep\n"
      "    user:[4026532321] ns_id=202 owner_uid=1001 processes=0\n");
}

TEST_F(TreeViewTest, FlatTypeListedUnderItsOwner) {
  const std::string text =
      RenderTree(*procfs_, graph_, NamespaceType::kNet, TreeFormat::kText);
  EXPECT_THAT(text, HasSubstr("user:[4026531837] ns_id=7 owner_uid=0 "
                              "owns 1 net namespace\n"
                              "    net:[4026531840] ns_id=4 processes=5\n"
                              "            [1]  systemd\n"
                              "            [500 1]  unshare\n"));
  EXPECT_THAT(text, HasSubstr("    user:[4026532321] ns_id=202 owner_uid=1001 "
                              "owns 1 net namespace\n"
                              "        net:[4026532320] ns_id=208 processes=1\n"
                              "                [700]  netns\n"));
  EXPECT_THAT(text, testing::Not(HasSubstr("owner not visible")));
  // A grouping line counts namespaces, never processes.
  EXPECT_THAT(text, HasSubstr("user:[4026532300] ns_id=200 owner_uid=1000 "
                              "owns 0 net namespaces\n"));
  EXPECT_THAT(text, testing::Not(HasSubstr("user:[4026532300] ns_id=200 "
                                           "owner_uid=1000 processes")));
}

TEST_F(TreeViewTest, FlatTypeWithHiddenOwner) {
  for (NamespaceInfo& n : graph_.namespaces) {
    if (n.type == NamespaceType::kNet && n.inode == kN1) n.owner_inode.reset();
  }
  const std::string text =
      RenderTree(*procfs_, graph_, NamespaceType::kNet, TreeFormat::kText);
  EXPECT_THAT(text, HasSubstr("owner not visible: 1 net namespace\n"
                              "    net:[4026532320] ns_id=208 processes=1\n"
                              "            [700]  netns\n"));
}

TEST_F(TreeViewTest, HowAProcesslessNamespaceIsHeld) {
  for (NamespaceInfo& n : graph_.namespaces) {
    if (n.type == NamespaceType::kPid && n.inode == 4026532310) {
      n.held_by = "pid_for_children of 42 (sh\x01)";
    }
  }
  const std::string text =
      RenderTree(*procfs_, graph_, NamespaceType::kPid, TreeFormat::kText);
  EXPECT_THAT(text, HasSubstr("    pid:[4026532310] ns_id=205 processes=0 "
                              "(pid_for_children of 42 (sh\xEF\xBF\xBD))\n"));
  const std::string json =
      RenderTree(*procfs_, graph_, NamespaceType::kPid, TreeFormat::kJson);
  EXPECT_TRUE(JsonChecker::Valid(json));
  EXPECT_THAT(json, HasSubstr(R"("held_by":"pid_for_children of 42 (sh)"
                              "\xEF\xBF\xBD"
                              R"lit()","bind_mounts":[])lit"));
}

TEST(TreeViewSocketTest, ANamespaceHeldOnlyByASocketSaysSo) {
  FakeNamespaceOps ops;
  AddHolders(&ops);
  std::unique_ptr<ProcFs> procfs;
  ASSERT_TRUE(ProcFs::Open(kFixtures + "holders", &procfs).ok());
  Discoverer d(procfs.get(), &ops);
  NamespaceGraph graph;
  ASSERT_TRUE(d.Discover(TreeDiscoveryOptions(true), &graph).ok());
  const std::string text =
      RenderTree(*procfs, graph, NamespaceType::kNet, TreeFormat::kText);
  EXPECT_THAT(text, HasSubstr("net:[4026532603] ns_id=403 processes=0 "
                              "holders=socket:1 (socket 4 of 500 (holder))\n"))
      << text;
  const std::string json =
      RenderTree(*procfs, graph, NamespaceType::kNet, TreeFormat::kJson);
  EXPECT_TRUE(JsonChecker::Valid(json)) << json;
  EXPECT_THAT(json, HasSubstr(R"("holders":{"thread":0,"fd":0,"socket":1,)"
                              R"("bind_mount":0,"for_children":0},)"
                              R"lit("held_by":"socket 4 of 500 (holder)")lit"));
  // Without the switch the socket is not followed.
  ASSERT_TRUE(d.Discover(TreeDiscoveryOptions(false), &graph).ok());
  EXPECT_EQ(graph.Find(NamespaceType::kNet, 4026532603), nullptr);
}

TEST_F(TreeViewTest, HoldersBindMountsAndContainers) {
  graph_.cgroups = {"0::/machine.slice/libpod-abc.scope\n", "0::/user.slice\n",
                    "0::/machine.slice/libpod-abc.scope/x\n"};
  for (NamespaceInfo& n : graph_.namespaces) {
    if (n.type == NamespaceType::kNet && n.inode == kN1) {
      n.holders[static_cast<std::size_t>(HolderKind::kBindMount)] = 1;
      n.holders[static_cast<std::size_t>(HolderKind::kFd)] = 2;
      graph_.SetCgroupMembers({{0, 1}, {1, 3}, {2, 2}}, &n);
    }
  }
  BindMountRecord b;
  b.type = NamespaceType::kNet;
  b.inode = kN1;
  b.mount_ns_inode = kInitMnt;
  b.path = "/run/netns/t\x01";
  b.name = "t\x01";
  graph_.bind_mounts = {b};
  // Two cgroups of one container count together; the host's not at all.
  const CgroupClassifier classify =
      [](const std::string& text) -> std::optional<TreeContainer> {
    if (text.find("libpod-abc") == std::string::npos) return std::nullopt;
    return TreeContainer{"podman", "podman://abc", "", 0};
  };
  const TreeModel model =
      BuildTreeModel(*procfs_, graph_, NamespaceType::kNet, classify);
  const std::string text = RenderTreeText(model, TreeColor::kNever);
  EXPECT_THAT(text,
              HasSubstr("net:[4026532320] ns_id=208 processes=1 "
                        "holders=fd:2,bind_mount:1\n"
                        "                [700]  netns\n"
                        "                bind mount /run/netns/t\xEF\xBF\xBD "
                        "(ip netns t\xEF\xBF\xBD) in mnt:[4026531841]\n"
                        "                container podman://abc runtime=podman "
                        "processes=3\n"));
  const std::string json = RenderTreeJson(model);
  EXPECT_TRUE(JsonChecker::Valid(json)) << json;
  EXPECT_THAT(json, HasSubstr(R"("holders":{"thread":0,"fd":2,"socket":0,)"
                              R"("bind_mount":1,"for_children":0})"));
  EXPECT_THAT(json,
              HasSubstr(R"("containers":[{"runtime":"podman","id":)"
                        R"("podman://abc","pod_uid":null,"processes":3}])"));
  EXPECT_THAT(json, HasSubstr(R"("mount_ns_inode":4026531841)"));
}

TEST_F(TreeViewTest, ExitedMemberIsShownAsExited) {
  for (NamespaceInfo& n : graph_.namespaces) {
    if (n.type == NamespaceType::kPid && n.inode == kP4) {
      n.members.push_back(31337);  // not in the fixture
    }
  }
  const std::string text =
      RenderTree(*procfs_, graph_, NamespaceType::kPid, TreeFormat::kText);
  EXPECT_THAT(text, HasSubstr("                [600 7 1]  inner\n"
                              "                [31337]  (exited)\n"));
  const std::string json =
      RenderTree(*procfs_, graph_, NamespaceType::kPid, TreeFormat::kJson);
  EXPECT_TRUE(JsonChecker::Valid(json)) << json;
  EXPECT_THAT(json, HasSubstr("{\"pid\":31337,\"nstgid\":[31337],"
                              "\"command\":\"\",\"exited\":true}"));
}

TEST_F(TreeViewTest, JsonIsValidForEveryType) {
  for (NamespaceType t : kAllNamespaceTypes) {
    SCOPED_TRACE(NamespaceTypeName(t));
    const std::string json = RenderTree(*procfs_, graph_, t, TreeFormat::kJson);
    EXPECT_TRUE(JsonChecker::Valid(json)) << json;
    EXPECT_THAT(json, HasSubstr("\"type\":\"" +
                                std::string(NamespaceTypeName(t)) + "\""));
  }
}

TEST_F(TreeViewTest, PidJsonContent) {
  const std::string json =
      RenderTree(*procfs_, graph_, NamespaceType::kPid, TreeFormat::kJson);
  ASSERT_TRUE(JsonChecker::Valid(json)) << json;
  EXPECT_EQ(json.rfind("{\"schema_version\":1,\"type\":\"pid\","
                       "\"processes_not_inspected\":0,\"roots\":[{",
                       0),
            0u)
      << json;
  EXPECT_THAT(json, HasSubstr("{\"pid\":502,\"nstgid\":[502,6,2],"
                              "\"command\":\"sleep\",\"exited\":false}"));
  EXPECT_THAT(json,
              HasSubstr("\"type\":\"pid\",\"inode\":4026532310,\"ns_id\":205,"
                        "\"parent_inode\":4026531836,\"owner_inode\":"
                        "4026531837,\"depth\":1,\"processes\":0,"
                        "\"holders\":{\"thread\":0,\"fd\":0,\"socket\":0,"
                        "\"bind_mount\":0,\"for_children\":0},\"held_by\":"
                        "null,\"bind_mounts\":[],\"containers\":[],"
                        "\"members\":[]"));
  // The top has no parent.
  EXPECT_THAT(json, HasSubstr("\"inode\":4026531836,\"ns_id\":5,"
                              "\"parent_inode\":null"));
  EXPECT_EQ(json.back(), '\n');
}

// Decodes one JSON string literal that JsonChecker accepted (no \\u escapes
// other than those below are needed here).
std::string DecodeJsonString(std::string_view literal) {
  std::string out;
  for (std::size_t i = 1; i + 1 < literal.size(); ++i) {
    char c = literal[i];
    if (c == '\\') {
      const char e = literal[++i];
      c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
    }
    out.push_back(c);
  }
  return out;
}

// A procfs root with one process whose status says "name_line" after
// "Name:", as the kernel writes it.
class HostileNameTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tree_view_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "42");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Render(const std::string& name_line, TreeFormat format,
                     const std::string& nstgid_line = "42") {
    std::ofstream(dir_ / "42" / "status")
        << "Name:\t" << name_line << "\nTgid:\t42\nNStgid:\t" << nstgid_line
        << "\n";
    std::unique_ptr<ProcFs> procfs;
    EXPECT_TRUE(ProcFs::Open(dir_.string(), &procfs).ok());
    if (procfs == nullptr) return "";
    NamespaceGraph graph;
    NamespaceInfo n;
    n.type = NamespaceType::kPid;
    n.inode = 4026531836;
    n.processes = 1;
    n.pid = 42;
    n.members = {42};
    graph.namespaces.push_back(n);
    return RenderTree(*procfs, graph, NamespaceType::kPid, format);
  }

  std::filesystem::path dir_;
};

// The comm "a<newline>b<backslash>c<tab>d" as /proc/PID/status shows it:
// the kernel escapes newline and backslash there, and keeps the tab.
constexpr const char* kEscapedByKernel = "a\\nb\\\\c\td";
// What every rendering must say: control characters as U+FFFD, the
// backslash as itself.
constexpr const char* kShown =
    "a\xEF\xBF\xBD"
    "b\\c\xEF\xBF\xBD"
    "d";

TEST_F(HostileNameTest, TextShowsTheSanitisedComm) {
  EXPECT_EQ(Render(kEscapedByKernel, TreeFormat::kText),
            "pid:[4026531836] processes=1\n"
            "        [42]  " +
                std::string(kShown) + "\n");
}

TEST_F(HostileNameTest, JsonDecodesToTheSanitisedComm) {
  const std::string json = Render(kEscapedByKernel, TreeFormat::kJson);
  ASSERT_TRUE(JsonChecker::Valid(json)) << json;
  const std::string key = "\"command\":";
  const std::size_t start = json.find(key);
  ASSERT_NE(start, std::string::npos) << json;
  const std::size_t end = json.find(",\"exited\"", start);
  ASSERT_NE(end, std::string::npos) << json;
  const std::string literal =
      json.substr(start + key.size(), end - start - key.size());
  EXPECT_EQ(DecodeJsonString(literal), kShown) << literal;
}

// The status of a process reaped while it is read: the kernel writes 0 for
// each PID it no longer has.
TEST_F(HostileNameTest, ReleasedProcessIsShownAsExited) {
  EXPECT_EQ(Render("sleep", TreeFormat::kText, "0\t0"),
            "pid:[4026531836] processes=1\n"
            "        [42]  (exited)\n");
  const std::string json = Render("sleep", TreeFormat::kJson, "0");
  EXPECT_TRUE(JsonChecker::Valid(json)) << json;
  EXPECT_THAT(json, HasSubstr("{\"pid\":42,\"nstgid\":[42],"
                              "\"command\":\"\",\"exited\":true}"));
  EXPECT_THAT(Render("sleep", TreeFormat::kJson, "42\t0"),
              HasSubstr("\"exited\":true"));
}

TEST_F(TreeViewTest, ColorOnlyWhenAsked) {
  const TreeModel model = BuildTreeModel(*procfs_, graph_, NamespaceType::kNet);
  const std::string plain = RenderTreeText(model, TreeColor::kNever);
  EXPECT_EQ(plain.find('\x1b'), std::string::npos) << plain;
  const std::string color = RenderTreeText(model, TreeColor::kAlways);
  EXPECT_THAT(color, HasSubstr("\x1b[1mnet:[4026531840]\x1b[0m ns_id=4"));
  EXPECT_THAT(color, HasSubstr("\x1b[2muser:[4026531837] ns_id=7 owner_uid=0 "
                               "owns 1 net namespace\x1b[0m\n"));
  // Without the escape sequences, both say the same.
  std::string stripped;
  for (std::size_t i = 0; i < color.size(); ++i) {
    if (color[i] == '\x1b') {
      i = color.find('m', i);
      continue;
    }
    stripped.push_back(color[i]);
  }
  EXPECT_EQ(stripped, plain);
}

TEST_F(TreeViewTest, ModelNestsAndReadsMembers) {
  const TreeModel model = BuildTreeModel(*procfs_, graph_, NamespaceType::kPid);
  ASSERT_EQ(model.roots.size(), 1u);
  const TreeNode& init = model.roots[0];
  EXPECT_FALSE(init.grouping);
  EXPECT_EQ(init.ns->inode, kInitPid);
  ASSERT_EQ(init.children.size(), 2u);
  EXPECT_EQ(init.children[0].ns->inode, 4026532301u);
  ASSERT_EQ(init.children[0].children.size(), 1u);
  const TreeNode& leaf = init.children[0].children[0];
  ASSERT_EQ(leaf.members.size(), 2u);
  EXPECT_EQ(leaf.members[1].nstgid, (std::vector<pid_t>{502, 6, 2}));
  EXPECT_EQ(leaf.members[1].command, "sleep");
  EXPECT_TRUE(model.unowned.empty());
}

TEST(CountOfTest, SingularOnlyForOne) {
  EXPECT_EQ(CountOf(0, "process", "processes"), "0 processes");
  EXPECT_EQ(CountOf(1, "process", "processes"), "1 process");
  EXPECT_EQ(CountOf(2, "net namespace", "net namespaces"), "2 net namespaces");
}

TEST(DeniedSummaryTest, SingularAndPlural) {
  ScanStats stats;
  EXPECT_EQ(DeniedSummary(stats), "");
  stats.permission_denied = 1;
  EXPECT_EQ(DeniedSummary(stats), "1 process could not be inspected");
  stats.permission_denied = 2;
  stats.first_denied = "pid 1: permission denied";
  EXPECT_EQ(DeniedSummary(stats),
            "2 processes could not be inspected (first: pid 1: permission "
            "denied)");
}

TEST_F(TreeViewTest, EmptyGraph) {
  const NamespaceGraph empty;
  EXPECT_EQ(RenderTree(*procfs_, empty, NamespaceType::kPid, TreeFormat::kText),
            "");
  EXPECT_EQ(RenderTree(*procfs_, empty, NamespaceType::kPid, TreeFormat::kJson),
            "{\"schema_version\":1,\"type\":\"pid\","
            "\"processes_not_inspected\":0,\"roots\":[]}\n");
  EXPECT_EQ(RenderTree(*procfs_, empty, NamespaceType::kNet, TreeFormat::kJson),
            "{\"schema_version\":1,\"type\":\"net\","
            "\"processes_not_inspected\":0,\"roots\":[],\"unowned\":[]}\n");
}

}  // namespace
}  // namespace nsexp
