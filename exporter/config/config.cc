// Command-line parsing with CLI11.
#include "config/config.h"

#include <CLI/CLI.hpp>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include "base/namespace_type.h"

namespace nsexp {

namespace {

// The choices of `tree --type`, from the one list of types.
std::vector<std::string> TypeNames() {
  std::vector<std::string> names;
  names.reserve(kAllNamespaceTypes.size());
  for (NamespaceType t : kAllNamespaceTypes) {
    names.emplace_back(NamespaceTypeName(t));
  }
  return names;
}

// The server's flags, writing into *config.
void AddServeFlags(CLI::App* app, Config* config) {
  app->add_option("--web.listen-address", config->listen_address,
                  "Address on which to expose metrics and web interface")
      ->capture_default_str();
  app->add_option("--web.telemetry-path", config->telemetry_path,
                  "Path under which to expose metrics")
      ->capture_default_str();
  app->add_option("--web.config.file", config->web_config_file,
                  "Path to a web configuration file (basic_auth_users, "
                  "tls_server_config), in the Prometheus exporter-toolkit "
                  "format")
      ->capture_default_str();
  app->add_option("--config.file", config->config_file,
                  "Path to the YAML configuration file")
      ->capture_default_str();
  app->add_flag("--config.check", config->config_check,
                "Validate the flags, --config.file and --web.config.file, "
                "then exit 0 (valid) or 1 (invalid)");
  app->add_option("--path.procfs", config->procfs, "procfs mountpoint")
      ->capture_default_str();
  app->add_option("--log.level", config->log_level,
                  "Only log messages with the given severity or above")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app->add_option("--log.format", config->log_format,
                  "Output format of log messages")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();
}

// The `tree` subcommand and its flags, writing into *config.
CLI::App* AddTreeCommand(CLI::App* app, Config* config) {
  CLI::App* tree = app->add_subcommand(
      "tree", "Print the namespace hierarchy once and exit");
  // `tree --path.procfs=DIR` works as well as `--path.procfs=DIR tree`.
  tree->fallthrough();
  tree->add_option("--type", config->tree_type,
                   "Namespace type: pid and user show their own tree; the "
                   "others are grouped under their owning user namespace")
      ->check(CLI::IsMember(TypeNames()))
      ->capture_default_str();
  tree->add_option("--format", config->tree_format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  tree->add_option("--color", config->tree_color,
                   "Colour in the text format: auto (only on a terminal), "
                   "always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  return tree;
}

// Parses "args" (reversed, as CLI11 takes them). True, with *outcome set,
// when the program must exit now (help, version, a bad flag); false when
// it runs.
bool ParseOrExit(CLI::App* app, std::vector<std::string>* args,
                 FlagOutcome* outcome) {
  try {
    app->parse(*args);
  } catch (const CLI::CallForHelp&) {
    outcome->exit = true;
    outcome->out = app->help();
    return true;
  } catch (const CLI::CallForAllHelp&) {
    outcome->exit = true;
    outcome->out = app->help("", CLI::AppFormatMode::All);
    return true;
  } catch (const CLI::CallForVersion&) {
    outcome->exit = true;
    outcome->out = app->version() + "\n";
    return true;
  } catch (const CLI::ParseError& e) {
    outcome->exit = true;
    outcome->exit_code = 2;
    outcome->err = std::string("linux_namespace_exporter: ") + e.what() +
                   "\n\n" + app->help();
    return true;
  } catch (const std::exception& e) {
    outcome->exit = true;
    outcome->exit_code = 2;
    outcome->err = std::string("linux_namespace_exporter: ") + e.what() + "\n";
    return true;
  }
  return false;
}

}  // namespace

FlagOutcome ParseFlags(int argc, const char* const* argv,
                       const std::string& version, const std::string& revision,
                       Config* config) {
  FlagOutcome outcome;
  CLI::App app{
      "Prometheus exporter for the Linux namespace hierarchy of this host.",
      "linux_namespace_exporter"};
  app.get_formatter()->column_width(36);
  app.set_version_flag("--version",
                       "linux_namespace_exporter version " + version +
                           " (revision " + revision + ")",
                       "Print version and revision, then exit");
  AddServeFlags(&app, config);
  CLI::App* tree = AddTreeCommand(&app, config);
  std::vector<std::string> args;
  for (int i = argc - 1; i > 0; --i) args.emplace_back(argv[i]);
  if (ParseOrExit(&app, &args, &outcome)) return outcome;
  if (tree->parsed()) config->command = Config::Command::kTree;
  config->listen_address_set = app.count("--web.listen-address") > 0;
  config->telemetry_path_set = app.count("--web.telemetry-path") > 0;
  config->log_level_set = app.count("--log.level") > 0;
  config->log_format_set = app.count("--log.format") > 0;
  return outcome;
}

}  // namespace nsexp
