// Tests of ParseTreeQuery: the /tree parameters, their defaults, CivetWeb's
// decoding, and the refusal of anything else.
#include "http/tree_query.h"

#include <gtest/gtest.h>

#include <string>

namespace nsexp {
namespace {

TreeQuery Parse(const std::string& query, const std::string& accept = "") {
  TreeQuery q;
  const Status s = ParseTreeQuery(query, accept, &q);
  EXPECT_TRUE(s.ok()) << query << ": " << s.ToString();
  return q;
}

TEST(TreeQueryTest, DefaultsArePidAndText) {
  EXPECT_EQ(Parse(""), (TreeQuery{NamespaceType::kPid, TreeBodyFormat::kText}));
}

TEST(TreeQueryTest, ReadsTypeAndFormat) {
  EXPECT_EQ(Parse("type=user&format=json"),
            (TreeQuery{NamespaceType::kUser, TreeBodyFormat::kJson}));
  EXPECT_EQ(Parse("format=html&type=net"),
            (TreeQuery{NamespaceType::kNet, TreeBodyFormat::kHtml}));
  // Other parameters (the page's filter) are left to the page.
  EXPECT_EQ(Parse("filter=a+b&type=mnt"),
            (TreeQuery{NamespaceType::kMnt, TreeBodyFormat::kText}));
}

TEST(TreeQueryTest, BrowsersGetHtmlUnlessTheyAskForAFormat) {
  const std::string accept = "text/html,application/xhtml+xml,*/*;q=0.8";
  EXPECT_EQ(Parse("", accept).format, TreeBodyFormat::kHtml);
  EXPECT_EQ(Parse("format=text", accept).format, TreeBodyFormat::kText);
  EXPECT_EQ(Parse("", "application/json").format, TreeBodyFormat::kText);
}

TEST(TreeQueryTest, ValuesArePercentDecodedAndNamesCaseInsensitive) {
  EXPECT_EQ(Parse("type=%75ser&format=j%73on"),
            (TreeQuery{NamespaceType::kUser, TreeBodyFormat::kJson}));
  EXPECT_EQ(Parse("TYPE=uts").type, NamespaceType::kUts);
}

TEST(TreeQueryTest, TheFirstOccurrenceCounts) {
  EXPECT_EQ(Parse("type=ipc&type=user").type, NamespaceType::kIpc);
  // "xtype" is another parameter.
  EXPECT_EQ(Parse("xtype=user").type, NamespaceType::kPid);
}

TEST(TreeQueryTest, RefusesUnknownValuesWithTheClientsMessage) {
  for (const std::string q :
       {"type=users", "type=", "format=xml", "format=HTML", "type=net%00"}) {
    TreeQuery out{NamespaceType::kNet, TreeBodyFormat::kJson};
    const Status s = ParseTreeQuery(q, "", &out);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << q;
    EXPECT_EQ(s.message(),
              "want type cgroup, ipc, mnt, net, pid, time, user or uts and "
              "format text, json or html")
        << q;
  }
}

}  // namespace
}  // namespace nsexp
