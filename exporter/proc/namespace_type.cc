// Namespace type names.
#include "proc/namespace_type.h"

namespace nsexp {

namespace {
constexpr std::array<std::string_view, kNamespaceTypeCount> kNames = {
    "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};
}  // namespace

std::string_view NamespaceTypeName(NamespaceType type) {
  return kNames[TypeIndex(type)];
}

std::optional<NamespaceType> ParseNamespaceType(std::string_view name) {
  for (NamespaceType t : kAllNamespaceTypes) {
    if (kNames[TypeIndex(t)] == name) return t;
  }
  return std::nullopt;
}

}  // namespace nsexp
