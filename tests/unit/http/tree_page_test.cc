// Tests of RenderTreePage and its Content-Security-Policy: structure,
// escaping once, the nonce, folding by depth.
#include "http/tree_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <regex>
#include <string>

namespace nsexp {
namespace {

using testing::HasSubstr;
using testing::Not;

class TreePageTest : public testing::Test {
 protected:
  // A pid namespace chain init > a > b, with b holding no process.
  void SetUp() override {
    NamespaceInfo& init = Add(4026531836, std::nullopt, 0, 1);
    NamespaceInfo& a = Add(4026532301, 4026531836, 1, 1);
    NamespaceInfo& b = Add(4026532302, 4026532301, 2, 0);
    TreeNode leaf;
    leaf.ns = &b;
    leaf.held_by = "pid_for_children of 9 (sh)";
    TreeNode mid;
    mid.ns = &a;
    mid.members = {{500, false, {500, 1}, "a\"b<c>&d"}};
    mid.containers = {{"podman", "podman://0123456789abcdef", "", 1}};
    mid.children = {leaf};
    TreeNode top;
    top.ns = &init;
    top.members = {{1, false, {1}, "systemd"}};
    top.children = {mid};
    model_.type = NamespaceType::kPid;
    model_.roots = {top};
    options_.nonce = "bm9uY2U=";
    options_.version = "1.2.3";
  }

  NamespaceInfo& Add(std::uint64_t inode, std::optional<std::uint64_t> parent,
                     std::uint32_t depth, std::uint32_t processes) {
    NamespaceInfo n;
    n.type = NamespaceType::kPid;
    n.inode = inode;
    n.ns_id = inode - 4026531000;
    n.parent_inode = parent;
    n.depth = depth;
    n.processes = processes;
    infos_.push_back(n);
    return infos_.back();
  }

  std::deque<NamespaceInfo> infos_;  // stable addresses for the nodes
  TreeModel model_;
  TreePageOptions options_;
};

TEST_F(TreePageTest, OneDetailsPerNamespaceNestedWithParents) {
  const std::string page = RenderTreePage(model_, options_);
  const std::regex details("<details class=\"ns[^\"]*\"[^>]*data-inode=\"");
  EXPECT_EQ(
      std::distance(std::sregex_iterator(page.begin(), page.end(), details),
                    std::sregex_iterator()),
      3);
  EXPECT_THAT(page, HasSubstr("data-type=\"pid\" data-inode=\"4026532302\" "
                              "data-parent=\"4026532301\""));
  EXPECT_THAT(page, HasSubstr("data-type=\"pid\" data-inode=\"4026531836\" "
                              "data-parent=\"\""));
  // The child's element is inside its parent's.
  const std::size_t parent = page.find("data-inode=\"4026532301\"");
  const std::size_t child = page.find("data-inode=\"4026532302\"");
  const std::size_t parent_end = page.find("</details>\n</div></details>");
  EXPECT_LT(parent, child);
  EXPECT_LT(child, parent_end);
}

TEST_F(TreePageTest, FoldsBelowTheOpenDepthAndMarksEmpty) {
  options_.open_depth = 2;
  const std::string page = RenderTreePage(model_, options_);
  EXPECT_THAT(page, HasSubstr("<details class=\"ns\" open data-open=\"1\" "
                              "data-type=\"pid\" data-inode=\"4026532301\""));
  EXPECT_THAT(page, HasSubstr("<details class=\"ns empty\" data-open=\"0\" "
                              "data-type=\"pid\" data-inode=\"4026532302\""));
  EXPECT_THAT(page, HasSubstr("<span class=\"chip none\">no processes</span>"));
  EXPECT_THAT(page, HasSubstr("<span class=\"chip\">1 process</span>"));
  EXPECT_THAT(page, HasSubstr("<span class=\"chip\">depth 2</span>"));
  EXPECT_THAT(page, HasSubstr("<span class=\"chip\">ns_id 1302</span>"));
}

TEST_F(TreePageTest, EscapesSystemStringsOnce) {
  options_.filter = "x\"><script>";
  const std::string page = RenderTreePage(model_, options_);
  EXPECT_THAT(page, HasSubstr("<span class=\"cmd\">a&quot;b&lt;c&gt;&amp;d"
                              "</span>"));
  EXPECT_THAT(page, Not(HasSubstr("&amp;lt;")));
  EXPECT_THAT(page, HasSubstr("value=\"x&quot;&gt;&lt;script&gt;\""));
  // The search text is lower-cased ASCII, escaped the same way.
  EXPECT_THAT(page, HasSubstr("data-search=\"pid:[4026532301]\na&quot;b&lt;c"
                              "&gt;&amp;d\n"));
  EXPECT_THAT(page, HasSubstr("<span class=\"nstgid\">[500 1]</span>"));
}

TEST_F(TreePageTest, InlineStyleAndScriptCarryTheNonce) {
  const std::string page = RenderTreePage(model_, options_);
  EXPECT_THAT(page, HasSubstr("<style nonce=\"bm9uY2U=\">"));
  EXPECT_THAT(page, HasSubstr("<script nonce=\"bm9uY2U=\">"));
  EXPECT_THAT(page, Not(HasSubstr("http://")));
  EXPECT_THAT(page, Not(HasSubstr("https://")));
  EXPECT_THAT(page, Not(HasSubstr(" style=\"")));  // CSP forbids those
  EXPECT_THAT(page, HasSubstr("<option value=\"pid\" selected>pid</option>"));
  EXPECT_THAT(page, HasSubstr("3 pid namespaces, 2 member processes"));
}

TEST_F(TreePageTest, ContainersAndHoldersAreShownAndSearchable) {
  infos_[2].holders[static_cast<std::size_t>(HolderKind::kForChildren)] = 1;
  const std::string page = RenderTreePage(model_, options_);
  EXPECT_THAT(page, HasSubstr("<span class=\"chip ct\">podman "
                              "0123456789ab</span>"));
  EXPECT_THAT(page, HasSubstr("<li class=\"container\">container <code>"
                              "podman://0123456789abcdef</code> runtime "
                              "podman, 1 process</li>"));
  EXPECT_THAT(page, HasSubstr("\npodman://0123456789abcdef\npodman\n"));
  EXPECT_THAT(page, HasSubstr("<span class=\"chip holder\">held by 1 "
                              "for_children link</span>"));
  EXPECT_THAT(page, HasSubstr("<li>held by pid_for_children of 9 (sh)</li>"));
}

// A thousand namespaces, ten under each of a hundred under the top: only
// the first two levels start open, and the page stays small.
TEST(TreePageScaleTest, AThousandNamespacesStartFolded) {
  std::deque<NamespaceInfo> infos;
  auto info = [&infos](std::uint64_t inode, std::uint32_t depth) {
    NamespaceInfo n;
    n.type = NamespaceType::kPid;
    n.inode = inode;
    n.depth = depth;
    n.processes = 1;
    infos.push_back(n);
    return &infos.back();
  };
  TreeNode top;
  top.ns = info(1, 0);
  for (std::uint64_t i = 0; i < 100; ++i) {
    TreeNode mid;
    mid.ns = info(100 + i, 1);
    mid.members = {{static_cast<pid_t>(1000 + i), false, {1}, "sh"}};
    for (std::uint64_t k = 0; k < 9; ++k) {
      TreeNode leaf;
      leaf.ns = info(10000 + i * 10 + k, 2);
      leaf.members = {
          {static_cast<pid_t>(20000 + i * 10 + k), false, {1}, "sleep"}};
      mid.children.push_back(leaf);
    }
    top.children.push_back(mid);
  }
  TreeModel model;
  model.roots = {top};
  TreePageOptions options;
  options.nonce = "n";
  const std::string page = RenderTreePage(model, options);
  std::size_t details = 0, open = 0;
  for (std::size_t at = 0;
       (at = page.find("<details class=\"ns", at)) != std::string::npos; ++at) {
    ++details;
    if (page.compare(page.find('"', at + 17) + 1, 5, " open") == 0) ++open;
  }
  EXPECT_EQ(details, 1001u);
  EXPECT_EQ(open, 101u);  // the top and its hundred children
  EXPECT_LT(page.size(), 1000u * 1000u);
}

TEST(TreePagePolicyTest, OnlyTheNonceAndSelf) {
  EXPECT_EQ(TreePageContentSecurityPolicy("abc"),
            "default-src 'none'; style-src 'nonce-abc'; script-src "
            "'nonce-abc'; img-src data:; form-action 'self'; base-uri "
            "'none'; frame-ancestors 'none'");
}

TEST(TreePageNonceTest, FreshBase64) {
  std::string a, b;
  ASSERT_TRUE(TreePageNonce(&a).ok());
  ASSERT_TRUE(TreePageNonce(&b).ok());
  EXPECT_EQ(a.size(), 24u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::regex_match(a, std::regex("[A-Za-z0-9+/]+=*")));
}

}  // namespace
}  // namespace nsexp
