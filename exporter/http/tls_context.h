// TLS for the web server: an OpenSSL server context made from
// exporter-toolkit's tls_server_config.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

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

// A TLS server context that follows its files, so that certificates rotate
// without a restart. The server is given base() once; each handshake then
// checks whether cert_file, key_file or client_ca_file changed on disk
// (device, inode, size, mtime, ctime: a rename over the file, a Kubernetes
// Secret's symlink swap and an in-place rewrite all count), builds a new
// context when they did, and is served by the newest context that could be
// built. A change that cannot be used (a half-written pair, a key that does
// not match) keeps the previous context, is logged, and is not tried again
// until the files change once more. Replace() swaps the options as a
// whole (SIGHUP). Thread-safe; not copyable.
class ReloadingSslContext {
 public:
  // Called with the outcome of every reload attempt, from the handshaking
  // thread (file changes) or Replace()'s caller. May be empty.
  using Observer = std::function<void(bool success)>;

  // Builds the first context from "options" (the errors of
  // NewServerSslContext).
  [[nodiscard]] static Status Create(const TlsOptions& options,
                                     Observer observer,
                                     std::unique_ptr<ReloadingSslContext>* out);
  ReloadingSslContext(const ReloadingSslContext&) = delete;
  ReloadingSslContext& operator=(const ReloadingSslContext&) = delete;
  ~ReloadingSslContext();

  // The context to hand the server; owned here, valid for this object's
  // lifetime, which must exceed the server's.
  ssl_ctx_st* base() const { return base_; }

  // Builds a context from "options" and serves it from the next handshake
  // on. On error (those of NewServerSslContext) the running context stays.
  // Does not call the observer.
  [[nodiscard]] Status Replace(const TlsOptions& options);

  // Rebuilds the context when its files changed since it was built (see
  // the class comment). Called on every handshake; cheap when nothing
  // changed (a stat(2) per file).
  void ReloadIfChanged();

 private:
  struct Current;
  ReloadingSslContext() = default;
  std::shared_ptr<const Current> current() const;
  // Replace() with reload_mu_ held.
  Status ReplaceLocked(const TlsOptions& options);
  static int OnClientHello(ssl_st* ssl, int* alert, void* arg);

  Observer observer_;
  ssl_ctx_st* base_ = nullptr;  // owned: one reference, freed at destruction
  mutable std::mutex mu_;
  std::shared_ptr<const Current> current_;  // guarded by mu_
  std::string failed_signature_;            // guarded by mu_
  std::mutex reload_mu_;  // one rebuild at a time; taken before mu_
};

}  // namespace nsexp
