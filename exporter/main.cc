// linux_namespace_exporter: wiring only.
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>

#include "app/exporter_service.h"
#include "app/runner.h"
#include "base/listen_address.h"
#include "base/logging.h"
#include "base/privileges.h"
#include "config/config.h"
#include "config/runtime_config.h"
#include "config/web_config.h"
#include "proc/proc_fs.h"
#include "version.h"

namespace {

int Fail(const std::string& msg) {
  std::cerr << "linux_namespace_exporter: " << msg << std::endl;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own arena, and memory freed
  // in one is not reused by another: with CivetWeb's workers each serving
  // a large scrape now and then, that multiplies the resident size. Two
  // arenas keep it to about one scrape's worth.
  mallopt(M_ARENA_MAX, 2);
  const nsexp::BuildInfo build{nsexp::kVersion, nsexp::kRevision};
  nsexp::Config flags;
  const nsexp::FlagOutcome parsed =
      nsexp::ParseFlags(argc, argv, build.version, build.revision, &flags);
  if (parsed.exit) {
    std::fputs(parsed.out.c_str(), stdout);
    std::fputs(parsed.err.c_str(), stderr);
    return parsed.exit_code;
  }
  nsexp::RuntimeConfig config;
  nsexp::Status s = nsexp::BuildRuntimeConfig(flags, &config);
  if (!s.ok()) return Fail(s.message());
  nsexp::ApplyLogOptions(config);
  // --web.config.file is read before anything starts (and again on SIGHUP).
  nsexp::WebConfig web;
  if (!flags.web_config_file.empty()) {
    s = nsexp::LoadWebConfigFile(flags.web_config_file, &web);
    if (!s.ok()) return Fail(s.message());
  }
  if (flags.config_check) {
    // The TLS files too, as a start would load them.
    s = nsexp::CheckWebConfigFiles(web);
    if (!s.ok()) return Fail(s.message());
    std::cout << "linux_namespace_exporter: configuration is valid"
              << std::endl;
    return 0;
  }
  std::unique_ptr<nsexp::ProcFs> procfs;
  s = nsexp::ProcFs::Open(flags.procfs, &procfs);
  if (!s.ok()) return Fail("--path.procfs: " + s.ToString());
  if (flags.command == nsexp::Config::Command::kTree) {
    return nsexp::RunTreeCommand(flags, std::move(procfs));
  }
  // Capabilities and the signal mask are per thread: set both before any
  // thread starts so that every thread inherits them.
  // A port below 1024 needs CAP_NET_BIND_SERVICE to bind: it is kept until
  // the listener is bound, then dropped in every thread (CivetWeb's threads
  // drop it as they start, this one after the start).
  nsexp::ListenAddress address;
  const bool low_port =
      nsexp::ParseListenAddress(config.listen_address, &address).ok() &&
      address.port > 0 && address.port < 1024;
  nsexp::PrivilegeReport privileges;
  const nsexp::Status restricted =
      nsexp::RestrictPrivileges(&privileges, low_port);
  nsexp::SignalEventSource signals;
  // A client that goes away mid-response must not kill the process.
  signal(SIGPIPE, SIG_IGN);
  const auto drop_bind = [] {
    const nsexp::Status d = nsexp::DropBindPrivileges();
    if (!d.ok()) {
      nsexp::Log(nsexp::LogLevel::kWarn,
                 "could not drop the capability to bind low ports",
                 {{"err", d.ToString()}});
    }
  };
  std::unique_ptr<nsexp::ExporterService> service;
  s = nsexp::ExporterService::Start(
      flags, config, web, build, std::move(procfs),
      low_port ? std::function<void()>(drop_bind) : std::function<void()>(),
      &service);
  if (!s.ok()) return Fail(s.message());
  if (low_port) drop_bind();
  nsexp::LogPrivileges(restricted, privileges);
  nsexp::Runner(flags, config, service.get()).Run(&signals);
  nsexp::Log(nsexp::LogLevel::kInfo, "stopped");
  return 0;
}
