// TLS for the web server: an OpenSSL server context made from
// exporter-toolkit's tls_server_config.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace nsexp {

// What tls_server_config asks for, in exporter-toolkit's (Go's) names; the
// config module has checked the names.
struct TlsOptions {
  std::string cert_file;  // PEM: the server certificate, then intermediates
  std::string key_file;   // PEM: its private key
  // NoClientCert (or empty), RequestClientCert, RequireAnyClientCert,
  // VerifyClientCertIfGiven or RequireAndVerifyClientCert, as Go's
  // tls.ClientAuthType.
  std::string client_auth_type;
  // PEM CAs that client certificates are verified against; empty: the
  // system's CAs.
  std::string client_ca_file;
  std::string min_version;  // TLS10..TLS13; empty: TLS12, as exporter-toolkit
  std::string max_version;  // TLS10..TLS13; empty: TLS13
  std::vector<std::string> cipher_suites;      // TLS 1.2; empty: OpenSSL's
  std::vector<std::string> curve_preferences;  // empty: OpenSSL's
  bool prefer_server_cipher_suites = true;
};

// Frees an SSL_CTX.
struct SslCtxFree {
  void operator()(ssl_ctx_st* ctx) const;
};
using SslCtxPtr = std::unique_ptr<ssl_ctx_st, SslCtxFree>;

// Makes a TLS server context from "options": loads the certificate chain
// and key (and the client CAs), sets the protocol versions, cipher suites,
// groups and client-certificate policy. The caller owns *out; it may be
// shared by any number of connections. kInvalidArgument naming the option,
// the file and OpenSSL's reason when a file cannot be read or used (e.g. a
// key that does not match the certificate) or a choice is unknown.
[[nodiscard]] Status NewServerSslContext(const TlsOptions& options,
                                         SslCtxPtr* out);

}  // namespace nsexp
