// The web settings that both the configuration and the HTTP server check:
// the listen address and the telemetry path. One parser each, so that
// --config.check accepts exactly what the server will take.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace nsexp {

// A parsed "[host]:port". Plain value.
struct ListenAddress {
  // Empty for every interface (":19101"); an IPv6 host keeps its brackets
  // ("[::1]"); otherwise a name or IPv4 address of letters, digits, '.' and
  // '-'.
  std::string host;
  std::uint16_t port = 0;  // 0: any free port
};

// Parses "[host]:port" as --web.listen-address and web.listen_address take
// it: ":19101", "127.0.0.1:0", "localhost:9", "[::1]:9". kInvalidArgument,
// with the address and what is wrong, for anything else (no colon, a port
// that is not a number 0-65535, an IPv6 host without brackets, other
// characters in the host). Pure; never throws.
[[nodiscard]] Status ParseListenAddress(const std::string& address,
                                        ListenAddress* out);

// Ok when "path" can be the telemetry path (it starts with '/');
// kInvalidArgument otherwise. Pure.
[[nodiscard]] Status CheckTelemetryPath(const std::string& path);

}  // namespace nsexp
