// Tests of the pure parsers behind the process_* metrics.
#include "collector/process_metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace nsexp {
namespace {

// A /proc/PID/stat line (Linux 6.x, 52 fields) with the given comm; utime
// 1234, stime 567, starttime 98765, vsize 123456789, rss 2048.
std::string StatLine(const std::string& comm) {
  return "4242 (" + comm +
         ") S 1 4242 4242 0 -1 4194560 1500 0 3 0 1234 567 0 0 20 0 4 0 "
         "98765 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 "
         "16387 0 0 0 17 2 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
}

TEST(ParseSelfStatTest, PlainComm) {
  SelfStat st;
  ASSERT_TRUE(ParseSelfStat(StatLine("linux_namespace"), &st).ok());
  EXPECT_EQ(st.utime_ticks, 1234u);
  EXPECT_EQ(st.stime_ticks, 567u);
  EXPECT_EQ(st.starttime_ticks, 98765u);
  EXPECT_EQ(st.vsize_bytes, 123456789u);
  EXPECT_EQ(st.rss_pages, 2048u);
}

TEST(ParseSelfStatTest, CommWithSpacesAndParentheses) {
  for (const char* comm : {"a b", "x) S 9 9 9", "((", ") )", ""}) {
    SCOPED_TRACE(comm);
    SelfStat st;
    ASSERT_TRUE(ParseSelfStat(StatLine(comm), &st).ok());
    EXPECT_EQ(st.utime_ticks, 1234u);
    EXPECT_EQ(st.stime_ticks, 567u);
    EXPECT_EQ(st.starttime_ticks, 98765u);
    EXPECT_EQ(st.vsize_bytes, 123456789u);
    EXPECT_EQ(st.rss_pages, 2048u);
  }
}

TEST(ParseSelfStatTest, Malformed) {
  const std::string cases[] = {
      "",
      "4242 (x",
      "4242 (x)",
      "4242 (x) S 1 2 3",           // too few fields
      StatLine("x").substr(0, 60),  // cut short
  };
  for (const std::string& text : cases) {
    SelfStat st;
    EXPECT_FALSE(ParseSelfStat(text, &st).ok()) << text;
  }
  std::string bad = StatLine("x");
  bad.replace(bad.find(" 1234 "), 6, " 12a4 ");
  SelfStat st;
  EXPECT_EQ(ParseSelfStat(bad, &st).code(), Status::Code::kInvalidArgument);
}

TEST(ParseBootTimeTest, FindsBtime) {
  EXPECT_EQ(ParseBootTime("cpu  10 20 30 40 0 0 0 0 0 0\n"
                          "cpu0 5 10 15 20 0 0 0 0 0 0\n"
                          "intr 12345 0 0\n"
                          "ctxt 987654\n"
                          "btime 1700000000\n"
                          "processes 5000\n"
                          "procs_running 2\n"),
            std::optional<std::uint64_t>(1700000000));
  EXPECT_EQ(ParseBootTime("btime 1700000001"),  // no newline
            std::optional<std::uint64_t>(1700000001));
}

TEST(ParseBootTimeTest, MissingOrMalformed) {
  EXPECT_EQ(ParseBootTime(""), std::nullopt);
  EXPECT_EQ(ParseBootTime("cpu 1 2 3\nprocesses 5\n"), std::nullopt);
  EXPECT_EQ(ParseBootTime("btime soon\n"), std::nullopt);
  EXPECT_EQ(ParseBootTime("btime \n"), std::nullopt);
  // A key that only starts like "btime" is not it.
  EXPECT_EQ(ParseBootTime("btimex 5\n"), std::nullopt);
}

constexpr const char* kLimits =
    "Limit                     Soft Limit           Hard Limit           "
    "Units     \n"
    "Max cpu time              unlimited            unlimited            "
    "seconds   \n"
    "Max file size             unlimited            unlimited            "
    "bytes     \n"
    "Max processes             63229                63229                "
    "processes \n"
    "Max open files            1024                 524288               "
    "files     \n"
    "Max locked memory         8388608              8388608              "
    "bytes     \n";

TEST(ParseMaxOpenFilesTest, SoftLimit) {
  EXPECT_EQ(ParseMaxOpenFiles(kLimits), std::optional<std::uint64_t>(1024));
}

TEST(ParseMaxOpenFilesTest, UnlimitedOrAbsent) {
  EXPECT_EQ(ParseMaxOpenFiles("Limit                     Soft Limit           "
                              "Hard Limit           Units     \n"
                              "Max open files            unlimited            "
                              "unlimited            files     \n"),
            std::nullopt);
  EXPECT_EQ(ParseMaxOpenFiles(""), std::nullopt);
  EXPECT_EQ(ParseMaxOpenFiles("Max processes 100 100 processes\n"),
            std::nullopt);
}

}  // namespace
}  // namespace nsexp
