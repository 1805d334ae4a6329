// WebServer: the HTTP endpoints, on CivetWeb.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "collector/namespace_collector.h"

class CivetServer;

namespace nsexp {

struct WebOptions {
  std::string listen_address = ":19101";  // [host]:port; port 0 = any free
  std::string telemetry_path = "/metrics";
  int worker_threads = 8;          // bounds concurrent requests
  int request_timeout_ms = 10000;  // slow clients are cut off
  std::string version;
};

// Turns "[host]:port" into CivetWeb's listening_ports value: ":19101" ->
// "19101", "127.0.0.1:0" -> "127.0.0.1:0", "[::1]:9" -> "[::1]:9".
// kInvalidArgument for anything else. Pure.
[[nodiscard]] Status ListenAddressToCivet(const std::string& address,
                                          std::string* out);

// Serves / (landing page), the telemetry path, /-/healthy, /-/ready and
// /tree on CivetWeb worker threads. The collector is shared with the caller
// and must stay alive until the server is destroyed.
// Thread-safe: requests run concurrently; the collector serialises
// discovery. Destroying the server stops accepting and waits for requests
// in flight.
class WebServer {
 public:
  // Binds and starts serving. kUnavailable with CivetWeb's reason (e.g.
  // "address already in use") when the address cannot be bound;
  // kInvalidArgument for a malformed address.
  [[nodiscard]] static Status Start(
      const WebOptions& options,
      std::shared_ptr<const NamespaceCollector> collector,
      std::unique_ptr<WebServer>* out);

  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // The ports actually bound (resolves port 0).
  std::vector<int> ports() const;

 private:
  class Router;
  WebServer() = default;

  std::unique_ptr<Router> router_;
  std::unique_ptr<CivetServer> server_;
};

}  // namespace nsexp
