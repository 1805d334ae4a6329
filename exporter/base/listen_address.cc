// The listen address and telemetry path checks.
#include "base/listen_address.h"

#include <cctype>

namespace nsexp {

Status ParseListenAddress(const std::string& address, ListenAddress* out) {
  const auto invalid = [&address](const std::string& why) {
    return Status::InvalidArgument("listen address \"" + address +
                                   "\": " + why);
  };
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return invalid("want [host]:port");
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    return invalid("port must be a number 0-65535");
  }
  if (!host.empty() &&
      !(host.front() == '[' && host.back() == ']' && host.size() > 2)) {
    if (host.find(':') != std::string::npos) {
      return invalid("put an IPv6 host in brackets");
    }
    for (char c : host) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
            c == '-')) {
        return invalid("malformed host");
      }
    }
  }
  out->host = host;
  out->port = static_cast<std::uint16_t>(std::stoul(port));
  return Status::Ok();
}

Status CheckTelemetryPath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Status::InvalidArgument("telemetry path \"" + path +
                                   "\": must start with '/'");
  }
  return Status::Ok();
}

}  // namespace nsexp
