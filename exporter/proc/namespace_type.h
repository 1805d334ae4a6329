// The eight Linux namespace types and their kernel names.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace nsexp {

// Ordered as the kernel's names sort, which is also the export order.
enum class NamespaceType {
  kCgroup = 0,
  kIpc,
  kMnt,
  kNet,
  kPid,
  kTime,
  kUser,
  kUts,
};

inline constexpr std::size_t kNamespaceTypeCount = 8;

inline constexpr std::array<NamespaceType, kNamespaceTypeCount>
    kAllNamespaceTypes = {
        NamespaceType::kCgroup, NamespaceType::kIpc, NamespaceType::kMnt,
        NamespaceType::kNet,    NamespaceType::kPid, NamespaceType::kTime,
        NamespaceType::kUser,   NamespaceType::kUts,
};

// The kernel's name: "cgroup", "ipc", "mnt", "net", "pid", "time", "user",
// "uts" (the /proc/PID/ns/ entry and the `type` label).
std::string_view NamespaceTypeName(NamespaceType type);

// Inverse of NamespaceTypeName; nullopt for anything else.
std::optional<NamespaceType> ParseNamespaceType(std::string_view name);

// True for the types with a parent (pid and user).
inline constexpr bool IsHierarchical(NamespaceType type) {
  return type == NamespaceType::kPid || type == NamespaceType::kUser;
}

inline constexpr std::size_t TypeIndex(NamespaceType type) {
  return static_cast<std::size_t>(type);
}

}  // namespace nsexp
