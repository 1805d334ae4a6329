// The serving loop: signals, reload and shutdown.
#include "app/runner.h"

#include <pthread.h>

#include <utility>

#include "base/logging.h"

namespace nsexp {

SignalEventSource::SignalEventSource() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

RunEvent SignalEventSource::Wait() {
  for (;;) {
    int sig = 0;
    if (sigwait(&set_, &sig) != 0) continue;
    if (sig == SIGHUP) return RunEvent::kReload;
    return sig == SIGTERM ? RunEvent::kTerminate : RunEvent::kInterrupt;
  }
}

Runner::Runner(Config flags, const RuntimeConfig& running, Service* service)
    : flags_(std::move(flags)),
      listen_address_(running.listen_address),
      telemetry_path_(running.telemetry_path),
      sockets_at_start_(running.sockets),
      service_(service) {}

void Runner::Run(EventSource* events) {
  for (;;) {
    const RunEvent event = events->Wait();
    if (event == RunEvent::kReload) {
      Reload();
      continue;
    }
    Log(LogLevel::kInfo, "shutting down",
        {{"signal", event == RunEvent::kTerminate ? "SIGTERM" : "SIGINT"}});
    break;
  }
  // Refuses new requests, lets the ones in flight finish, then stops.
  if (!service_->Shutdown(kShutdownTimeout)) {
    Log(LogLevel::kWarn, "requests still in flight after 4s were cut off");
  }
}

void Runner::Reload() {
  RuntimeConfig next;
  const Status s = BuildRuntimeConfig(flags_, &next);
  if (!s.ok()) {
    service_->RecordReload(false);
    Log(LogLevel::kError,
        "configuration reload failed; keeping the running configuration",
        {{"err", s.message()}});
    return;
  }
  if (next.listen_address != listen_address_ ||
      next.telemetry_path != telemetry_path_) {
    Log(LogLevel::kWarn,
        "web.listen_address and web.telemetry_path take effect at the next "
        "start, not on reload");
  }
  if (next.sockets && !sockets_at_start_) {
    Log(LogLevel::kWarn,
        "collection.sockets was switched on by a reload, but CAP_NET_ADMIN "
        "was dropped at start and cannot be regained: processes with sockets "
        "will be counted as permission_denied in the socket holder "
        "statistics until the next start");
  }
  service_->Apply(next);
  bool web_ok = true;
  if (!flags_.web_config_file.empty()) {
    WebConfig web;
    Status w = LoadWebConfigFile(flags_.web_config_file, &web);
    if (w.ok()) w = service_->ApplyWebConfig(web);
    web_ok = w.ok();
    service_->RecordWebConfigReload(web_ok);
    if (!web_ok) {
      Log(LogLevel::kError,
          "web configuration reload failed; keeping the running web "
          "configuration",
          {{"web_config_file", flags_.web_config_file}, {"err", w.message()}});
    }
  }
  service_->RecordReload(web_ok);
  Log(LogLevel::kInfo, "configuration reloaded",
      {{"config_file", flags_.config_file},
       {"web_config_file", flags_.web_config_file}});
}

}  // namespace nsexp
