// WebConfig: the Prometheus exporter-toolkit web configuration file
// (--web.config.file), parsed into plain structs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace nsexp {

// tls_server_config, as exporter-toolkit spells it. Served by http/ (see
// TlsOptions there); the names are checked here, so that a mistake is
// reported with its position. Not supported, and so refused as unknown
// keys: inline cert/key and client_allowed_sans.
struct TlsServerConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_auth_type;  // empty, or one of Go's tls.ClientAuthType
  std::string client_ca_file;    // set only with a client_auth_type that asks
  std::string min_version;  // TLS10 | TLS11 | TLS12 | TLS13, empty = default
  std::string max_version;  // not below min_version
  std::vector<std::string> cipher_suites;      // Go's names, TLS 1.2 only
  std::vector<std::string> curve_preferences;  // Go's tls.CurveID names
  bool prefer_server_cipher_suites = true;
};

// http_server_config.
struct HttpServerConfig {
  // Extra response headers; only those exporter-toolkit allows
  // (Content-Security-Policy, Strict-Transport-Security,
  // X-Content-Type-Options, X-Frame-Options, X-XSS-Protection).
  std::map<std::string, std::string> headers;
  bool http2 = true;  // accepted for compatibility; CivetWeb serves HTTP/1.1
};

struct WebConfig {
  // User name -> bcrypt hash ($2a$, $2b$ or $2y$). Empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
  bool has_tls = false;      // the file has a tls_server_config section
  std::string tls_location;  // "NAME:LINE:COLUMN" of that section
  TlsServerConfig tls;
  HttpServerConfig http;
};

// Parses the YAML text of a web configuration file into *out, as strictly
// as exporter-toolkit does: unknown keys, wrong types, duplicate keys,
// malformed bcrypt hashes, headers that may not be set and invalid TLS
// choices are errors. "name" (usually the path) prefixes every message,
// which has the form "NAME:LINE:COLUMN: what was found, what was expected".
// An empty document is valid (no authentication). kInvalidArgument on any
// error. Pure; never throws.
[[nodiscard]] Status ParseWebConfig(const std::string& text,
                                    const std::string& name, WebConfig* out);

// kUnsupported when "config" asks for something this exporter cannot
// serve; Ok otherwise. Today every file ParseWebConfig() accepts is served.
// Pure.
[[nodiscard]] Status CheckWebConfigSupported(const WebConfig& config,
                                             const std::string& name);

// Reads and parses the file at "path", then CheckWebConfigSupported().
// Relative TLS file names become relative to the directory of "path", as
// exporter-toolkit reads them.
// kNotFound / kPermissionDenied / kIoError when the file cannot be read,
// kInvalidArgument for a directory; the errors of ParseWebConfig and
// CheckWebConfigSupported otherwise.
[[nodiscard]] Status LoadWebConfigFile(const std::string& path, WebConfig* out);

}  // namespace nsexp
