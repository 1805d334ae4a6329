// The collector and the web server, wired from the runtime configuration.
#include "app/exporter_service.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string_view>
#include <utility>

#include "base/listen_address.h"
#include "base/logging.h"
#include "http/tree_page.h"
#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "ns/tree_view.h"

namespace nsexp {

namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

}  // namespace

CollectorOptions ToCollectorOptions(const RuntimeConfig& config,
                                    const BuildInfo& build) {
  CollectorOptions o;
  o.discovery.types = config.types;
  o.discovery.exclude_kernel_threads = config.exclude_kernel_threads;
  o.discovery.bind_mounts = config.bind_mounts;
  o.discovery.fds = config.fds;
  o.discovery.sockets = config.sockets;
  o.discovery.for_children = config.for_children;
  o.discovery.threads = config.threads;
  o.discovery.cgroups = config.containers;
  o.discovery.workers = config.workers;
  o.discovery.verify_namespace_ids = config.verify_namespace_ids;
  o.metrics.per_namespace_series = config.per_namespace_series;
  o.metrics.exclude_types = config.exclude_types;
  o.metrics.exclude_commands = config.exclude_commands;
  o.min_interval = config.min_interval;
  o.version = build.version;
  o.revision = build.revision;
  return o;
}

WebOptions ToWebOptions(const RuntimeConfig& config, const WebConfig& web,
                        const BuildInfo& build) {
  WebOptions o;
  o.listen_address = config.listen_address;
  o.telemetry_path = config.telemetry_path;
  o.version = build.version;
  o.basic_auth_users = web.basic_auth_users;
  o.extra_headers = web.http.headers;
  if (web.has_tls) {
    const TlsServerConfig& t = web.tls;
    TlsOptions& tls = o.tls.emplace();
    tls.cert_file = t.cert_file;
    tls.key_file = t.key_file;
    tls.client_auth_type = t.client_auth_type;
    tls.client_ca_file = t.client_ca_file;
    tls.min_version = t.min_version;
    tls.max_version = t.max_version;
    tls.cipher_suites = t.cipher_suites;
    tls.curve_preferences = t.curve_preferences;
    tls.prefer_server_cipher_suites = t.prefer_server_cipher_suites;
  }
  return o;
}

Status CheckWebConfigFiles(const WebConfig& web) {
  const WebOptions options = ToWebOptions(RuntimeConfig(), web, BuildInfo());
  if (!options.tls) return Status::Ok();
  SslCtxPtr ctx;
  return NewServerSslContext(*options.tls, &ctx);
}

Status LoadWebSettings(const Config& flags, WebConfig* web) {
  if (flags.web_config_file.empty()) return Status::Ok();
  Status s = LoadWebConfigFile(flags.web_config_file, web);
  if (!s.ok() || !flags.config_check) return s;
  return CheckWebConfigFiles(*web);
}

ServingPrivileges RestrictServingPrivileges(const RuntimeConfig& config) {
  ListenAddress address;
  const bool low_port =
      ParseListenAddress(config.listen_address, &address).ok() &&
      address.port > 0 && address.port < 1024;
  ServingPrivileges out;
  out.restricted = RestrictPrivileges(&out.report, low_port, config.sockets);
  if (low_port) {
    out.drop_bind = [] {
      const Status d = DropBindPrivileges();
      if (!d.ok()) {
        Log(LogLevel::kWarn, "could not drop the capability to bind low ports",
            {{"err", d.ToString()}});
      }
    };
  }
  return out;
}

void ApplyLogOptions(const RuntimeConfig& config) {
  SetLogOptions(config.log_level, config.log_format);
}

void LogPrivileges(const Status& status, const PrivilegeReport& report) {
  if (!status.ok()) {
    Log(LogLevel::kWarn, "could not restrict privileges",
        {{"err", status.ToString()}});
    return;
  }
  const std::string kept = Join(report.kept);
  Log(LogLevel::kInfo, "privileges restricted",
      {{"kept_capabilities", kept.empty() ? "none" : kept},
       {"no_new_privs", report.no_new_privs ? "true" : "false"}});
  if (!report.missing.empty()) {
    Log(LogLevel::kWarn,
        "missing capabilities: other users' processes will be skipped and "
        "counted as permission_denied (partial picture)",
        {{"missing_capabilities", Join(report.missing)}});
  }
}

ExporterService::ExporterService(BuildInfo build,
                                 std::shared_ptr<NamespaceCollector> collector)
    : build_(std::move(build)), collector_(std::move(collector)) {}

Status ExporterService::Start(const Config& flags, const RuntimeConfig& config,
                              const WebConfig& web, const BuildInfo& build,
                              std::unique_ptr<ProcFs> procfs,
                              std::function<void()> thread_start,
                              std::unique_ptr<ExporterService>* out) {
  std::unique_ptr<ExporterService> service(
      new ExporterService(build, std::make_shared<NamespaceCollector>(
                                     std::move(procfs), NewRealNamespaceOps(),
                                     ToCollectorOptions(config, build))));
  WebOptions options = ToWebOptions(config, web, build);
  options.tls_reload_observer = [c = service->collector_](bool success) {
    c->RecordWebConfigReload(success);
  };
  options.thread_start = std::move(thread_start);
  Status s = WebServer::Start(options, service->collector_, &service->server_);
  if (!s.ok()) return s;
  std::vector<std::string> ports;
  for (int p : service->server_->ports()) ports.push_back(std::to_string(p));
  Log(LogLevel::kInfo, "listening",
      {{"address", options.listen_address},
       {"ports", Join(ports)},
       {"telemetry_path", options.telemetry_path},
       {"procfs", flags.procfs},
       {"config_file", flags.config_file},
       {"version", build.version},
       {"revision", build.revision}});
  *out = std::move(service);
  return Status::Ok();
}

void ExporterService::Apply(const RuntimeConfig& config) {
  ApplyLogOptions(config);
  collector_->UpdateOptions(ToCollectorOptions(config, build_));
}

void ExporterService::RecordReload(bool success) {
  collector_->RecordReload(success);
}

Status ExporterService::ApplyWebConfig(const WebConfig& web) {
  if (!server_) return Status::Unavailable("not serving");
  return server_->Reload(ToWebOptions(RuntimeConfig(), web, build_));
}

void ExporterService::RecordWebConfigReload(bool success) {
  collector_->RecordWebConfigReload(success);
}

bool ExporterService::Shutdown(std::chrono::milliseconds timeout) {
  if (!server_) return true;
  const bool drained = server_->Shutdown(timeout);
  server_.reset();
  return drained;
}

namespace {

// The colour of `tree --color=CHOICE` for this process's stdout.
TreeColor TreeColorFor(const std::string& choice) {
  if (choice == "always") return TreeColor::kAlways;
  if (choice == "never") return TreeColor::kNever;
  // "auto": https://no-color.org/, and no colour for a dumb terminal.
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  const bool tty = isatty(STDOUT_FILENO) == 1 &&
                   (no_color == nullptr || *no_color == '\0') &&
                   (term == nullptr || std::string_view(term) != "dumb");
  return tty ? TreeColor::kAlways : TreeColor::kNever;
}

}  // namespace

int RunTreeCommand(const Config& flags, const RuntimeConfig& config,
                   std::unique_ptr<ProcFs> procfs) {
  auto ops = NewRealNamespaceOps();
  Discoverer discoverer(procfs.get(), ops.get());
  NamespaceGraph graph;
  const Status s =
      discoverer.Discover(TreeDiscoveryOptions(config.sockets), &graph);
  if (!s.ok()) {
    std::cerr << "linux_namespace_exporter: " << s.ToString() << std::endl;
    return 1;
  }
  const auto type = ParseNamespaceType(flags.tree_type);
  const TreeModel model =
      BuildTreeModel(*procfs, graph, type.value_or(NamespaceType::kPid),
                     ContainerClassifier());
  if (flags.tree_format == "json") {
    std::cout << RenderTreeJson(model);
  } else {
    std::cout << RenderTreeText(model, TreeColorFor(flags.tree_color));
  }
  if (graph.stats.permission_denied > 0) {
    std::cerr << "linux_namespace_exporter: partial picture: "
              << DeniedSummary(graph.stats) << std::endl;
  }
  return std::cout.good() ? 0 : 1;
}

}  // namespace nsexp
