// linux_namespace_exporter: wiring only.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "base/logging.h"
#include "collector/namespace_collector.h"
#include "config/config.h"
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

}  // namespace

int main(int argc, char** argv) {
  nsexp::Config cfg;
  const nsexp::FlagOutcome flags =
      nsexp::ParseFlags(argc, argv, nsexp::kVersion, nsexp::kRevision, &cfg);
  if (flags.exit) {
    std::fputs(flags.out.c_str(), stdout);
    std::fputs(flags.err.c_str(), stderr);
    return flags.exit_code;
  }
  nsexp::SetLogOptions(
      nsexp::ParseLogLevel(cfg.log_level).value_or(nsexp::LogLevel::kInfo),
      nsexp::ParseLogFormat(cfg.log_format)
          .value_or(nsexp::LogFormat::kLogfmt));

  std::unique_ptr<nsexp::ProcFs> procfs;
  nsexp::Status s = nsexp::ProcFs::Open(cfg.procfs, &procfs);
  if (!s.ok()) return Fail("--path.procfs: " + s.ToString());

  if (cfg.command == nsexp::Config::Command::kTree) {
    return RunTree(cfg, std::move(procfs));
  }

  // Block the signals we wait for before any thread starts, so that every
  // thread inherits the mask and sigwait() below receives them.
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGTERM);
  sigaddset(&wait_set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &wait_set, nullptr);
  // A client that goes away mid-response must not kill the process.
  signal(SIGPIPE, SIG_IGN);

  nsexp::CollectorOptions copts;
  copts.version = nsexp::kVersion;
  copts.revision = nsexp::kRevision;
  auto collector = std::make_shared<nsexp::NamespaceCollector>(
      std::move(procfs), nsexp::NewRealNamespaceOps(), copts);

  nsexp::WebOptions wopts;
  wopts.listen_address = cfg.listen_address;
  wopts.telemetry_path = cfg.telemetry_path;
  wopts.version = nsexp::kVersion;
  std::unique_ptr<nsexp::WebServer> server;
  s = nsexp::WebServer::Start(wopts, collector, &server);
  if (!s.ok()) return Fail(s.message());
  std::string ports;
  for (int p : server->ports()) {
    ports += (ports.empty() ? "" : ",") + std::to_string(p);
  }
  nsexp::Log(nsexp::LogLevel::kInfo, "listening",
             {{"address", cfg.listen_address},
              {"ports", ports},
              {"telemetry_path", cfg.telemetry_path},
              {"procfs", cfg.procfs},
              {"version", nsexp::kVersion},
              {"revision", nsexp::kRevision}});

  int sig = 0;
  sigwait(&wait_set, &sig);
  nsexp::Log(nsexp::LogLevel::kInfo, "shutting down",
             {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.reset();  // stops accepting and waits for requests in flight
  return 0;
}
