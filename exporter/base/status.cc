// Status and the errno mapping.
#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace nsexp {

namespace {

const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "not found";
    case Status::Code::kPermissionDenied:
      return "permission denied";
    case Status::Code::kInvalidArgument:
      return "invalid argument";
    case Status::Code::kUnsupported:
      return "unsupported";
    case Status::Code::kUnavailable:
      return "unavailable";
    case Status::Code::kIoError:
      return "I/O error";
  }
  return "unknown";
}

}  // namespace

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = CodeName(code_);
  out += ": ";
  out += message_;
  return out;
}

Status StatusFromErrno(int err, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  // strerror_r has two incompatible signatures; strerrordesc_np is glibc-only
  // and, unlike strerror, thread-safe.
  const char* desc = strerrordesc_np(err);
  msg += desc != nullptr ? desc : "unknown error";
  switch (err) {
    case 0:
      return Status::Ok();
    case ENOENT:
    case ESRCH:
    case ENOTDIR:
      return Status::NotFound(std::move(msg));
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(std::move(msg));
    case ENOTTY:
    case ENOSYS:
      return Status::Unsupported(std::move(msg));
    case EADDRINUSE:
      return Status::Unavailable(std::move(msg));
    case EINVAL:
      return Status::InvalidArgument(std::move(msg));
    default:
      return Status::IoError(std::move(msg));
  }
}

}  // namespace nsexp
