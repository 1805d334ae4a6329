// The eight Linux namespace types, their kernel names, and sets of them.
// The one list of types: every module that names or selects types uses it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
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

// The kernel names in order, separated by ", " with "or" before the last:
// "cgroup, ipc, mnt, net, pid, time, user or uts", for "expected ..."
// messages. Pure.
std::string NamespaceTypeNameList();

// A set of namespace types, selected by type (never by position). A plain
// value: copyable, comparable, no allocation. Empty when default-built.
class NamespaceTypeSet {
 public:
  constexpr NamespaceTypeSet() = default;
  // The set of the listed types.
  constexpr NamespaceTypeSet(std::initializer_list<NamespaceType> types) {
    for (NamespaceType t : types) Add(t);
  }

  // All eight types.
  static constexpr NamespaceTypeSet All() {
    NamespaceTypeSet set;
    for (NamespaceType t : kAllNamespaceTypes) set.Add(t);
    return set;
  }

  constexpr bool Contains(NamespaceType type) const {
    return (bits_ & Bit(type)) != 0;
  }
  constexpr void Add(NamespaceType type) { bits_ |= Bit(type); }
  constexpr void Remove(NamespaceType type) {
    bits_ &= static_cast<std::uint8_t>(~Bit(type));
  }
  constexpr bool empty() const { return bits_ == 0; }

  constexpr bool operator==(const NamespaceTypeSet& other) const {
    return bits_ == other.bits_;
  }
  constexpr bool operator!=(const NamespaceTypeSet& other) const {
    return bits_ != other.bits_;
  }

 private:
  static constexpr std::uint8_t Bit(NamespaceType type) {
    return static_cast<std::uint8_t>(1u << TypeIndex(type));
  }

  std::uint8_t bits_ = 0;
};
static_assert(kNamespaceTypeCount <= 8, "NamespaceTypeSet holds 8 bits");

// "{net, pid}": the kernel names of the members in order, for messages and
// test failures. Pure.
std::string ToString(const NamespaceTypeSet& set);

// Writes ToString(set), so that test failures show the members.
std::ostream& operator<<(std::ostream& os, const NamespaceTypeSet& set);

}  // namespace nsexp
