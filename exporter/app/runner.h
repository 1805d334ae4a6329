// Runner: the serving loop after start-up. It waits for signals, reloads
// the configuration on SIGHUP and shuts the service down on SIGTERM or
// SIGINT.
#pragma once

#include <chrono>
#include <csignal>
#include <string>

#include "config/config.h"
#include "config/runtime_config.h"
#include "config/web_config.h"

namespace nsexp {

// What the loop waits for.
enum class RunEvent {
  kReload,     // SIGHUP: read the configuration again
  kTerminate,  // SIGTERM: stop
  kInterrupt,  // SIGINT: stop
};

// Where the events come from: signals in production, a script in tests.
class EventSource {
 public:
  virtual ~EventSource() = default;
  // Blocks until the next event and returns it.
  virtual RunEvent Wait() = 0;
};

// Events from SIGHUP, SIGTERM and SIGINT, received with sigwait(2).
// The constructor blocks the three signals in the calling thread, so build
// it before any other thread starts: threads inherit the mask, and only
// Wait() then receives them. Not copyable. Wait() is for one thread.
class SignalEventSource final : public EventSource {
 public:
  SignalEventSource();
  SignalEventSource(const SignalEventSource&) = delete;
  SignalEventSource& operator=(const SignalEventSource&) = delete;

  RunEvent Wait() override;

 private:
  sigset_t set_;
};

// What the loop drives: the running exporter.
class Service {
 public:
  virtual ~Service() = default;
  // Takes the settings of a reloaded configuration that apply while running
  // (log, collection, metrics, filters; not the listen address or the
  // telemetry path).
  virtual void Apply(const RuntimeConfig& config) = 0;
  // Counts a reload attempt in the exporter's own metrics.
  virtual void RecordReload(bool success) = 0;
  // Takes a reloaded web configuration (authentication, headers, TLS
  // certificates and policy); on error the running one stays.
  [[nodiscard]] virtual Status ApplyWebConfig(const WebConfig& web) = 0;
  // Counts a web configuration reload attempt in the exporter's own metrics.
  virtual void RecordWebConfigReload(bool success) = 0;
  // Stops serving: new requests are refused, those in flight may finish
  // within "timeout". True when every one finished.
  virtual bool Shutdown(std::chrono::milliseconds timeout) = 0;
};

// Runs the loop for a service started with "running", the configuration
// built from "flags". Not copyable; Run() is for one thread.
class Runner {
 public:
  // How long requests in flight may take to finish at shutdown.
  static constexpr std::chrono::seconds kShutdownTimeout{4};

  // "service" must outlive the Runner.
  Runner(Config flags, const RuntimeConfig& running, Service* service);
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Waits for events from "events" until kTerminate or kInterrupt, then
  // shuts the service down and returns. On kReload, builds the configuration
  // again with BuildRuntimeConfig(flags): a valid one is applied and counted
  // as a successful reload (with a warning when the listen address or the
  // telemetry path changed, which take effect at the next start only); an
  // invalid one is logged and counted as failed, and the running
  // configuration stays. With flags.web_config_file, the web configuration
  // is read again too and applied; one that cannot be read or used is
  // logged, the running one stays, and both reloads count as failed.
  void Run(EventSource* events);

 private:
  void Reload();

  const Config flags_;
  const std::string listen_address_;  // as started
  const std::string telemetry_path_;  // as started
  // collection.sockets as started: CAP_NET_ADMIN was kept only then.
  const bool sockets_at_start_;
  Service* const service_;
};

}  // namespace nsexp
