// Tests of the listen address and telemetry path checks that the
// configuration and the server share.
#include "base/listen_address.h"

#include <gtest/gtest.h>

#include <string>

namespace nsexp {
namespace {

struct GoodCase {
  const char* address;
  const char* host;
  int port;
};

TEST(ParseListenAddressTest, Accepts) {
  for (const GoodCase& c :
       {GoodCase{":19101", "", 19101}, GoodCase{":0", "", 0},
        GoodCase{"127.0.0.1:0", "127.0.0.1", 0},
        GoodCase{"localhost:9", "localhost", 9},
        GoodCase{"my-host.example:65535", "my-host.example", 65535},
        GoodCase{"[::1]:9", "[::1]", 9}, GoodCase{"[::]:19101", "[::]", 19101},
        GoodCase{":09101", "", 9101}}) {
    ListenAddress got;
    const Status s = ParseListenAddress(c.address, &got);
    ASSERT_TRUE(s.ok()) << c.address << ": " << s.ToString();
    EXPECT_EQ(got.host, c.host) << c.address;
    EXPECT_EQ(got.port, c.port) << c.address;
  }
}

struct BadCase {
  const char* address;
  const char* why;
};

TEST(ParseListenAddressTest, RefusesWithTheAddressAndTheReason) {
  for (const BadCase& c :
       {BadCase{"", "want [host]:port"},
        BadCase{"localhost", "want [host]:port"},
        BadCase{"19101", "want [host]:port"},
        BadCase{":", "port must be a number 0-65535"},
        BadCase{":65536", "port must be a number 0-65535"},
        BadCase{":99999", "port must be a number 0-65535"},
        BadCase{":123456", "port must be a number 0-65535"},
        BadCase{":-1", "port must be a number 0-65535"},
        BadCase{":http", "port must be a number 0-65535"},
        BadCase{"::1:9", "put an IPv6 host in brackets"},
        BadCase{"[]:9", "malformed host"}, BadCase{"a b:9", "malformed host"},
        BadCase{"host/x:9", "malformed host"}}) {
    ListenAddress got;
    got.port = 7;
    const Status s = ParseListenAddress(c.address, &got);
    ASSERT_FALSE(s.ok()) << c.address;
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << c.address;
    EXPECT_NE(s.message().find(std::string("\"") + c.address + "\""),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find(c.why), std::string::npos) << s.message();
    EXPECT_EQ(got.port, 7) << c.address << ": *out changed on error";
  }
}

TEST(CheckTelemetryPathTest, WantsALeadingSlash) {
  EXPECT_TRUE(CheckTelemetryPath("/metrics").ok());
  EXPECT_TRUE(CheckTelemetryPath("/").ok());
  for (const char* bad : {"", "metrics", " /metrics"}) {
    const Status s = CheckTelemetryPath(bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("must start with '/'"), std::string::npos)
        << s.message();
  }
}

}  // namespace
}  // namespace nsexp
