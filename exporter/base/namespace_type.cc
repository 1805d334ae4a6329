// Namespace type names and sets.
#include "base/namespace_type.h"

#include <ostream>

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

std::string NamespaceTypeNameList() {
  std::string out;
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (i > 0) out += i + 1 == kNames.size() ? " or " : ", ";
    out += kNames[i];
  }
  return out;
}

std::string ToString(const NamespaceTypeSet& set) {
  std::string out = "{";
  for (NamespaceType t : kAllNamespaceTypes) {
    if (!set.Contains(t)) continue;
    if (out.size() > 1) out += ", ";
    out += NamespaceTypeName(t);
  }
  return out + "}";
}

std::ostream& operator<<(std::ostream& os, const NamespaceTypeSet& set) {
  return os << ToString(set);
}

}  // namespace nsexp
