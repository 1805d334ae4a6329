// Tests of the serving loop: reload on kReload, stop on kTerminate or
// kInterrupt, driven by a scripted event source (no signals, no sleeps).
#include "app/runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace nsexp {
namespace {

// Hands out a fixed list of events; runs "before" ahead of each one so that
// a test can change the configuration file between events. Running out of
// events is a test failure, answered with kTerminate so the loop ends.
class ScriptedEvents : public EventSource {
 public:
  struct Step {
    std::function<void()> before;
    RunEvent event;
  };
  explicit ScriptedEvents(std::deque<Step> steps) : steps_(std::move(steps)) {}

  RunEvent Wait() override {
    ++waits_;
    if (steps_.empty()) {
      ADD_FAILURE() << "the loop waited after the last event";
      return RunEvent::kTerminate;
    }
    Step step = std::move(steps_.front());
    steps_.pop_front();
    if (step.before) step.before();
    return step.event;
  }

  int waits() const { return waits_; }

 private:
  std::deque<Step> steps_;
  int waits_ = 0;
};

// Records what the loop asked of it, in order.
class RecordingService : public Service {
 public:
  void Apply(const RuntimeConfig& config) override {
    calls.push_back("apply");
    applied.push_back(config);
  }
  void RecordReload(bool success) override {
    calls.push_back(success ? "reload_ok" : "reload_failed");
  }
  Status ApplyWebConfig(const WebConfig&) override {
    calls.push_back("apply_web");
    return Status::Ok();
  }
  void RecordWebConfigReload(bool success) override {
    calls.push_back(success ? "web_reload_ok" : "web_reload_failed");
  }
  bool Shutdown(std::chrono::milliseconds timeout) override {
    calls.push_back("shutdown");
    shutdown_timeout = timeout;
    return true;
  }

  std::vector<std::string> calls;
  std::vector<RuntimeConfig> applied;
  std::chrono::milliseconds shutdown_timeout{-1};
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nsexp_runner_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    flags_.config_file = dir_ + "/exporter.yml";
    Write("metrics:\n  per_namespace_series: true\n");
    ASSERT_TRUE(BuildRuntimeConfig(flags_, &running_).ok());
  }
  void TearDown() override {
    std::remove(flags_.config_file.c_str());
    std::remove(dir_.c_str());
  }
  void Write(const std::string& text) {
    std::ofstream(flags_.config_file, std::ios::trunc) << text;
  }
  std::function<void()> Writes(const std::string& text) {
    return [this, text] { Write(text); };
  }

  std::string dir_;
  Config flags_;
  RuntimeConfig running_;
  RecordingService service_;
};

TEST_F(RunnerTest, TerminateShutsDownWithoutApplyingAnything) {
  ScriptedEvents events({{nullptr, RunEvent::kTerminate}});
  Runner(flags_, running_, &service_).Run(&events);
  EXPECT_EQ(service_.calls, (std::vector<std::string>{"shutdown"}));
  EXPECT_EQ(service_.shutdown_timeout, Runner::kShutdownTimeout);
  EXPECT_EQ(events.waits(), 1);
}

TEST_F(RunnerTest, InterruptAlsoStops) {
  ScriptedEvents events({{nullptr, RunEvent::kInterrupt}});
  Runner(flags_, running_, &service_).Run(&events);
  EXPECT_EQ(service_.calls, (std::vector<std::string>{"shutdown"}));
}

TEST_F(RunnerTest, ValidReloadIsAppliedThenCounted) {
  ScriptedEvents events({{Writes("metrics:\n  per_namespace_series: false\n"
                                 "collection:\n  types: [net]\n"),
                          RunEvent::kReload},
                         {nullptr, RunEvent::kTerminate}});
  Runner(flags_, running_, &service_).Run(&events);
  EXPECT_EQ(service_.calls,
            (std::vector<std::string>{"apply", "reload_ok", "shutdown"}));
  ASSERT_EQ(service_.applied.size(), 1u);
  EXPECT_FALSE(service_.applied[0].per_namespace_series);
  EXPECT_EQ(service_.applied[0].types, NamespaceTypeSet({NamespaceType::kNet}));
}

TEST_F(RunnerTest, InvalidReloadIsCountedAndNothingIsApplied) {
  // Valid up to the last line: nothing of it may be applied.
  ScriptedEvents events({{Writes("metrics:\n  per_namespace_series: false\n"
                                 "collection:\n  min_interval: forever\n"),
                          RunEvent::kReload},
                         {nullptr, RunEvent::kTerminate}});
  Runner(flags_, running_, &service_).Run(&events);
  EXPECT_EQ(service_.calls,
            (std::vector<std::string>{"reload_failed", "shutdown"}));
  EXPECT_TRUE(service_.applied.empty());
}

TEST_F(RunnerTest, AFailedReloadDoesNotStopTheNextOne) {
  ScriptedEvents events({{Writes("log: [\n"), RunEvent::kReload},
                         {Writes("log:\n  level: debug\n"), RunEvent::kReload},
                         {std::function<void()>(), RunEvent::kReload},
                         {nullptr, RunEvent::kInterrupt}});
  Runner(flags_, running_, &service_).Run(&events);
  EXPECT_EQ(service_.calls,
            (std::vector<std::string>{"reload_failed", "apply", "reload_ok",
                                      "apply", "reload_ok", "shutdown"}));
  ASSERT_EQ(service_.applied.size(), 2u);
  EXPECT_EQ(service_.applied[0].log_level, LogLevel::kDebug);
  EXPECT_EQ(events.waits(), 4);
}

TEST_F(RunnerTest, ReloadKeepsTheFlagsOverTheFile) {
  flags_.log_level = "error";
  flags_.log_level_set = true;
  ScriptedEvents events({{Writes("log:\n  level: debug\n"), RunEvent::kReload},
                         {nullptr, RunEvent::kTerminate}});
  Runner(flags_, running_, &service_).Run(&events);
  ASSERT_EQ(service_.applied.size(), 1u);
  EXPECT_EQ(service_.applied[0].log_level, LogLevel::kError);
}

TEST_F(RunnerTest, ANewListenAddressWarnsThatItWaitsForTheNextStart) {
  ScriptedEvents events(
      {{Writes("log:\n  level: info\n"), RunEvent::kReload},
       {Writes("web:\n  listen_address: \"127.0.0.1:1\"\n"), RunEvent::kReload},
       {nullptr, RunEvent::kTerminate}});
  testing::internal::CaptureStderr();
  Runner(flags_, running_, &service_).Run(&events);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(service_.calls,
            (std::vector<std::string>{"apply", "reload_ok", "apply",
                                      "reload_ok", "shutdown"}));
  // Once: for the second reload only.
  const std::string warning = "take effect at the next start";
  const std::size_t first = log.find(warning);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(warning, first + 1), std::string::npos) << log;
  EXPECT_NE(log.find("shutting down"), std::string::npos) << log;
  EXPECT_NE(log.find("signal=SIGTERM"), std::string::npos) << log;
}

TEST_F(RunnerTest, ReloadReadsTheWebConfigurationToo) {
  flags_.web_config_file = dir_ + "/web.yml";
  const auto write_web = [this](const std::string& text) {
    return [this, text] {
      std::ofstream(flags_.web_config_file, std::ios::trunc) << text;
    };
  };
  ScriptedEvents events(
      {{write_web("http_server_config:\n  headers:\n    X-Frame-Options: "
                  "deny\n"),
        RunEvent::kReload},
       {write_web("basic_auth_users:\n  bob: not-a-bcrypt-hash\n"),
        RunEvent::kReload},
       {nullptr, RunEvent::kTerminate}});
  Runner(flags_, running_, &service_).Run(&events);
  std::remove(flags_.web_config_file.c_str());
  // An unreadable web configuration fails both reloads and is not applied;
  // the runtime configuration, valid, is.
  EXPECT_EQ(service_.calls,
            (std::vector<std::string>{"apply", "apply_web", "web_reload_ok",
                                      "reload_ok", "apply", "web_reload_failed",
                                      "reload_failed", "shutdown"}));
}

}  // namespace
}  // namespace nsexp
