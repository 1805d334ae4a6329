// Discovery against namespaces the test makes itself, checked against what
// the kernel says: readlink and stat of /proc/PID/ns/*, NStgid in
// /proc/PID/status, NS_GET_ID, and lsns(8). Root only.
#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ns/discovery.h"
#include "ns/namespace_ops.h"
#include "ns/tree_view.h"
#include "population.h"
#include "proc/proc_fs.h"

namespace {

using nsexp::NamespaceGraph;
using nsexp::NamespaceInfo;
using nsexp::NamespaceType;
using nsexp_test::Children;
using nsexp_test::NsInode;
using nsexp_test::NsIoctlId;
using nsexp_test::NsStatInode;
using nsexp_test::NsTgid;
using nsexp_test::Population;

#define REQUIRE_ROOT()                                                       \
  do {                                                                       \
    if (geteuid() != 0) {                                                    \
      GTEST_SKIP() << "needs root: the test makes namespaces with clone(2) " \
                      "and unshare(2) and reads other processes' ns links";  \
    }                                                                        \
  } while (0)

// A discovery over the real /proc with the real ioctls.
struct Walk {
  std::unique_ptr<nsexp::ProcFs> procfs;
  std::unique_ptr<nsexp::NamespaceOps> ops;
  std::unique_ptr<nsexp::Discoverer> discoverer;
  NamespaceGraph graph;
};

void Discover(bool members, Walk* w) {
  ASSERT_TRUE(nsexp::ProcFs::Open("/proc", &w->procfs).ok());
  w->ops = nsexp::NewRealNamespaceOps();
  w->discoverer =
      std::make_unique<nsexp::Discoverer>(w->procfs.get(), w->ops.get());
  nsexp::DiscoveryOptions opts;
  opts.collect_members = members;
  const nsexp::Status s = w->discoverer->Discover(opts, &w->graph);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // Processes of other users of this host come and go; what this walk
  // could not see must be "vanished" or "denied" (PID 1 is protected on
  // some hosts), never "other".
  EXPECT_EQ(w->graph.stats.other, 0u) << w->graph.stats.first_other;
}

std::string Comm(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string s;
  std::getline(in, s);
  return s;
}

std::string Join(const std::vector<pid_t>& v, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += std::to_string(v[i]);
  }
  return out;
}

// The checks every namespace made by a test shares.
void ExpectAttributes(const NamespaceInfo& info, pid_t any_member,
                      const std::string& type,
                      const std::vector<pid_t>& members) {
  EXPECT_EQ(info.processes, members.size())
      << type << ":[" << info.inode << "]";
  EXPECT_EQ(info.members, members) << type << ":[" << info.inode << "]";
  ASSERT_FALSE(members.empty());
  EXPECT_EQ(info.pid, members.front());
  EXPECT_EQ(info.command, Comm(members.front()));
  const std::uint64_t id = NsIoctlId(any_member, type);
  if (id != 0) {
    EXPECT_EQ(info.ns_id, std::optional<std::uint64_t>(id));
  } else {
    EXPECT_FALSE(info.ns_id.has_value()) << "kernel without NS_GET_ID";
  }
}

// One row of lsns(8).
struct LsnsRow {
  std::uint64_t nprocs = 0, pns = 0, ons = 0;
};
using LsnsTable = std::map<std::pair<std::string, std::uint64_t>, LsnsRow>;

// Runs lsns with the parent and owner columns. lsns fails a whole run when
// a process vanishes under it (util-linux bug 2799), so retry; false when
// it never succeeds or lacks the columns.
//
// lsns is quadratic in the number of namespaces (minutes with 30,000
// processes of another workload in 13,000 namespaces), so each run is
// bounded and only quick failures are retried.
bool Lsns(LsnsTable* out, std::string* why) {
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int attempt = 0;
       attempt < 3 && std::chrono::steady_clock::now() < give_up; ++attempt) {
    FILE* f =
        popen("timeout 10 lsns -r -n -o NS,TYPE,NPROCS,PNS,ONS 2>&1", "r");
    if (f == nullptr) {
      *why = "popen lsns failed";
      return false;
    }
    std::string text;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    const int rc = pclose(f);
    if (rc != 0) {
      *why = "lsns: " + text.substr(0, 200);
      continue;
    }
    out->clear();
    std::istringstream lines(text);
    std::string line;
    bool ok = true;
    while (std::getline(lines, line)) {
      std::istringstream fields(line);
      std::uint64_t ns;
      std::string type;
      LsnsRow row;
      if (!(fields >> ns >> type >> row.nprocs >> row.pns >> row.ons)) {
        ok = false;
        *why = "unexpected lsns line: " + line;
        break;
      }
      (*out)[{type, ns}] = row;
    }
    if (ok) return true;
  }
  return false;
}

void ExpectLsnsAgrees(
    const NamespaceGraph& g,
    const std::vector<std::pair<NamespaceType, std::uint64_t>>& ours) {
  LsnsTable table;
  std::string why;
  if (!Lsns(&table, &why)) {
    // The other checks stand on readlink, stat and status alone.
    std::printf("lsns cross-check not possible here: %s\n", why.c_str());
    return;
  }
  for (const auto& [type, inode] : ours) {
    const std::string name(nsexp::NamespaceTypeName(type));
    const NamespaceInfo* info = g.Find(type, inode);
    ASSERT_NE(info, nullptr);
    auto it = table.find({name, inode});
    ASSERT_NE(it, table.end())
        << "lsns does not list " << name << ":[" << inode << "]";
    EXPECT_EQ(it->second.nprocs, info->processes)
        << name << ":[" << inode << "]";
    if (nsexp::IsHierarchical(type)) {
      EXPECT_EQ(it->second.pns, info->parent_inode.value_or(0)) << name;
    }
    EXPECT_EQ(it->second.ons, info->owner_inode.value_or(0)) << name;
  }
}

// Indentation of the line of the text tree that starts "<type>:[<inode>]";
// -1 when absent. Sets *line_no.
int HeaderIndent(const std::string& text, const std::string& label,
                 std::size_t* line_no) {
  std::istringstream in(text);
  std::string line;
  for (std::size_t i = 0; std::getline(in, line); ++i) {
    const std::size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos &&
        line.compare(first, label.size(), label) == 0 &&
        (line.size() == first + label.size() ||
         line[first + label.size()] == ' ')) {
      *line_no = i;
      return static_cast<int>(first);
    }
  }
  return -1;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

TEST(RealNamespaces, PidNamespacesNestedThreeDeep) {
  REQUIRE_ROOT();
  Population pop;
  std::string why;
  ASSERT_TRUE(pop.MakePidChain(&why)) << why;

  const pid_t self = getpid();
  const std::uint64_t self_pidns = NsInode(self, "pid");
  const std::uint64_t self_userns = NsInode(self, "user");
  const std::size_t base = NsTgid(self).size();
  ASSERT_GE(base, 1u);

  // What the kernel says, independently of the exporter's code.
  std::vector<std::uint64_t> ns;
  std::vector<std::vector<pid_t>> members;
  for (std::size_t k = 0; k < 3; ++k) {
    const pid_t init = pop.pid_chain[k];
    ns.push_back(NsInode(init, "pid"));
    ASSERT_NE(ns[k], 0u);
    EXPECT_EQ(NsStatInode(init, "pid"), ns[k]) << "stat and readlink disagree";
    EXPECT_NE(ns[k], k == 0 ? self_pidns : ns[k - 1]);
    const std::vector<pid_t> nst = NsTgid(init);
    ASSERT_EQ(nst.size(), base + k + 1) << "NStgid of " << init;
    EXPECT_EQ(nst.front(), init);
    EXPECT_EQ(nst.back(), 1) << "an init is PID 1 in its namespace";
    EXPECT_EQ(nst[base + k - 1], pop.pid_in_parent[k])
        << "the creator's clone() result is the NStgid entry one level up";
    members.push_back({init});
  }
  std::set<pid_t> leaf_ids;
  for (pid_t leaf : pop.pid_leaves) {
    EXPECT_EQ(NsInode(leaf, "pid"), ns[2]);
    const std::vector<pid_t> nst = NsTgid(leaf);
    ASSERT_EQ(nst.size(), base + 3);
    leaf_ids.insert(nst.back());
    members[2].push_back(leaf);
  }
  EXPECT_EQ(leaf_ids, (std::set<pid_t>{2, 3}));
  std::sort(members[2].begin(), members[2].end());

  Walk w;
  ASSERT_NO_FATAL_FAILURE(Discover(true, &w));
  const NamespaceGraph& g = w.graph;
  const NamespaceInfo* top = g.Find(NamespaceType::kPid, self_pidns);
  ASSERT_NE(top, nullptr);
  EXPECT_GE(top->children, 1u);
  for (std::size_t k = 0; k < 3; ++k) {
    SCOPED_TRACE("level " + std::to_string(k + 1));
    const NamespaceInfo* info = g.Find(NamespaceType::kPid, ns[k]);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->parent_inode,
              std::optional<std::uint64_t>(k == 0 ? self_pidns : ns[k - 1]));
    EXPECT_EQ(info->depth, top->depth + k + 1);
    EXPECT_EQ(info->children, k < 2 ? 1u : 0u);
    EXPECT_EQ(info->owner_inode, std::optional<std::uint64_t>(self_userns));
    EXPECT_FALSE(info->owner_uid.has_value()) << "owner_uid is for user only";
    ExpectAttributes(*info, pop.pid_chain[k], "pid", members[k]);
  }

  // The tree view: every member with the kernel's NStgid, each namespace
  // one level (4 spaces) below its parent.
  const std::string json = nsexp::RenderTree(*w.procfs, g, NamespaceType::kPid,
                                             nsexp::TreeFormat::kJson);
  const std::string text = nsexp::RenderTree(*w.procfs, g, NamespaceType::kPid,
                                             nsexp::TreeFormat::kText);
  const std::vector<std::string> lines = Lines(text);
  int prev_indent = -1;
  for (std::size_t k = 0; k < 3; ++k) {
    std::size_t at = 0;
    const int indent =
        HeaderIndent(text, "pid:[" + std::to_string(ns[k]) + "]", &at);
    ASSERT_GE(indent, 0) << "pid:[" << ns[k] << "] not in the text tree";
    if (k > 0) {
      EXPECT_EQ(indent, prev_indent + 4);
    }
    prev_indent = indent;
    for (std::size_t m = 0; m < members[k].size(); ++m) {
      const pid_t p = members[k][m];
      const std::vector<pid_t> nst = NsTgid(p);
      EXPECT_NE(json.find("{\"pid\":" + std::to_string(p) + ",\"nstgid\":[" +
                          Join(nst, ",") + "],\"command\":\"" + Comm(p) + "\""),
                std::string::npos)
          << "JSON tree lacks " << p << " with NStgid [" << Join(nst, " ")
          << "]";
      ASSERT_LT(at + 1 + m, lines.size());
      EXPECT_EQ(lines[at + 1 + m],
                std::string(static_cast<std::size_t>(indent) + 8, ' ') + "[" +
                    Join(nst, " ") + "]  " + Comm(p));
    }
  }

  std::vector<std::pair<NamespaceType, std::uint64_t>> ours;
  for (std::uint64_t inode : ns) ours.emplace_back(NamespaceType::kPid, inode);
  ExpectLsnsAgrees(g, ours);
}

TEST(RealNamespaces, UserNamespacesNestedTwoDeep) {
  REQUIRE_ROOT();
  Population pop;
  std::string why;
  ASSERT_TRUE(pop.MakeUserChain(&why)) << why;

  const pid_t self = getpid();
  const std::uint64_t self_userns = NsInode(self, "user");
  const std::uint64_t outer = NsInode(pop.user_outer_procs[0], "user");
  const std::uint64_t inner = NsInode(pop.user_inner_proc, "user");
  const std::uint64_t uts = NsInode(pop.user_inner_uts_proc, "uts");
  ASSERT_NE(outer, 0u);
  ASSERT_NE(inner, 0u);
  ASSERT_NE(uts, 0u);
  EXPECT_NE(outer, self_userns);
  EXPECT_NE(inner, outer);
  EXPECT_EQ(NsStatInode(pop.user_inner_proc, "user"), inner);
  EXPECT_EQ(NsInode(pop.user_inner_uts_proc, "user"), inner);
  EXPECT_NE(uts, NsInode(pop.user_inner_proc, "uts"));
  const std::vector<pid_t> inner_members = std::vector<pid_t>{
      std::min(pop.user_inner_proc, pop.user_inner_uts_proc),
      std::max(pop.user_inner_proc, pop.user_inner_uts_proc)};

  Walk w;
  ASSERT_NO_FATAL_FAILURE(Discover(true, &w));
  const NamespaceGraph& g = w.graph;
  const NamespaceInfo* top = g.Find(NamespaceType::kUser, self_userns);
  ASSERT_NE(top, nullptr);

  const NamespaceInfo* o = g.Find(NamespaceType::kUser, outer);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->parent_inode, std::optional<std::uint64_t>(self_userns));
  EXPECT_EQ(o->owner_inode, std::optional<std::uint64_t>(self_userns))
      << "a user namespace's owner is its parent";
  EXPECT_EQ(o->owner_uid, std::optional<uid_t>(0));
  EXPECT_EQ(o->depth, top->depth + 1);
  EXPECT_EQ(o->children, 1u);
  ExpectAttributes(*o, pop.user_outer_procs[0], "user", pop.user_outer_procs);

  const NamespaceInfo* i = g.Find(NamespaceType::kUser, inner);
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->parent_inode, std::optional<std::uint64_t>(outer));
  EXPECT_EQ(i->owner_inode, std::optional<std::uint64_t>(outer));
  EXPECT_EQ(i->owner_uid, std::optional<uid_t>(Population::kInnerCreatorUid))
      << "created by a process with that euid";
  EXPECT_EQ(i->depth, top->depth + 2);
  EXPECT_EQ(i->children, 0u);
  ExpectAttributes(*i, pop.user_inner_proc, "user", inner_members);

  const NamespaceInfo* u = g.Find(NamespaceType::kUts, uts);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->owner_inode, std::optional<std::uint64_t>(inner))
      << "made by a process of the inner user namespace";
  EXPECT_FALSE(u->parent_inode.has_value());
  EXPECT_FALSE(u->owner_uid.has_value());
  ExpectAttributes(*u, pop.user_inner_uts_proc, "uts",
                   {pop.user_inner_uts_proc});

  // Text trees: the inner user namespace one level below the outer, and the
  // uts namespace listed one level below the user namespace that owns it.
  const std::string user_text = nsexp::RenderTree(
      *w.procfs, g, NamespaceType::kUser, nsexp::TreeFormat::kText);
  std::size_t at = 0;
  const int outer_indent =
      HeaderIndent(user_text, "user:[" + std::to_string(outer) + "]", &at);
  const int inner_indent =
      HeaderIndent(user_text, "user:[" + std::to_string(inner) + "]", &at);
  ASSERT_GE(outer_indent, 0);
  EXPECT_EQ(inner_indent, outer_indent + 4);
  EXPECT_NE(Lines(user_text)[at].find(
                " owner_uid=" + std::to_string(Population::kInnerCreatorUid)),
            std::string::npos)
      << Lines(user_text)[at];
  const std::string uts_text = nsexp::RenderTree(
      *w.procfs, g, NamespaceType::kUts, nsexp::TreeFormat::kText);
  std::size_t owner_line = 0, uts_line = 0;
  const int owner_indent = HeaderIndent(
      uts_text, "user:[" + std::to_string(inner) + "]", &owner_line);
  const int uts_indent =
      HeaderIndent(uts_text, "uts:[" + std::to_string(uts) + "]", &uts_line);
  ASSERT_GE(owner_indent, 0);
  EXPECT_EQ(uts_indent, owner_indent + 4);
  EXPECT_EQ(uts_line, owner_line + 1);

  ExpectLsnsAgrees(g, {{NamespaceType::kUser, outer},
                       {NamespaceType::kUser, inner},
                       {NamespaceType::kUts, uts}});
}

TEST(RealNamespaces, FlatNamespacesCountTheirProcesses) {
  REQUIRE_ROOT();
  Population pop;
  const pid_t self = getpid();
  const std::uint64_t self_userns = NsInode(self, "user");
  const std::vector<std::pair<NamespaceType, std::string>> types = {
      {NamespaceType::kCgroup, "cgroup"}, {NamespaceType::kIpc, "ipc"},
      {NamespaceType::kMnt, "mnt"},       {NamespaceType::kNet, "net"},
      {NamespaceType::kTime, "time"},     {NamespaceType::kUts, "uts"}};
  std::vector<std::vector<pid_t>> members(types.size());
  std::vector<std::uint64_t> inodes(types.size());
  for (std::size_t t = 0; t < types.size(); ++t) {
    const std::string& name = types[t].second;
    std::string why;
    // 1 to 3 extra processes, so that the counts differ between types.
    const int extra = 1 + static_cast<int>(t % 3);
    ASSERT_TRUE(pop.MakeFlat(name, extra, &members[t], &why)) << why;
    ASSERT_EQ(members[t].size(),
              static_cast<std::size_t>(extra + (name == "time" ? 0 : 1)));
    inodes[t] = NsInode(members[t][0], name);
    ASSERT_NE(inodes[t], 0u);
    EXPECT_NE(inodes[t], NsInode(self, name)) << name;
    for (pid_t p : members[t]) {
      EXPECT_EQ(NsInode(p, name), inodes[t]) << name << " pid " << p;
      EXPECT_EQ(NsStatInode(p, name), inodes[t]) << name << " pid " << p;
    }
  }

  Walk w;
  ASSERT_NO_FATAL_FAILURE(Discover(true, &w));
  std::vector<std::pair<NamespaceType, std::uint64_t>> ours;
  for (std::size_t t = 0; t < types.size(); ++t) {
    SCOPED_TRACE(types[t].second);
    const NamespaceInfo* info = w.graph.Find(types[t].first, inodes[t]);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->owner_inode, std::optional<std::uint64_t>(self_userns));
    EXPECT_FALSE(info->parent_inode.has_value());
    EXPECT_FALSE(info->owner_uid.has_value());
    EXPECT_EQ(info->depth, 0u);
    EXPECT_EQ(info->children, 0u);
    ExpectAttributes(*info, members[t][0], types[t].second, members[t]);
    ours.emplace_back(types[t].first, inodes[t]);
  }
  ExpectLsnsAgrees(w.graph, ours);
}

TEST(RealNamespaces, ChurnIsCountedAsExitsAndNeverFailsTheWalk) {
  REQUIRE_ROOT();
  Population pop;
  std::string why;
  ASSERT_TRUE(pop.StartChurn(&why)) << why;

  std::unique_ptr<nsexp::ProcFs> procfs;
  ASSERT_TRUE(nsexp::ProcFs::Open("/proc", &procfs).ok());
  auto ops = nsexp::NewRealNamespaceOps();
  nsexp::Discoverer discoverer(procfs.get(), ops.get());
  nsexp::DiscoveryOptions opts;

  // Walk while processes (and uts/ipc namespaces) come and go, until some
  // walk has seen one exit, within a few seconds. A process caught after
  // its exit but before its reaping is a zombie; one reaped while the walk
  // reads it has vanished: both are exits, neither is an error.
  std::uint64_t vanished = 0, zombies = 0;
  int walks = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while ((vanished + zombies == 0 || walks < 50) &&
         std::chrono::steady_clock::now() < deadline) {
    NamespaceGraph g;
    const nsexp::Status s = discoverer.Discover(opts, &g);
    ASSERT_TRUE(s.ok()) << "walk " << walks << ": " << s.ToString();
    ASSERT_EQ(g.stats.other, 0u)
        << "walk " << walks << ": " << g.stats.first_other;
    EXPECT_GT(g.stats.processes_scanned, 0u);
    vanished += g.stats.vanished;
    zombies += g.stats.zombies;
    opts.collect_members = !opts.collect_members;
    ++walks;
  }
  EXPECT_GT(vanished + zombies, 0u)
      << "no exit observed in " << walks << " walks";
  std::printf(
      "%d walks under churn: %llu processes vanished mid-walk, %llu "
      "seen as zombies\n",
      walks, static_cast<unsigned long long>(vanished),
      static_cast<unsigned long long>(zombies));
}

// A zombie is listed in /proc, but its ns links other than pid and user
// are gone. It used to be counted as "vanished" on every walk, so that the
// counter climbed for as long as the zombie lived. Read through a procfs
// of its own pid namespace, where nothing else comes and goes, every count
// is exact.
TEST(RealNamespaces, ZombiesAreCountedApartOnEveryWalk) {
  REQUIRE_ROOT();
  Population pop;
  std::string why;
  ASSERT_TRUE(pop.MakeZombiesInOwnPidNamespace(&why)) << why;
  for (pid_t z : pop.zombies) {
    std::ifstream stat("/proc/" + std::to_string(z) + "/stat");
    std::string text;
    std::getline(stat, text);
    ASSERT_NE(text.find(") Z "), std::string::npos) << text;
    EXPECT_NE(NsInode(z, "pid"), 0u) << "a zombie's pid link still reads";
  }

  std::unique_ptr<nsexp::ProcFs> procfs;
  const nsexp::Status os = nsexp::ProcFs::Open(pop.zombie_procfs, &procfs);
  ASSERT_TRUE(os.ok()) << os.ToString();
  auto ops = nsexp::NewRealNamespaceOps();
  nsexp::Discoverer discoverer(procfs.get(), ops.get());
  nsexp::DiscoveryOptions opts;
  opts.collect_members = true;
  const std::uint64_t pidns = NsInode(pop.zombie_init, "pid");
  for (int walk = 0; walk < 3; ++walk) {
    SCOPED_TRACE("walk " + std::to_string(walk));
    NamespaceGraph g;
    const nsexp::Status s = discoverer.Discover(opts, &g);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(g.stats.processes_scanned, 3u);  // the init and its two
    EXPECT_EQ(g.stats.zombies, 2u);
    EXPECT_EQ(g.stats.vanished, 0u);
    EXPECT_EQ(g.stats.permission_denied, 0u) << g.stats.first_denied;
    EXPECT_EQ(g.stats.other, 0u) << g.stats.first_other;
    // PIDs as that procfs numbers them: all three are in the pid namespace,
    // only the init is still in a net namespace.
    const NamespaceInfo* own = g.Find(NamespaceType::kPid, pidns);
    ASSERT_NE(own, nullptr);
    EXPECT_EQ(own->members, (std::vector<pid_t>{1, 2, 3}));
    const NamespaceInfo* net =
        g.Find(NamespaceType::kNet, NsInode(pop.zombie_init, "net"));
    ASSERT_NE(net, nullptr);
    EXPECT_EQ(net->members, std::vector<pid_t>{1});
  }
}

}  // namespace
