// linux_namespace_exporter: wiring only.
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <regex>

#include "base/logging.h"
#include "base/privileges.h"
#include "collector/namespace_collector.h"
#include "config/config.h"
#include "config/config_file.h"
#include "config/web_config.h"
#include "http/web_server.h"
#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "ns/tree_view.h"
#include "proc/proc_fs.h"
#include "version.h"

namespace {

int Fail(const std::string& msg) {
  std::cerr << "linux_namespace_exporter: " << msg << std::endl;
  return 1;
}

// Settings of the file that flags do not override.
void ApplyFlagsOverFile(const nsexp::Config& flags, nsexp::FileConfig* file) {
  if (flags.listen_address_set || !file->listen_address) {
    file->listen_address = flags.listen_address;
  }
  if (flags.telemetry_path_set || !file->telemetry_path) {
    file->telemetry_path = flags.telemetry_path;
  }
  if (flags.log_level_set || !file->log_level)
    file->log_level = flags.log_level;
  if (flags.log_format_set || !file->log_format) {
    file->log_format = flags.log_format;
  }
}

void ApplyLogging(const nsexp::FileConfig& file) {
  nsexp::SetLogOptions(
      nsexp::ParseLogLevel(*file.log_level).value_or(nsexp::LogLevel::kInfo),
      nsexp::ParseLogFormat(*file.log_format)
          .value_or(nsexp::LogFormat::kLogfmt));
}

// Loads --config.file (if any) with the flags applied over it.
nsexp::Status LoadSettings(const nsexp::Config& flags, nsexp::FileConfig* out) {
  nsexp::FileConfig file;
  if (!flags.config_file.empty()) {
    nsexp::Status s = nsexp::LoadConfigFile(flags.config_file, &file);
    if (!s.ok()) return s;
  }
  ApplyFlagsOverFile(flags, &file);
  *out = std::move(file);
  return nsexp::Status::Ok();
}

nsexp::CollectorOptions ToCollectorOptions(const nsexp::FileConfig& file) {
  nsexp::CollectorOptions o;
  o.discovery.types = file.types;
  o.discovery.exclude_kernel_threads = file.exclude_kernel_threads;
  o.discovery.bind_mounts = file.bind_mounts;
  o.metrics.per_namespace_series = file.per_namespace_series;
  o.metrics.exclude_types = file.exclude_types;
  for (const std::string& re : file.exclude_commands) {
    // Validated by the parser; ECMAScript, matched against the whole name.
    o.metrics.exclude_commands.emplace_back(re, std::regex::ECMAScript);
  }
  o.min_interval = file.min_interval;
  o.version = nsexp::kVersion;
  o.revision = nsexp::kRevision;
  return o;
}

int RunTree(const nsexp::Config& cfg, std::unique_ptr<nsexp::ProcFs> procfs) {
  auto ops = nsexp::NewRealNamespaceOps();
  nsexp::Discoverer discoverer(procfs.get(), ops.get());
  nsexp::DiscoveryOptions opts;
  opts.collect_members = true;
  nsexp::NamespaceGraph graph;
  nsexp::Status s = discoverer.Discover(opts, &graph);
  if (!s.ok()) return Fail(s.ToString());
  const auto type = nsexp::ParseNamespaceType(cfg.tree_type);
  std::cout << nsexp::RenderTree(
      *procfs, graph, type.value_or(nsexp::NamespaceType::kPid),
      cfg.tree_format == "json" ? nsexp::TreeFormat::kJson
                                : nsexp::TreeFormat::kText);
  if (graph.stats.permission_denied > 0) {
    std::cerr << "linux_namespace_exporter: partial picture: "
              << graph.stats.permission_denied
              << " processes could not be inspected ("
              << graph.stats.first_denied << ")" << std::endl;
  }
  return std::cout.good() ? 0 : 1;
}

void LogPrivileges(const nsexp::Status& s,
                   const nsexp::PrivilegeReport& report) {
  if (!s.ok()) {
    nsexp::Log(nsexp::LogLevel::kWarn, "could not restrict privileges",
               {{"err", s.ToString()}});
    return;
  }
  std::string kept, missing;
  for (const auto& c : report.kept) kept += (kept.empty() ? "" : ",") + c;
  for (const auto& c : report.missing) {
    missing += (missing.empty() ? "" : ",") + c;
  }
  nsexp::Log(nsexp::LogLevel::kInfo, "privileges restricted",
             {{"kept_capabilities", kept.empty() ? "none" : kept},
              {"no_new_privs", report.no_new_privs ? "true" : "false"}});
  if (!report.missing.empty()) {
    nsexp::Log(nsexp::LogLevel::kWarn,
               "missing capabilities: other users' processes will be "
               "skipped and counted as permission_denied (partial picture)",
               {{"missing_capabilities", missing}});
  }
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own arena, and memory freed
  // in one is not reused by another: with CivetWeb's workers each serving
  // a large scrape now and then, that multiplies the resident size. Two
  // arenas keep it to about one scrape's worth.
  mallopt(M_ARENA_MAX, 2);
  nsexp::Config cfg;
  const nsexp::FlagOutcome flags =
      nsexp::ParseFlags(argc, argv, nsexp::kVersion, nsexp::kRevision, &cfg);
  if (flags.exit) {
    std::fputs(flags.out.c_str(), stdout);
    std::fputs(flags.err.c_str(), stderr);
    return flags.exit_code;
  }

  nsexp::FileConfig settings;
  nsexp::Status s = LoadSettings(cfg, &settings);
  if (!s.ok()) return Fail(s.message());
  ApplyLogging(settings);

  // --web.config.file is read once, before anything starts.
  nsexp::WebConfig web_config;
  if (!cfg.web_config_file.empty()) {
    const nsexp::Status ws =
        nsexp::LoadWebConfigFile(cfg.web_config_file, &web_config);
    if (!ws.ok()) return Fail(ws.message());
  }
  if (cfg.config_check) {
    std::cout << "linux_namespace_exporter: configuration is valid"
              << std::endl;
    return 0;
  }

  std::unique_ptr<nsexp::ProcFs> procfs;
  s = nsexp::ProcFs::Open(cfg.procfs, &procfs);
  if (!s.ok()) return Fail("--path.procfs: " + s.ToString());

  if (cfg.command == nsexp::Config::Command::kTree) {
    return RunTree(cfg, std::move(procfs));
  }

  // Capabilities are per thread: trim them before any thread starts so that
  // every thread inherits the trimmed sets. Logged once listening.
  nsexp::PrivilegeReport privileges;
  const nsexp::Status privileges_status =
      nsexp::RestrictPrivileges(&privileges);

  // Block the signals we wait for before any thread starts, so that every
  // thread inherits the mask and sigwait() below receives them.
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGTERM);
  sigaddset(&wait_set, SIGINT);
  sigaddset(&wait_set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &wait_set, nullptr);
  // A client that goes away mid-response must not kill the process.
  signal(SIGPIPE, SIG_IGN);

  auto collector = std::make_shared<nsexp::NamespaceCollector>(
      std::move(procfs), nsexp::NewRealNamespaceOps(),
      ToCollectorOptions(settings));

  nsexp::WebOptions wopts;
  wopts.listen_address = *settings.listen_address;
  wopts.telemetry_path = *settings.telemetry_path;
  wopts.version = nsexp::kVersion;
  wopts.basic_auth_users = web_config.basic_auth_users;
  wopts.extra_headers = web_config.http.headers;
  if (web_config.has_tls) {
    const nsexp::TlsServerConfig& t = web_config.tls;
    nsexp::TlsOptions& tls = wopts.tls.emplace();
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
  std::unique_ptr<nsexp::WebServer> server;
  s = nsexp::WebServer::Start(wopts, collector, &server);
  if (!s.ok()) return Fail(s.message());
  std::string ports;
  for (int p : server->ports()) {
    ports += (ports.empty() ? "" : ",") + std::to_string(p);
  }
  nsexp::Log(nsexp::LogLevel::kInfo, "listening",
             {{"address", wopts.listen_address},
              {"ports", ports},
              {"telemetry_path", wopts.telemetry_path},
              {"procfs", cfg.procfs},
              {"config_file", cfg.config_file},
              {"version", nsexp::kVersion},
              {"revision", nsexp::kRevision}});

  LogPrivileges(privileges_status, privileges);

  for (;;) {
    int sig = 0;
    if (sigwait(&wait_set, &sig) != 0) continue;
    if (sig != SIGHUP) {
      nsexp::Log(nsexp::LogLevel::kInfo, "shutting down",
                 {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      break;
    }
    // SIGHUP: re-read the file; a bad one keeps the running configuration.
    nsexp::FileConfig next;
    s = LoadSettings(cfg, &next);
    if (!s.ok()) {
      collector->RecordReload(false);
      nsexp::Log(nsexp::LogLevel::kError,
                 "configuration reload failed; keeping the running "
                 "configuration",
                 {{"err", s.message()}});
      continue;
    }
    if (*next.listen_address != wopts.listen_address ||
        *next.telemetry_path != wopts.telemetry_path) {
      nsexp::Log(nsexp::LogLevel::kWarn,
                 "web.listen_address and web.telemetry_path take effect at "
                 "the next start, not on reload");
    }
    ApplyLogging(next);
    collector->UpdateOptions(ToCollectorOptions(next));
    collector->RecordReload(true);
    nsexp::Log(nsexp::LogLevel::kInfo, "configuration reloaded",
               {{"config_file", cfg.config_file}});
  }
  // Refuses new requests, lets the ones in flight finish, then stops.
  if (!server->Shutdown(std::chrono::seconds(4))) {
    nsexp::Log(nsexp::LogLevel::kWarn,
               "requests still in flight after 4s were cut off");
  }
  server.reset();
  nsexp::Log(nsexp::LogLevel::kInfo, "stopped");
  return 0;
}
