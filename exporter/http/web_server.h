// WebServer: the HTTP endpoints, on CivetWeb.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "collector/namespace_collector.h"
#include "http/tls_context.h"

class CivetServer;

namespace nsexp {

struct WebOptions {
  std::string listen_address = ":19101";  // [host]:port; port 0 = any free
  std::string telemetry_path = "/metrics";
  // Bounds concurrent connections: CivetWeb gives each open connection a
  // worker thread until it closes, so this is also how many slow or idle
  // clients can be held at once before scrapes queue behind them.
  int worker_threads = 32;
  // Whole-request bound: a client that has not sent its request line and
  // headers within this time is cut off, however slowly it trickles bytes.
  int request_timeout_ms = 5000;
  // An idle keep-alive connection is closed after this long.
  int keep_alive_timeout_ms = 5000;
  std::string version;
  // User -> bcrypt hash. Empty: no authentication. Otherwise every path but
  // /-/healthy needs HTTP basic authentication.
  std::map<std::string, std::string> basic_auth_users;
  // Extra response headers (http_server_config.headers), sent on every
  // response. The caller ensures names and values are header-safe.
  std::map<std::string, std::string> extra_headers;
  // Set: serve HTTPS only, with this certificate and policy.
  std::optional<TlsOptions> tls;
  // Told the outcome of each reload of the TLS files after they changed on
  // disk (see ReloadingSslContext). May be empty.
  std::function<void(bool success)> tls_reload_observer;
  // Run first in every thread the server starts, before it serves (e.g. to
  // drop a capability held only for binding). May be empty.
  std::function<void()> thread_start;
};

// Turns "[host]:port" into CivetWeb's listening_ports value: ":19101" and
// "[::]:19101" -> "+19101" (every address, IPv6 and IPv4 on one dual-stack
// socket), "127.0.0.1:0" -> "127.0.0.1:0", "[::1]:9" -> "[::1]:9".
// ParseListenAddress() (base/listen_address.h) decides what is valid, as
// it does for the configuration; its kInvalidArgument otherwise. Pure.
[[nodiscard]] Status ListenAddressToCivet(const std::string& address,
                                          std::string* out);

// Serves / (landing page), the telemetry path, /-/healthy, /-/ready and
// /tree on CivetWeb worker threads, behind basic authentication when
// options.basic_auth_users is not empty. The collector is shared with the
// caller and must stay alive until the server is destroyed. Thread-safe:
// requests run concurrently; the collector serialises discovery. Destroying the
// server stops accepting and waits for requests in flight.
class WebServer {
 public:
  // What CivetWeb's callbacks reach through the CivetServer's user context.
  struct CallbackContext {
    ssl_ctx_st* ssl_ctx = nullptr;  // null without TLS
    std::function<void()> thread_start;
  };

  // Binds and starts serving (HTTPS when options.tls is set). kUnavailable
  // with CivetWeb's reason (e.g. "address already in use") when the address
  // cannot be bound; kInvalidArgument for a malformed address or telemetry
  // path (ParseListenAddress, CheckTelemetryPath), an unusable bcrypt hash,
  // or a certificate, key or CA file that cannot be used.
  [[nodiscard]] static Status Start(
      const WebOptions& options,
      std::shared_ptr<const NamespaceCollector> collector,
      std::unique_ptr<WebServer>* out);

  // Takes the web configuration of "options" (basic_auth_users,
  // extra_headers, tls) from the next request or handshake on; the other
  // fields are ignored (they take effect at the next start). All or
  // nothing: on error the running configuration stays. kInvalidArgument for
  // an unusable bcrypt hash or TLS file (as Start), kUnsupported when TLS
  // would be turned on or off (that needs a new listener: restart).
  // Thread-safe.
  [[nodiscard]] Status Reload(const WebOptions& options);

  // Stops serving: new requests get 503, requests in flight may finish
  // within "timeout", then the listener closes and the workers stop. True
  // when every request in flight finished. Idempotent.
  bool Shutdown(std::chrono::milliseconds timeout);

  // Shutdown() with a 4 s timeout.
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // The ports actually bound (resolves port 0).
  std::vector<int> ports() const;

  // For CivetWeb's callbacks: the context of the server they run for.
  static const CallbackContext* CallbackContextOf(const CivetServer* server);

 private:
  class Router;
  WebServer() = default;

  std::unique_ptr<Router> router_;
  CallbackContext callback_context_;  // outlives server_
  // Null without TLS; outlives server_, which uses its base().
  std::unique_ptr<ReloadingSslContext> tls_;
  std::unique_ptr<CivetServer> server_;
};

}  // namespace nsexp
