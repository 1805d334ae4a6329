// The one YAML loader of config/: both configuration files (--config.file
// and --web.config.file) are read, parsed and walked with these helpers, so
// that they follow the same rules (YAML 1.1 booleans, no duplicate keys,
// one document, a directory is an error) and say so in the same words:
// "NAME:LINE:COLUMN: where: found X, want Y".
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace nsexp {

// A check that failed at "mark". Thrown by the helpers below and by the
// parsers' own checks inside ParseYamlDocument(), which turns it into a
// Status; never escapes config/.
struct YamlError {
  YAML::Mark mark;
  std::string message;
};

// Throws YamlError{mark, message}.
[[noreturn]] void YamlFail(const YAML::Mark& mark, std::string message);

// "file:line:column" with 1-based numbers, or just "file" for a null mark.
// Pure.
std::string YamlPosition(const std::string& file, const YAML::Mark& mark);

// "nothing", "a scalar", "a list" or "a mapping", for "found X" messages.
// Pure.
const char* YamlKindName(const YAML::Node& node);

// Reads the whole file at "path" into *text. "flag" names the setting in
// messages ("--config.file"). kInvalidArgument "FLAG PATH: is a directory"
// for a directory; kNotFound / kPermissionDenied / kIoError "FLAG PATH: why"
// when it cannot be read. Never throws.
[[nodiscard]] Status ReadYamlFile(const std::string& flag,
                                  const std::string& path, std::string* text);

// The most nodes (scalars, lists, mappings, aliases, documents) a text
// given to ParseYamlDocument() may hold; far more than any configuration
// file needs.
inline constexpr std::size_t kMaxYamlNodes = 100000;

// Parses "text" as at most one YAML document and calls walk(root) on it (a
// null node for an empty text). YamlError thrown by "walk" becomes
// kInvalidArgument "NAME:LINE:COLUMN: message"; a YAML syntax error becomes
// "NAME:LINE:COLUMN: invalid YAML: reason"; more than one document is an
// error, and so is a text of more than kMaxYamlNodes nodes ("invalid YAML:
// more than N nodes", which is also what input that would make yaml-cpp
// loop forever gives). Never throws.
[[nodiscard]] Status ParseYamlDocument(
    const std::string& text, const std::string& name,
    const std::function<void(const YAML::Node& root)>& walk);

// Visits each key of a mapping in order (nothing for null). Throws
// YamlError for a non-mapping ("WHERE: found X, want a mapping"), a key that
// is not a string, a duplicate key ("WHERE: duplicate key \"k\"") and a key
// outside "allowed" ("WHERE: unknown key \"k\" (want a, b or c)"); an empty
// "allowed" admits any key.
void ForEachYamlKey(
    const YAML::Node& map, const std::string& where,
    const std::vector<std::string>& allowed,
    const std::function<void(const std::string& key, const YAML::Node& key_node,
                             const YAML::Node& value)>& visit);

// ForEachYamlKey() with nothing to visit: checks the keys only.
void CheckYamlKeys(const YAML::Node& map, const std::string& where,
                   const std::vector<std::string>& allowed);

// A scalar's text; "" for null (as Go's yaml reads an empty value). Throws
// YamlError "WHERE: found X, want a string" otherwise.
std::string YamlString(const YAML::Node& node, const std::string& where);

// A YAML 1.1 boolean, as Go's yaml.v2 reads them: true/True/TRUE, yes/Yes/
// YES, on/On/ON and their false, no and off counterparts. Throws YamlError
// "WHERE: found \"v\", want true or false" for any other scalar and
// "WHERE: found X, want true or false" for a non-scalar.
bool YamlBool(const YAML::Node& node, const std::string& where);

// A list of strings; empty for null. Throws YamlError "WHERE: found X, want
// a list of strings" for anything else, and YamlString()'s error (with
// "WHERE[]") for an item that is not a string.
std::vector<std::string> YamlStringList(const YAML::Node& node,
                                        const std::string& where);

}  // namespace nsexp
