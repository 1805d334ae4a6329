// What the YAML parsers of config/ share: positions and node kinds in
// messages.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace nsexp {

// "file:line:column" with 1-based numbers, or just "file" for a null mark.
// Pure.
std::string YamlPosition(const std::string& file, const YAML::Mark& mark);

// "nothing", "a scalar", "a list" or "a mapping", for "found X" messages.
// Pure.
const char* YamlKindName(const YAML::Node& node);

}  // namespace nsexp
