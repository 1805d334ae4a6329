// Tests of the namespace type names and of NamespaceTypeSet.
#include "base/namespace_type.h"

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

TEST(NamespaceTypeTest, NameListSaysEveryTypeInOrder) {
  EXPECT_EQ(NamespaceTypeNameList(),
            "cgroup, ipc, mnt, net, pid, time, user or uts");
}

TEST(NamespaceTypeSetTest, DefaultIsEmptyAndAllHasEveryType) {
  const NamespaceTypeSet none;
  const NamespaceTypeSet all = NamespaceTypeSet::All();
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(all.empty());
  for (NamespaceType t : kAllNamespaceTypes) {
    EXPECT_FALSE(none.Contains(t)) << NamespaceTypeName(t);
    EXPECT_TRUE(all.Contains(t)) << NamespaceTypeName(t);
  }
  EXPECT_NE(none, all);
}

TEST(NamespaceTypeSetTest, AddAndRemoveTouchOnlyTheirType) {
  for (NamespaceType t : kAllNamespaceTypes) {
    NamespaceTypeSet one;
    one.Add(t);
    NamespaceTypeSet all_but_one = NamespaceTypeSet::All();
    all_but_one.Remove(t);
    for (NamespaceType u : kAllNamespaceTypes) {
      EXPECT_EQ(one.Contains(u), u == t);
      EXPECT_EQ(all_but_one.Contains(u), u != t);
    }
    EXPECT_EQ(one, NamespaceTypeSet({t}));
    one.Remove(t);
    EXPECT_TRUE(one.empty());
  }
}

TEST(NamespaceTypeSetTest, ListedTypesAndPrinting) {
  const NamespaceTypeSet set = {NamespaceType::kPid, NamespaceType::kNet,
                                NamespaceType::kPid};
  EXPECT_TRUE(set.Contains(NamespaceType::kNet));
  EXPECT_TRUE(set.Contains(NamespaceType::kPid));
  EXPECT_FALSE(set.Contains(NamespaceType::kUser));
  EXPECT_EQ(ToString(set), "{net, pid}");
  EXPECT_EQ(ToString(NamespaceTypeSet()), "{}");
  EXPECT_EQ(ToString(NamespaceTypeSet::All()),
            "{cgroup, ipc, mnt, net, pid, time, user, uts}");
}

}  // namespace
}  // namespace nsexp
