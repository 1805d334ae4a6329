// Status: the value every fallible call of the exporter returns.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace nsexp {

// A success or an error with a code and a human-readable message.
// Copyable value type; not thread-safe to mutate, safe to share when const.
class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,          // ENOENT, ESRCH, ENOTDIR: for /proc, "it exited"
    kPermissionDenied,  // EACCES, EPERM
    kInvalidArgument,   // EINVAL; malformed input, bad flag or setting
    kUnsupported,       // ENOTTY, ENOSYS: the kernel lacks it
    kUnavailable,       // a resource is busy (EADDRINUSE and the like)
    kIoError,           // everything else
  };

  Status() = default;

  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) {
    return Status(Code::kNotFound, std::move(msg));
  }
  static Status PermissionDenied(std::string msg) {
    return Status(Code::kPermissionDenied, std::move(msg));
  }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status Unsupported(std::string msg) {
    return Status(Code::kUnsupported, std::move(msg));
  }
  static Status Unavailable(std::string msg) {
    return Status(Code::kUnavailable, std::move(msg));
  }
  static Status IoError(std::string msg) {
    return Status(Code::kIoError, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsPermissionDenied() const { return code_ == Code::kPermissionDenied; }
  bool IsUnsupported() const { return code_ == Code::kUnsupported; }

  // "OK", or "<code name>: <message>".
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// Turns an errno value into a Status; the one place errno is mapped.
// "context" names what failed, e.g. "readlink 42/ns/net".
// ENOENT, ESRCH and ENOTDIR map to kNotFound; EACCES and EPERM to
// kPermissionDenied; ENOTTY and ENOSYS to kUnsupported; EADDRINUSE to
// kUnavailable; EINVAL to kInvalidArgument; the rest to kIoError. EINVAL
// stays kInvalidArgument here because most calls give it for a bad
// argument; a caller for which EINVAL means "this kernel lacks the request"
// (an ioctl newer than the kernel, as NS_GET_ID) says so itself.
Status StatusFromErrno(int err, std::string_view context);

}  // namespace nsexp
