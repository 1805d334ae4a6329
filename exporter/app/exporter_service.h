// ExporterService: the collector and the web server, built from the
// runtime configuration, and the settings each of them takes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "app/runner.h"
#include "base/privileges.h"
#include "base/status.h"
#include "collector/namespace_collector.h"
#include "config/config.h"
#include "config/runtime_config.h"
#include "config/web_config.h"
#include "http/web_server.h"
#include "proc/proc_fs.h"

namespace nsexp {

// The name and revision the exporter reports (--version, build_info).
struct BuildInfo {
  std::string version;
  std::string revision;
};

// The collector's share of "config". Pure.
CollectorOptions ToCollectorOptions(const RuntimeConfig& config,
                                    const BuildInfo& build);

// The web server's share of "config" and of the web configuration file.
// Pure.
WebOptions ToWebOptions(const RuntimeConfig& config, const WebConfig& web,
                        const BuildInfo& build);

// Loads what a start would load from the web configuration without
// serving: the TLS certificate, key and client CA files (for
// --config.check). The errors of NewServerSslContext, with the message a
// start would print.
[[nodiscard]] Status CheckWebConfigFiles(const WebConfig& web);

// Loads --web.config.file (when "flags" names one) into *web; with
// --config.check, also the TLS files a start would load
// (CheckWebConfigFiles). The loader's errors, with file:line:column.
[[nodiscard]] Status LoadWebSettings(const Config& flags, WebConfig* web);

// The capabilities for serving "config": RestrictPrivileges() keeps what
// discovery needs (CAP_NET_ADMIN too with collection.sockets), plus
// CAP_NET_BIND_SERVICE while the listener binds a port below 1024. drop_bind
// (empty without a low port) removes that one again in the calling thread: each
// server thread runs it as it starts and the caller once more after the start.
// Call before any thread starts (capabilities are per thread).
struct ServingPrivileges {
  Status restricted;
  PrivilegeReport report;
  std::function<void()> drop_bind;
};
ServingPrivileges RestrictServingPrivileges(const RuntimeConfig& config);

// Applies the log level and format of "config" to the process.
void ApplyLogOptions(const RuntimeConfig& config);

// Logs what RestrictPrivileges() did: the capabilities kept, and a warning
// naming those missing (their absence leaves a partial picture).
void LogPrivileges(const Status& status, const PrivilegeReport& report);

// The exporter while it serves: a NamespaceCollector on the real nsfs
// ioctls and a WebServer in front of it. Not copyable. Apply() and
// RecordReload() are thread-safe; Shutdown() is for the thread that owns it.
class ExporterService final : public Service {
 public:
  // Starts collecting from "procfs" and serving, then logs "listening" with
  // the address, the ports bound and the flags' procfs and configuration
  // file. "thread_start" runs first in each server thread (see
  // WebOptions::thread_start); may be empty. The errors of WebServer::Start
  // (address in use, malformed address).
  [[nodiscard]] static Status Start(const Config& flags,
                                    const RuntimeConfig& config,
                                    const WebConfig& web,
                                    const BuildInfo& build,
                                    std::unique_ptr<ProcFs> procfs,
                                    std::function<void()> thread_start,
                                    std::unique_ptr<ExporterService>* out);
  ExporterService(const ExporterService&) = delete;
  ExporterService& operator=(const ExporterService&) = delete;

  void Apply(const RuntimeConfig& config) override;
  void RecordReload(bool success) override;
  [[nodiscard]] Status ApplyWebConfig(const WebConfig& web) override;
  void RecordWebConfigReload(bool success) override;
  // Stops the server (see WebServer::Shutdown) and releases it.
  bool Shutdown(std::chrono::milliseconds timeout) override;

 private:
  ExporterService(BuildInfo build,
                  std::shared_ptr<NamespaceCollector> collector);

  const BuildInfo build_;
  std::shared_ptr<NamespaceCollector> collector_;
  std::unique_ptr<WebServer> server_;
};

// The `tree` subcommand: discovers once from "procfs" and prints the
// hierarchy of flags.tree_type as flags.tree_format to stdout (text in
// colour per flags.tree_color: "auto" colours only a terminal); a partial
// picture (denied processes) is said on stderr. Returns the exit code: 0,
// or 1 when discovery or the output failed. Sockets are followed to their
// net namespace when "config" switches collection.sockets on.
int RunTreeCommand(const Config& flags, const RuntimeConfig& config,
                   std::unique_ptr<ProcFs> procfs);

}  // namespace nsexp
