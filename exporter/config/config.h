// Config: the command-line flags, as given (see runtime_config.h for the
// settings the exporter runs with, flags and file together).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace nsexp {

struct Config {
  enum class Command { kServe, kTree };

  Command command = Command::kServe;
  std::string listen_address = ":19101";
  std::string telemetry_path = "/metrics";
  std::string web_config_file;  // exporter-toolkit web configuration
  std::string config_file;      // the YAML configuration
  bool config_check = false;    // validate the files and exit
  std::string procfs = "/proc";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  // Which of the settings above were given as flags: a flag overrides the
  // configuration file, a default does not.
  bool listen_address_set = false;
  bool telemetry_path_set = false;
  bool log_level_set = false;
  bool log_format_set = false;
  // The tree subcommand.
  std::string tree_type = "pid";
  std::string tree_format = "text";
};

// What ParseFlags decided: run with the config, or exit now with a code
// after printing "out" to stdout and "err" to stderr.
struct FlagOutcome {
  bool exit = false;
  int exit_code = 0;
  std::string out;
  std::string err;
};

// Parses the command line into *config, node_exporter style
// (--web.listen-address=..., --path.procfs=...), plus the `tree`
// subcommand. --help and --version exit 0; an unknown flag, a missing
// value or an invalid choice prints the error and usage to stderr and exits
// 2. "version" and "revision" feed --version. Never throws.
FlagOutcome ParseFlags(int argc, const char* const* argv,
                       const std::string& version, const std::string& revision,
                       Config* config);

}  // namespace nsexp
