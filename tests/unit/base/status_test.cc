// Tests of Status and the one errno mapping.
#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace nsexp {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  struct Case {
    Status status;
    Status::Code code;
    std::string text;
  };
  const Case cases[] = {
      {Status::NotFound("a"), Status::Code::kNotFound, "not found: a"},
      {Status::PermissionDenied("b"), Status::Code::kPermissionDenied,
       "permission denied: b"},
      {Status::InvalidArgument("c"), Status::Code::kInvalidArgument,
       "invalid argument: c"},
      {Status::Unsupported("d"), Status::Code::kUnsupported, "unsupported: d"},
      {Status::Unavailable("e"), Status::Code::kUnavailable, "unavailable: e"},
      {Status::IoError("f"), Status::Code::kIoError, "I/O error: f"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.ToString(), c.text);
    EXPECT_EQ(c.status.IsNotFound(), c.code == Status::Code::kNotFound);
    EXPECT_EQ(c.status.IsPermissionDenied(),
              c.code == Status::Code::kPermissionDenied);
    EXPECT_EQ(c.status.IsUnsupported(), c.code == Status::Code::kUnsupported);
  }
}

TEST(StatusFromErrnoTest, MapsEveryDocumentedErrno) {
  struct Case {
    int err;
    Status::Code code;
  };
  const Case cases[] = {
      {ENOENT, Status::Code::kNotFound},
      {ESRCH, Status::Code::kNotFound},
      {ENOTDIR, Status::Code::kNotFound},
      {EACCES, Status::Code::kPermissionDenied},
      {EPERM, Status::Code::kPermissionDenied},
      {ENOTTY, Status::Code::kUnsupported},
      {ENOSYS, Status::Code::kUnsupported},
      {EADDRINUSE, Status::Code::kUnavailable},
      {EINVAL, Status::Code::kInvalidArgument},
      {EIO, Status::Code::kIoError},
      {EMFILE, Status::Code::kIoError},
      {ENOMEM, Status::Code::kIoError},
      {ELOOP, Status::Code::kIoError},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.err);
    const Status s = StatusFromErrno(c.err, "readlink 42/ns/net");
    EXPECT_EQ(s.code(), c.code);
  }
}

TEST(StatusFromErrnoTest, ZeroIsOk) {
  const Status s = StatusFromErrno(0, "nothing");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(StatusFromErrnoTest, MessageNamesContextAndError) {
  const Status s = StatusFromErrno(ENOENT, "readlink 42/ns/net");
  EXPECT_EQ(s.message(), "readlink 42/ns/net: No such file or directory");
  EXPECT_EQ(s.ToString(),
            "not found: readlink 42/ns/net: No such file or directory");
}

TEST(StatusFromErrnoTest, UnknownErrnoStillDescribed) {
  const Status s = StatusFromErrno(99999, "ioctl");
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_EQ(s.message(), "ioctl: unknown error");
}

TEST(StatusTest, CopiesAreIndependent) {
  Status a = Status::NotFound("x");
  Status b = a;
  a = Status::Ok();
  EXPECT_TRUE(a.ok());
  EXPECT_TRUE(b.IsNotFound());
  EXPECT_EQ(b.message(), "x");
}

}  // namespace
}  // namespace nsexp
