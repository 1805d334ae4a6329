// An OpenSSL 3 server context from tls_server_config (ssl(7),
// SSL_CTX_set_verify(3), SSL_CTX_set_min_proto_version(3)).
#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/logging.h"
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

// What stat(2) says of "path", as text that changes whenever the file is
// replaced or rewritten; "-" when it cannot be stat'ed.
std::string FileSignature(const std::string& path) {
  if (path.empty()) return "";
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "-";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_ctim.tv_sec) + "." +
         std::to_string(st.st_ctim.tv_nsec);
}

std::string FilesSignature(const TlsOptions& options) {
  return FileSignature(options.cert_file) + "|" +
         FileSignature(options.key_file) + "|" +
         FileSignature(options.client_ca_file);
}

// The TLS 1.2 cipher list of "ctx" as OpenSSL's names, ":"-separated: what
// a connection moved to that context must offer.
std::string Tls12Ciphers(SSL_CTX* ctx) {
  std::string list;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    if (std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.3") continue;
    if (!list.empty()) list += ':';
    list += SSL_CIPHER_get_name(c);
  }
  return list;
}

std::string GroupList(const TlsOptions& options) {
  std::string list;
  for (const std::string& name : options.curve_preferences) {
    const auto openssl = OpenSslGroupName(name);
    if (!openssl) continue;
    if (!list.empty()) list += ':';
    list += *openssl;
  }
  return list;
}

}  // namespace

void SslCtxFree::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }

namespace {

Status SslFail(const std::string& what) {
  return Status::InvalidArgument("tls_server_config: " + what + ": " +
                                 SslErrors());
}

// "names" (Go's names) as OpenSSL's ":"-separated list; kInvalidArgument
// naming the first unknown one.
Status OpenSslList(const std::vector<std::string>& names,
                   std::optional<std::string_view> (*convert)(std::string_view),
                   const std::string& key, const std::string& noun,
                   std::string* list) {
  list->clear();
  for (const std::string& name : names) {
    const auto openssl = convert(name);
    if (!openssl) {
      return Status::InvalidArgument("tls_server_config." + key + ": unknown " +
                                     noun + " " + name);
    }
    if (!list->empty()) *list += ':';
    *list += *openssl;
  }
  return Status::Ok();
}

// Protocol versions, cipher suites (TLS 1.2) and curves.
Status SetProtocols(SSL_CTX* c, const TlsOptions& options) {
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
    return SslFail("min_version/max_version");
  }
  if (min < TLS1_2_VERSION) {
    // OpenSSL 3's default security level refuses TLS 1.0 and 1.1 (their
    // handshake signs with SHA-1); asking for them means accepting that.
    SSL_CTX_set_security_level(c, 0);
  }
  std::string list;
  if (!options.cipher_suites.empty()) {
    Status s = OpenSslList(options.cipher_suites, &OpenSslCipherName,
                           "cipher_suites", "cipher suite", &list);
    if (!s.ok()) return s;
    if (SSL_CTX_set_cipher_list(c, list.c_str()) != 1) {
      return SslFail("cipher_suites " + list);
    }
  }
  if (!options.curve_preferences.empty()) {
    Status s = OpenSslList(options.curve_preferences, &OpenSslGroupName,
                           "curve_preferences", "curve", &list);
    if (!s.ok()) return s;
    if (SSL_CTX_set1_groups_list(c, list.c_str()) != 1) {
      return SslFail("curve_preferences " + list);
    }
  }
  return Status::Ok();
}

// The server's certificate chain and its key.
Status LoadKeyPair(SSL_CTX* c, const TlsOptions& options) {
  if (SSL_CTX_use_certificate_chain_file(c, options.cert_file.c_str()) != 1) {
    return SslFail("cert_file " + options.cert_file);
  }
  const std::string mismatch = "key_file " + options.key_file +
                               " does not match cert_file " + options.cert_file;
  if (SSL_CTX_use_PrivateKey_file(c, options.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return SslFail(mismatch);
    }
    return SslFail("key_file " + options.key_file);
  }
  if (SSL_CTX_check_private_key(c) != 1) return SslFail(mismatch);
  return Status::Ok();
}

// client_auth_type and client_ca_file, as exporter-toolkit means them.
Status SetClientAuth(SSL_CTX* c, const TlsOptions& options) {
  const std::string& type = options.client_auth_type;
  const bool verify =
      type == "VerifyClientCertIfGiven" || type == "RequireAndVerifyClientCert";
  const bool any =
      type == "RequestClientCert" || type == "RequireAnyClientCert";
  if (!verify && !any && !type.empty() && type != "NoClientCert") {
    return Status::InvalidArgument(
        "tls_server_config: unknown client_auth_type " + type);
  }
  const std::string& ca = options.client_ca_file;
  if (!ca.empty()) {
    if (SSL_CTX_load_verify_locations(c, ca.c_str(), nullptr) != 1) {
      return SslFail("client_ca_file " + ca);
    }
    // The CA names the server sends, so that a client picks the right
    // certificate. SSL_CTX_set_client_CA_list takes ownership.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
    if (names == nullptr) return SslFail("client_ca_file " + ca);
    SSL_CTX_set_client_CA_list(c, names);
  } else if (verify && SSL_CTX_set_default_verify_paths(c) != 1) {
    return SslFail("the system's CA certificates");
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
  return Status::Ok();
}

}  // namespace

Status NewServerSslContext(const TlsOptions& options, SslCtxPtr* out) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Status::IoError("SSL_CTX_new: " + SslErrors());
  Status s = SetProtocols(ctx.get(), options);
  if (s.ok()) s = LoadKeyPair(ctx.get(), options);
  if (s.ok()) s = SetClientAuth(ctx.get(), options);
  if (!s.ok()) return s;
  *out = std::move(ctx);
  return Status::Ok();
}

// One built context and what it was built from.
struct ReloadingSslContext::Current {
  TlsOptions options;
  std::string signature;  // FilesSignature(options) before the files were read
  std::shared_ptr<SSL_CTX> ctx;
  std::string ciphers;  // Tls12Ciphers(ctx)
  std::string groups;   // GroupList(options)
};

Status ReloadingSslContext::Create(const TlsOptions& options, Observer observer,
                                   std::unique_ptr<ReloadingSslContext>* out) {
  std::unique_ptr<ReloadingSslContext> r(new ReloadingSslContext());
  r->observer_ = std::move(observer);
  Status s = r->Replace(options);
  if (!s.ok()) return s;
  // The first context is also the one the server holds: every connection
  // starts in it, and OnClientHello moves it to the newest one.
  r->base_ = r->current_->ctx.get();
  SSL_CTX_up_ref(r->base_);
  SSL_CTX_set_client_hello_cb(r->base_, &ReloadingSslContext::OnClientHello,
                              r.get());
  *out = std::move(r);
  return Status::Ok();
}

ReloadingSslContext::~ReloadingSslContext() { SSL_CTX_free(base_); }

std::shared_ptr<const ReloadingSslContext::Current>
ReloadingSslContext::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Status ReloadingSslContext::Replace(const TlsOptions& options) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  return ReplaceLocked(options);
}

Status ReloadingSslContext::ReplaceLocked(const TlsOptions& options) {
  auto next = std::make_shared<Current>();
  next->options = options;
  // Taken before the files are read: a change while they are read shows as
  // a different signature at the next handshake, which reads them again.
  next->signature = FilesSignature(options);
  SslCtxPtr ctx;
  Status s = NewServerSslContext(options, &ctx);
  if (!s.ok()) return s;
  next->ctx = std::shared_ptr<SSL_CTX>(ctx.release(), SslCtxFree());
  next->ciphers = Tls12Ciphers(next->ctx.get());
  next->groups = GroupList(options);
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(next);
  failed_signature_.clear();
  return Status::Ok();
}

void ReloadingSslContext::ReloadIfChanged() {
  std::shared_ptr<const Current> cur = current();
  std::string signature = FilesSignature(cur->options);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (signature == cur->signature || signature == failed_signature_) return;
  }
  std::lock_guard<std::mutex> reload(reload_mu_);
  {
    // Another handshake, or Replace(), may have rebuilt it meanwhile.
    std::lock_guard<std::mutex> lock(mu_);
    if (current_ != cur || signature == failed_signature_) return;
  }
  const Status s = ReplaceLocked(cur->options);
  if (s.ok()) {
    Log(LogLevel::kInfo, "TLS certificate files changed: reloaded",
        {{"cert_file", cur->options.cert_file}});
  } else {
    {
      std::lock_guard<std::mutex> lock(mu_);
      failed_signature_ = std::move(signature);
    }
    Log(LogLevel::kError,
        "TLS certificate files changed but cannot be used; keeping the "
        "previous certificate",
        {{"err", s.message()}});
  }
  if (observer_) observer_(s.ok());
}

int ReloadingSslContext::OnClientHello(SSL* ssl, int* alert, void* arg) {
  auto* self = static_cast<ReloadingSslContext*>(arg);
  self->ReloadIfChanged();
  const std::shared_ptr<const Current> cur = self->current();
  SSL_CTX* c = cur->ctx.get();
  if (SSL_get_SSL_CTX(ssl) == c) return SSL_CLIENT_HELLO_SUCCESS;
  // SSL_set_SSL_CTX (as for SNI) moves the certificate, key, verification
  // store and client CA names, and takes a reference on "c"; the settings
  // an SSL copied from its first context at SSL_new(3) are moved by hand.
  // This runs before the protocol version and cipher are chosen.
  if (SSL_set_SSL_CTX(ssl, c) != c) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  SSL_clear_options(ssl, SSL_get_options(ssl));
  SSL_set_options(ssl, SSL_CTX_get_options(c));
  SSL_set_security_level(ssl, SSL_CTX_get_security_level(c));
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(c),
                 SSL_CTX_get_verify_callback(c));
  if (SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(c)) != 1 ||
      SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(c)) != 1 ||
      (!cur->ciphers.empty() &&
       SSL_set_cipher_list(ssl, cur->ciphers.c_str()) != 1) ||
      (!cur->groups.empty() &&
       SSL_set1_groups_list(ssl, cur->groups.c_str()) != 1)) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace nsexp
