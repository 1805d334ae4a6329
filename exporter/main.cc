// linux_namespace_exporter: wiring only.
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "app/exporter_service.h"
#include "app/runner.h"
#include "base/logging.h"
#include "config/config.h"
#include "config/runtime_config.h"
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
  // Blocks of 128 KiB and more (the text body, the walk's PID lists, the
  // graph) come from mmap and go back to the kernel when freed. By default
  // glibc raises that threshold to the largest block freed so far, after
  // which a scrape's big blocks stay in the heap among small ones and the
  // next scrape cannot reuse all of them (measured at 30,000 processes:
  // peak RSS about 5 MiB lower with the fixed threshold).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
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
  s = nsexp::LoadWebSettings(flags, &web);
  if (!s.ok()) return Fail(s.message());
  if (flags.config_check) {
    std::cout << "linux_namespace_exporter: configuration is valid"
              << std::endl;
    return 0;
  }
  std::unique_ptr<nsexp::ProcFs> procfs;
  s = nsexp::ProcFs::Open(flags.procfs, &procfs);
  if (!s.ok()) return Fail("--path.procfs: " + s.ToString());
  if (flags.command == nsexp::Config::Command::kTree) {
    return nsexp::RunTreeCommand(flags, config, std::move(procfs));
  }
  // Capabilities and the signal mask are per thread: set both before any
  // thread starts so that every thread inherits them.
  nsexp::ServingPrivileges privileges =
      nsexp::RestrictServingPrivileges(config);
  nsexp::SignalEventSource signals;
  // A client that goes away mid-response must not kill the process.
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<nsexp::ExporterService> service;
  s = nsexp::ExporterService::Start(flags, config, web, build,
                                    std::move(procfs), privileges.drop_bind,
                                    &service);
  if (!s.ok()) return Fail(s.message());
  if (privileges.drop_bind) privileges.drop_bind();
  nsexp::LogPrivileges(privileges.restricted, privileges.report);
  nsexp::Runner(flags, config, service.get()).Run(&signals);
  nsexp::Log(nsexp::LogLevel::kInfo, "stopped");
  return 0;
}
