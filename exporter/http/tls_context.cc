// An OpenSSL 3 server context from tls_server_config (ssl(7),
// SSL_CTX_set_verify(3), SSL_CTX_set_min_proto_version(3)).
#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string_view>

#include "base/tls_names.h"

namespace nsexp {

namespace {

// OpenSSL's error queue as one line, emptied.
std::string SslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// 0 for an unknown name.
int ProtocolVersion(const std::string& name, int if_empty) {
  if (name.empty()) return if_empty;
  if (name == "TLS10") return TLS1_VERSION;
  if (name == "TLS11") return TLS1_1_VERSION;
  if (name == "TLS12") return TLS1_2_VERSION;
  if (name == "TLS13") return TLS1_3_VERSION;
  return 0;
}

// RequestClientCert and RequireAnyClientCert take any certificate, as Go
// does: the chain is not verified.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

}  // namespace

void SslCtxFree::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }

Status NewServerSslContext(const TlsOptions& options, SslCtxPtr* out) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Status::IoError("SSL_CTX_new: " + SslErrors());
  SSL_CTX* c = ctx.get();
  auto fail = [](const std::string& what) {
    return Status::InvalidArgument("tls_server_config: " + what + ": " +
                                   SslErrors());
  };

  // No compression (CRIME) and no renegotiation, whatever the defaults.
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (options.prefer_server_cipher_suites) {
    SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  const int min = ProtocolVersion(options.min_version, TLS1_2_VERSION);
  const int max = ProtocolVersion(options.max_version, TLS1_3_VERSION);
  if (min == 0 || max == 0) {
    return Status::InvalidArgument("tls_server_config: unknown TLS version");
  }
  if (SSL_CTX_set_min_proto_version(c, min) != 1 ||
      SSL_CTX_set_max_proto_version(c, max) != 1) {
    return fail("min_version/max_version");
  }
  if (min < TLS1_2_VERSION) {
    // OpenSSL 3's default security level refuses TLS 1.0 and 1.1 (their
    // handshake signs with SHA-1); asking for them means accepting that.
    SSL_CTX_set_security_level(c, 0);
  }
  if (!options.cipher_suites.empty()) {
    std::string list;
    for (const std::string& name : options.cipher_suites) {
      const auto openssl = OpenSslCipherName(name);
      if (!openssl) {
        return Status::InvalidArgument(
            "tls_server_config.cipher_suites: unknown cipher suite " + name);
      }
      if (!list.empty()) list += ':';
      list += *openssl;
    }
    if (SSL_CTX_set_cipher_list(c, list.c_str()) != 1) {
      return fail("cipher_suites " + list);
    }
  }
  if (!options.curve_preferences.empty()) {
    std::string list;
    for (const std::string& name : options.curve_preferences) {
      const auto openssl = OpenSslGroupName(name);
      if (!openssl) {
        return Status::InvalidArgument(
            "tls_server_config.curve_preferences: unknown curve " + name);
      }
      if (!list.empty()) list += ':';
      list += *openssl;
    }
    if (SSL_CTX_set1_groups_list(c, list.c_str()) != 1) {
      return fail("curve_preferences " + list);
    }
  }

  if (SSL_CTX_use_certificate_chain_file(c, options.cert_file.c_str()) != 1) {
    return fail("cert_file " + options.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(c, options.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return fail("key_file " + options.key_file +
                  " does not match cert_file " + options.cert_file);
    }
    return fail("key_file " + options.key_file);
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return fail("key_file " + options.key_file + " does not match cert_file " +
                options.cert_file);
  }

  const std::string& type = options.client_auth_type;
  const bool verify =
      type == "VerifyClientCertIfGiven" || type == "RequireAndVerifyClientCert";
  const bool any =
      type == "RequestClientCert" || type == "RequireAnyClientCert";
  if (!verify && !any && !type.empty() && type != "NoClientCert") {
    return Status::InvalidArgument(
        "tls_server_config: unknown client_auth_type " + type);
  }
  if (!options.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c, options.client_ca_file.c_str(),
                                      nullptr) != 1) {
      return fail("client_ca_file " + options.client_ca_file);
    }
    // The CA names the server sends, so that a client picks the right
    // certificate. SSL_CTX_set_client_CA_list takes ownership.
    STACK_OF(X509_NAME)* names =
        SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names == nullptr)
      return fail("client_ca_file " + options.client_ca_file);
    SSL_CTX_set_client_CA_list(c, names);
  } else if (verify && SSL_CTX_set_default_verify_paths(c) != 1) {
    return fail("the system's CA certificates");
  }
  if (verify || any) {
    int mode = SSL_VERIFY_PEER;
    if (type == "RequireAnyClientCert" ||
        type == "RequireAndVerifyClientCert") {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(c, mode, any ? &AcceptAnyCertificate : nullptr);
    // A resumed session must keep the client-certificate decision; OpenSSL
    // refuses to resume without an id context when peers are verified.
    static constexpr unsigned char kSessionContext[] = "nsexp";
    SSL_CTX_set_session_id_context(c, kSessionContext,
                                   sizeof kSessionContext - 1);
  }
  *out = std::move(ctx);
  return Status::Ok();
}

}  // namespace nsexp
