// Tests of the namespace type names.
#include "proc/namespace_type.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace nsexp {
namespace {

TEST(NamespaceTypeTest, NamesRoundTripInSortedOrder) {
  const char* const want[] = {"cgroup", "ipc",  "mnt",  "net",
                              "pid",    "time", "user", "uts"};
  ASSERT_EQ(kAllNamespaceTypes.size(), 8u);
  std::string previous;
  for (std::size_t i = 0; i < kAllNamespaceTypes.size(); ++i) {
    const NamespaceType t = kAllNamespaceTypes[i];
    EXPECT_EQ(TypeIndex(t), i);
    EXPECT_EQ(NamespaceTypeName(t), want[i]);
    EXPECT_EQ(ParseNamespaceType(want[i]), t);
    EXPECT_LT(previous, std::string(want[i]));
    previous = want[i];
  }
}

TEST(NamespaceTypeTest, UnknownNamesRejected) {
  for (const char* name : {"", "Net", "pid_for_children", "time_for_children",
                           "network", "user ", "mount"}) {
    EXPECT_EQ(ParseNamespaceType(name), std::nullopt) << name;
  }
}

TEST(NamespaceTypeTest, OnlyPidAndUserAreHierarchical) {
  std::set<std::string> hierarchical;
  for (NamespaceType t : kAllNamespaceTypes) {
    if (IsHierarchical(t))
      hierarchical.insert(std::string(NamespaceTypeName(t)));
  }
  EXPECT_EQ(hierarchical, (std::set<std::string>{"pid", "user"}));
}

}  // namespace
}  // namespace nsexp
