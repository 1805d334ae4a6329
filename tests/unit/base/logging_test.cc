// Tests of the log line formats (logfmt and JSON) and option parsing.
#include "base/logging.h"

#include <gtest/gtest.h>

#include <string>

namespace nsexp {
namespace {

constexpr const char* kTs = "2026-01-02T03:04:05.678Z";

TEST(ParseLogOptionsTest, KnownNamesOnly) {
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("INFO"), std::nullopt);
  EXPECT_EQ(ParseLogLevel(""), std::nullopt);
  EXPECT_EQ(ParseLogFormat("logfmt"), LogFormat::kLogfmt);
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("text"), std::nullopt);
}

TEST(LogEnabledTest, HonoursMinimumLevel) {
  SetLogOptions(LogLevel::kWarn, LogFormat::kLogfmt);
  EXPECT_FALSE(LogEnabled(LogLevel::kDebug));
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kWarn));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  SetLogOptions(LogLevel::kDebug, LogFormat::kLogfmt);
  EXPECT_TRUE(LogEnabled(LogLevel::kDebug));
  SetLogOptions(LogLevel::kInfo, LogFormat::kLogfmt);
}

TEST(FormatLogLineTest, LogfmtPlainValuesUnquoted) {
  EXPECT_EQ(FormatLogLine(LogFormat::kLogfmt, kTs, LogLevel::kInfo, "started",
                          {{"address", ":19101"}, {"pid", "42"}}),
            "ts=2026-01-02T03:04:05.678Z level=info msg=started "
            "address=:19101 pid=42\n");
}

TEST(FormatLogLineTest, LogfmtQuotesAndEscapes) {
  struct Case {
    const char* value;
    const char* want;
  };
  const Case cases[] = {
      {"two words", "\"two words\""},
      {"", "\"\""},
      {"a=b", "\"a=b\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"back\\slash", "\"back\\\\slash\""},
      {"tab\there", "\"tab\\there\""},
      {"new\nline", "\"new\xEF\xBF\xBDline\""},
      {"caf\xC3\xA9", "\"caf\xC3\xA9\""},
      {"bad\xFF", "\"bad\xEF\xBF\xBD\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(
        FormatLogLine(LogFormat::kLogfmt, kTs, LogLevel::kWarn, "m",
                      {{"v", c.value}}),
        std::string("ts=") + kTs + " level=warn msg=m v=" + c.want + "\n");
  }
}

TEST(FormatLogLineTest, LogfmtMessageWithSpacesIsQuoted) {
  EXPECT_EQ(FormatLogLine(LogFormat::kLogfmt, kTs, LogLevel::kError,
                          "scrape failed", {}),
            std::string("ts=") + kTs + " level=error msg=\"scrape failed\"\n");
}

TEST(FormatLogLineTest, JsonAllValuesQuoted) {
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, kTs, LogLevel::kDebug, "walk done",
                          {{"processes", "9500"}, {"err", "x"}}),
            std::string("{\"ts\":\"") + kTs +
                "\",\"level\":\"debug\",\"msg\":\"walk done\","
                "\"processes\":\"9500\",\"err\":\"x\"}\n");
}

TEST(FormatLogLineTest, JsonEscapesQuotesBackslashesAndControls) {
  const std::string line = FormatLogLine(LogFormat::kJson, kTs, LogLevel::kInfo,
                                         "m", {{"v", "q\"b\\t\tn\nz\x01"}});
  EXPECT_EQ(line, std::string("{\"ts\":\"") + kTs +
                      "\",\"level\":\"info\",\"msg\":\"m\","
                      "\"v\":\"q\\\"b\\\\t\\tn\xEF\xBF\xBDz\xEF\xBF\xBD\"}\n");
  // No raw control byte may reach a JSON string.
  for (std::size_t i = 0; i + 1 < line.size(); ++i) {
    EXPECT_GE(static_cast<unsigned char>(line[i]), 0x20) << "at " << i;
  }
}

TEST(FormatLogLineTest, JsonInvalidUtf8Replaced) {
  const std::string line =
      FormatLogLine(LogFormat::kJson, kTs, LogLevel::kInfo, "comm \xC0\xAF",
                    {{"k\xFF", "\xED\xA0\x80"}});
  EXPECT_EQ(line, std::string("{\"ts\":\"") + kTs +
                      "\",\"level\":\"info\",\"msg\":\"comm "
                      "\xEF\xBF\xBD\xEF\xBF\xBD\",\"k\xEF\xBF\xBD\":"
                      "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}\n");
}

TEST(FormatLogLineTest, LongValuesAreBounded) {
  const std::string big(10000, 'x');
  const std::string line =
      FormatLogLine(LogFormat::kJson, kTs, LogLevel::kInfo, "m", {{"v", big}});
  EXPECT_LT(line.size(), 5000u);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line[line.size() - 2], '}');
}

}  // namespace
}  // namespace nsexp
