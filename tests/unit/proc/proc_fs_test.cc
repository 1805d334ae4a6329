// Tests of the /proc parsers (table-driven) and of ProcFs over fixture trees.
#include "proc/proc_fs.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace nsexp {
namespace {

using testing::ElementsAre;

const std::string kFixtures = std::string(NSEXP_FIXTURES_DIR) + "/proc/";

// ---------------------------------------------------------------------------
// ParseNamespaceLink

struct LinkCase {
  const char* text;
  std::optional<NamespaceLink> want;
};

class ParseNamespaceLinkTest : public testing::TestWithParam<LinkCase> {};

TEST_P(ParseNamespaceLinkTest, Parses) {
  const LinkCase& c = GetParam();
  const auto got = ParseNamespaceLink(c.text);
  ASSERT_EQ(got.has_value(), c.want.has_value()) << '"' << c.text << '"';
  if (got) {
    EXPECT_EQ(got->type, c.want->type) << c.text;
    EXPECT_EQ(got->inode, c.want->inode) << c.text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Valid, ParseNamespaceLinkTest,
    testing::Values(LinkCase{"cgroup:[4026531835]",
                             NamespaceLink{NamespaceType::kCgroup, 4026531835}},
                    LinkCase{"ipc:[4026531839]",
                             NamespaceLink{NamespaceType::kIpc, 4026531839}},
                    LinkCase{"mnt:[4026531841]",
                             NamespaceLink{NamespaceType::kMnt, 4026531841}},
                    LinkCase{"net:[4026531993]",
                             NamespaceLink{NamespaceType::kNet, 4026531993}},
                    LinkCase{"pid:[4026531836]",
                             NamespaceLink{NamespaceType::kPid, 4026531836}},
                    LinkCase{"time:[4026531834]",
                             NamespaceLink{NamespaceType::kTime, 4026531834}},
                    LinkCase{"user:[4026531837]",
                             NamespaceLink{NamespaceType::kUser, 4026531837}},
                    LinkCase{"uts:[4026531838]",
                             NamespaceLink{NamespaceType::kUts, 4026531838}},
                    LinkCase{"net:[1]", NamespaceLink{NamespaceType::kNet, 1}},
                    LinkCase{"net:[18446744073709551615]",
                             NamespaceLink{
                                 NamespaceType::kNet,
                                 std::numeric_limits<std::uint64_t>::max()}}));

INSTANTIATE_TEST_SUITE_P(
    Malformed, ParseNamespaceLinkTest,
    testing::Values(
        LinkCase{"", std::nullopt}, LinkCase{"net", std::nullopt},
        LinkCase{"net:", std::nullopt}, LinkCase{"net:[", std::nullopt},
        LinkCase{"net:[]", std::nullopt}, LinkCase{"net:[12a]", std::nullopt},
        LinkCase{"net:[a12]", std::nullopt}, LinkCase{"net:[-1]", std::nullopt},
        LinkCase{"net:[+1]", std::nullopt}, LinkCase{"net:[ 1]", std::nullopt},
        LinkCase{"net:[0]", std::nullopt}, LinkCase{"net:[1234", std::nullopt},
        LinkCase{"net:1234]", std::nullopt}, LinkCase{"net:1234", std::nullopt},
        LinkCase{"bogus:[1]", std::nullopt}, LinkCase{"NET:[1]", std::nullopt},
        LinkCase{"pid_for_children:[1]", std::nullopt},
        LinkCase{":[1]", std::nullopt},
        LinkCase{"net:[99999999999999999999999]", std::nullopt},
        LinkCase{"net:[18446744073709551616]", std::nullopt},
        LinkCase{"net:[4026531993]x", std::nullopt},
        LinkCase{"net:[4026531993]\n", std::nullopt},
        LinkCase{"net:[4026531993] ", std::nullopt},
        LinkCase{" net:[4026531993]", std::nullopt},
        LinkCase{"net:[[4026531993]]", std::nullopt},
        LinkCase{"net::[4026531993]", std::nullopt}));

// ---------------------------------------------------------------------------
// ParseFdLink

TEST(ParseFdLinkTest, NamespacesOnly) {
  EXPECT_EQ(ParseFdLink("net:[4026531840]"),
            (NamespaceLink{NamespaceType::kNet, 4026531840}));
  EXPECT_EQ(ParseFdLink("cgroup:[18446744073709551615]"),
            (NamespaceLink{NamespaceType::kCgroup,
                           std::numeric_limits<std::uint64_t>::max()}));
  for (const char* other :
       {"socket:[123]", "pipe:[98765]", "anon_inode:[eventfd]",
        "anon_inode:bpf-map", "/dev/null", "/run/netns/a (deleted)",
        "net:[4026531840] (deleted)", "net:[0]", ""}) {
    EXPECT_FALSE(ParseFdLink(other).has_value()) << other;
  }
}

TEST(ParseFdLinkTest, LongerThanAnyNamespaceLinkIsRefused) {
  EXPECT_EQ(std::string("cgroup:[18446744073709551615]").size(),
            kMaxNamespaceLinkSize);
  // Leading zeros make a link that ParseNamespaceLink takes, but that no
  // nsfs file has and that a small readlink buffer could have cut.
  const std::string padded = "net:[" + std::string(30, '0') + "1]";
  EXPECT_TRUE(ParseNamespaceLink(padded).has_value());
  EXPECT_FALSE(ParseFdLink(padded).has_value());
}

// ---------------------------------------------------------------------------
// ParseProcessStatus

// A status file as Linux 6.x writes it; NStgid and the rest substituted.
std::string StatusText(
    const std::string& nstgid_line, const std::string& ppid_line = "PPid:\t1",
    const std::string& uid_line = "Uid:\t1000\t1001\t1002\t1003") {
  return "Name:\tsh\n"
         "Umask:\t0022\n"
         "State:\tS (sleeping)\n"
         "Tgid:\t4242\n"
         "Ngid:\t0\n"
         "Pid:\t4242\n" +
         ppid_line +
         "\n"
         "TracerPid:\t0\n" +
         uid_line +
         "\n"
         "Gid:\t1000\t1000\t1000\t1000\n"
         "FDSize:\t64\n"
         "Groups:\t4 24 27 \n" +
         nstgid_line +
         "NSpid:\t4242\t17\t1\n"
         "NSpgid:\t4242\t17\t1\n"
         "NSsid:\t4242\t17\t1\n"
         "Kthread:\t0\n"
         "VmPeak:\t    8484 kB\n"
         "Threads:\t1\n"
         "Cpus_allowed_list:\t0-3\n";
}

TEST(ParseProcessStatusTest, RealisticFields) {
  ProcessStatus st;
  ASSERT_TRUE(ParseProcessStatus(StatusText("NStgid:\t4242\n"), &st).ok());
  EXPECT_EQ(st.name, "sh");
  EXPECT_EQ(st.ppid, 1);
  ASSERT_TRUE(st.uid.has_value());
  EXPECT_EQ(*st.uid, 1000u);  // the real uid, not the effective one
  EXPECT_THAT(st.nstgid, ElementsAre(4242));
}

TEST(ParseProcessStatusTest, NStgidOfOneTwoAndThreeEntries) {
  struct Case {
    const char* line;
    std::vector<pid_t> want;
  };
  const Case cases[] = {
      {"NStgid:\t4242\n", {4242}},
      {"NStgid:\t4242\t1\n", {4242, 1}},
      {"NStgid:\t4242\t17\t1\n", {4242, 17, 1}},
      {"NStgid:\t4242 17  1 \n", {4242, 17, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    ProcessStatus st;
    ASSERT_TRUE(ParseProcessStatus(StatusText(c.line), &st).ok());
    EXPECT_EQ(st.nstgid, c.want);
  }
}

TEST(ParseProcessStatusTest, MissingFieldsStayEmpty) {
  ProcessStatus st;
  st.ppid = 99;
  st.nstgid = {7};
  ASSERT_TRUE(
      ParseProcessStatus("Name:\tkworker/0:1\nState:\tI (idle)\n", &st).ok());
  EXPECT_EQ(st.name, "kworker/0:1");
  EXPECT_EQ(st.ppid, 0);  // reset, not left over
  EXPECT_TRUE(st.nstgid.empty());
  EXPECT_FALSE(st.uid.has_value());

  ASSERT_TRUE(ParseProcessStatus("", &st).ok());
  EXPECT_EQ(st.name, "");
}

TEST(ParseProcessStatusTest, NameKeepsInnerSpacesAndColons) {
  ProcessStatus st;
  ASSERT_TRUE(ParseProcessStatus("Name:\tmy proc: x\nPPid:\t0\n", &st).ok());
  EXPECT_EQ(st.name, "my proc: x");
}

TEST(ParseProcessStatusTest, MalformedFieldsAreInvalidArgument) {
  const std::string cases[] = {
      StatusText("NStgid:\t4242\tabc\n"),
      StatusText("NStgid:\t4242\t-1\n"),
      StatusText("NStgid:\t\n"),
      StatusText("NStgid:\t42x\n"),
      StatusText("NStgid:\t4242\t99999999999\n"),
      StatusText("NStgid:\t1\n", "PPid:\tone"),
      StatusText("NStgid:\t1\n", "PPid:\t"),
      StatusText("NStgid:\t1\n", "PPid:\t-1"),
      StatusText("NStgid:\t1\n", "PPid:\t1 2"),
      StatusText("NStgid:\t1\n", "PPid:\t1", "Uid:\troot\t0\t0\t0"),
      StatusText("NStgid:\t1\n", "PPid:\t1", "Uid:\t"),
      StatusText("NStgid:\t1\n", "PPid:\t1", "Uid:\t-5\t0\t0\t0"),
  };
  for (const std::string& text : cases) {
    ProcessStatus st;
    const Status s = ParseProcessStatus(text, &st);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << text;
  }
}

TEST(ParseProcessStatusTest, TruncatedLastLine) {
  ProcessStatus st;
  // Cut in the middle of the NStgid list, without a newline: what is there
  // parses.
  ASSERT_TRUE(
      ParseProcessStatus("Name:\tsh\nPPid:\t7\nNStgid:\t4242\t1", &st).ok());
  EXPECT_THAT(st.nstgid, ElementsAre(4242, 1));
  EXPECT_EQ(st.ppid, 7);
  // Cut right after the key: the field is present but empty.
  EXPECT_EQ(ParseProcessStatus("Name:\tsh\nNStgid:", &st).code(),
            Status::Code::kInvalidArgument);
  // Cut inside a key: the line is not a field.
  ASSERT_TRUE(ParseProcessStatus("Name:\tsh\nNSt", &st).ok());
  EXPECT_TRUE(st.nstgid.empty());
}

// ---------------------------------------------------------------------------
// ParseSysctlInteger

TEST(ParseSysctlIntegerTest, Table) {
  struct Case {
    const char* text;
    std::optional<std::int64_t> want;
  };
  const Case cases[] = {
      {"31231\n", 31231},
      {"0\n", 0},
      {"0", 0},
      {"  42 \n", 42},
      {"-1\n", -1},
      {"9223372036854775807\n", std::numeric_limits<std::int64_t>::max()},
      {"-9223372036854775808\n", std::numeric_limits<std::int64_t>::min()},
      {"9223372036854775808\n", std::nullopt},
      {"", std::nullopt},
      {"\n", std::nullopt},
      {"-", std::nullopt},
      {"--5", std::nullopt},
      {"-+5", std::nullopt},
      {"+5", std::nullopt},
      {"lots\n", std::nullopt},
      {"12 34\n", std::nullopt},
      {"12abc", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseSysctlInteger(c.text), c.want) << '"' << c.text << '"';
  }
}

// ---------------------------------------------------------------------------
// ParseProcessStat

TEST(ParseProcessStatTest, Table) {
  struct Case {
    const char* text;
    char state;  // 0: nullopt wanted
    unsigned long flags;
  };
  const Case cases[] = {
      {"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0\n", 'S', 2129984},
      {"4242 (sh) S 1 4242 4242 34816 4242 4194560 1500 0\n", 'S', 4194560},
      {"7 (a b) c) R 1 7 7 0 -1 64 0", 'R', 64},     // comm with ") " inside
      {"7 (x) Z 1 7 7 0 -1 4194316", 'Z', 4194316},  // flags last
      {"7 (x) R 1 7 7 0 -1", 0, 0},                  // cut before flags
      {"7 (x) R 1 7 7 0 -1 ", 0, 0},
      {"7 (x) R 1 7 7 0 -1 -64 0", 0, 0},
      {"7 (x) R 1 7 7 0 -1 6x4 0", 0, 0},
      {"7 (x) RS 1 7 7 0 -1 64 0", 0, 0},  // a state is one character
      {"7 x R 1 7 7 0 -1 64 0", 0, 0},     // no ')'
      {"", 0, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const std::optional<ProcessStat> got = ParseProcessStat(c.text);
    if (c.state == 0) {
      EXPECT_EQ(got.has_value(), false);
      continue;
    }
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->state, c.state);
    EXPECT_EQ(got->flags, c.flags);
  }
  EXPECT_TRUE(ParseProcessStat(cases[0].text)->kernel_thread());
  EXPECT_FALSE(ParseProcessStat(cases[1].text)->kernel_thread());
  EXPECT_TRUE(ParseProcessStat(cases[3].text)->zombie());
  EXPECT_FALSE(ParseProcessStat(cases[2].text)->zombie());
}

// ---------------------------------------------------------------------------
// ParseNsfsMounts

TEST(ParseNsfsMountsTest, FindsNsfsMountsOnly) {
  const std::string text =
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "614 29 0:4 net:[4026532562] /run/netns/blue rw shared:310 - nsfs "
      "nsfs rw\n"
      "615 29 0:4 net:[4026532563] /run/netns/a\\040b\\134c rw - nsfs nsfs "
      "rw\n"
      "616 29 0:4 / /run/not_a_namespace rw - nsfs nsfs rw\n"
      "617 29 0:4 bogus:[1] /run/x rw - nsfs nsfs rw\n"
      "618 29 0:4 mnt:[4026532564] /run/m rw - tmpfs tmpfs rw\n"
      "garbage line\n"
      "619 29 0:4 uts:[4026532565] /run/u rw master:2 - nsfs nsfs rw";
  const std::vector<NsfsMount> mounts = ParseNsfsMounts(text);
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].link, (NamespaceLink{NamespaceType::kNet, 4026532562}));
  EXPECT_EQ(mounts[0].mount_point, "/run/netns/blue");
  EXPECT_EQ(mounts[1].link, (NamespaceLink{NamespaceType::kNet, 4026532563}));
  EXPECT_EQ(mounts[1].mount_point, "/run/netns/a b\\c");
  EXPECT_EQ(mounts[2].link, (NamespaceLink{NamespaceType::kUts, 4026532565}));
  EXPECT_EQ(mounts[2].mount_point, "/run/u");
  EXPECT_TRUE(ParseNsfsMounts("").empty());
}

// ---------------------------------------------------------------------------
// ParseSocketLink

TEST(ParseSocketLinkTest, SocketInodes) {
  EXPECT_EQ(ParseSocketLink("socket:[12345]"),
            std::optional<std::uint64_t>(12345));
  EXPECT_EQ(ParseSocketLink("socket:[1]"), std::optional<std::uint64_t>(1));
  EXPECT_EQ(
      ParseSocketLink("socket:[18446744073709551615]"),
      std::optional<std::uint64_t>(std::numeric_limits<std::uint64_t>::max()));
}

TEST(ParseSocketLinkTest, AnythingElse) {
  for (const char* text : {"",
                           "socket",
                           "socket:",
                           "socket:[",
                           "socket:[]",
                           "socket:[0]",
                           "socket:[12a]",
                           "socket:[-1]",
                           "socket:[ 1]",
                           "socket:[1",
                           "socket:1]",
                           "socket:[1]x",
                           "socket:[1]\n",
                           " socket:[1]",
                           "Socket:[1]",
                           "pipe:[99]",
                           "net:[4026531840]",
                           "anon_inode:[eventfd]",
                           "/dev/null",
                           "socket:[18446744073709551616]",
                           "socket:[[1]]"}) {
    EXPECT_EQ(ParseSocketLink(text), std::nullopt) << '"' << text << '"';
  }
}

// ---------------------------------------------------------------------------
// ProcFs over the fixture trees

std::unique_ptr<ProcFs> OpenFixture(const std::string& scenario) {
  std::unique_ptr<ProcFs> fs;
  const Status s = ProcFs::Open(kFixtures + scenario, &fs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return fs;
}

TEST(ProcFsTest, ReadSocketFdsListsSocketsOnly) {
  auto fs = OpenFixture("holders");
  ASSERT_NE(fs, nullptr);
  std::vector<SocketFd> sockets;
  ASSERT_TRUE(fs->ReadSocketFds(500, &sockets).ok());
  // fds 4 and 5 share one socket; the nsfs fds, the pipe and /dev/null are
  // left out.
  ASSERT_EQ(sockets.size(), 3u);
  EXPECT_EQ(sockets[0].fd, 4);
  EXPECT_EQ(sockets[0].inode, 12345u);
  EXPECT_EQ(sockets[1].fd, 5);
  EXPECT_EQ(sockets[1].inode, 12345u);
  EXPECT_EQ(sockets[2].fd, 6);
  EXPECT_EQ(sockets[2].inode, 12346u);
  EXPECT_TRUE(fs->ReadSocketFds(9999, &sockets).IsNotFound());
  EXPECT_TRUE(sockets.empty());
}

TEST(ProcFsTest, OpenMissingRootIsNotFound) {
  std::unique_ptr<ProcFs> fs;
  const Status s = ProcFs::Open(kFixtures + "no_such_scenario", &fs);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(fs, nullptr);
}

TEST(ProcFsTest, OpenRegularFileIsNotFound) {
  std::unique_ptr<ProcFs> fs;
  const Status s = ProcFs::Open(kFixtures + "vanished_pid/31", &fs);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

TEST(ProcFsTest, RootIsKept) {
  auto fs = OpenFixture("basic");
  ASSERT_NE(fs, nullptr);
  EXPECT_EQ(fs->root(), kFixtures + "basic");
}

TEST(ProcFsTest, ListPidsAscendingIgnoringNonNumeric) {
  auto fs = OpenFixture("basic");
  ASSERT_NE(fs, nullptr);
  std::vector<pid_t> pids = {99};  // replaced, not appended to
  ASSERT_TRUE(fs->ListPids(&pids).ok());
  // "self", "thread-self", "sys", "stat", "uptime", "1a" and "0" are not
  // processes.
  EXPECT_THAT(pids, ElementsAre(1, 2, 400, 1200, 1201));
}

TEST(ProcFsTest, ListPidEntriesGivesEachDirectorysInode) {
  auto fs = OpenFixture("basic");
  ASSERT_NE(fs, nullptr);
  std::vector<PidEntry> entries = {{99, 1}};  // replaced, not appended to
  ASSERT_TRUE(fs->ListPidEntries(&entries).ok());
  std::vector<pid_t> pids;
  for (const PidEntry& e : entries) {
    pids.push_back(e.pid);
    struct stat st {};
    const std::string dir = kFixtures + "basic/" + std::to_string(e.pid);
    ASSERT_EQ(::stat(dir.c_str(), &st), 0) << dir;
    EXPECT_EQ(e.inode, static_cast<std::uint64_t>(st.st_ino)) << dir;
  }
  EXPECT_THAT(pids, ElementsAre(1, 2, 400, 1200, 1201));
}

TEST(ProcFsTest, ListPidsIncludesNumericNonDirectories) {
  auto fs = OpenFixture("vanished_pid");
  ASSERT_NE(fs, nullptr);
  std::vector<pid_t> pids;
  ASSERT_TRUE(fs->ListPids(&pids).ok());
  // 31 is a regular file: listed (getdents cannot tell) and found to have
  // vanished when opened.
  EXPECT_THAT(pids, ElementsAre(1, 30, 31, 32, 33));
  UniqueFd dir;
  const Status s = fs->OpenPidNs(31, &dir);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();  // ENOTDIR
  EXPECT_FALSE(dir.valid());
}

TEST(ProcFsTest, OpenPidNsOfMissingProcessIsNotFound) {
  auto fs = OpenFixture("basic");
  ASSERT_NE(fs, nullptr);
  UniqueFd dir;
  const Status s = fs->OpenPidNs(31337, &dir);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

TEST(ProcFsTest, ReadNamespaceLinkInAllTypes) {
  auto fs = OpenFixture("basic");
  ASSERT_NE(fs, nullptr);
  UniqueFd dir;
  ASSERT_TRUE(fs->OpenPidNs(1200, &dir).ok());
  const std::pair<NamespaceType, std::uint64_t> want[] = {
      {NamespaceType::kCgroup, 4026531835}, {NamespaceType::kIpc, 4026532202},
      {NamespaceType::kMnt, 4026532203},    {NamespaceType::kNet, 4026532200},
      {NamespaceType::kPid, 4026532204},    {NamespaceType::kTime, 4026531834},
      {NamespaceType::kUser, 4026531837},   {NamespaceType::kUts, 4026532201},
  };
  for (const auto& [type, inode] : want) {
    SCOPED_TRACE(NamespaceTypeName(type));
    NamespaceLink link{};
    ASSERT_TRUE(ProcFs::ReadNamespaceLinkIn(dir.get(), type, &link).ok());
    EXPECT_EQ(link, (NamespaceLink{type, inode}));
  }
}

TEST(ProcFsTest, PidDirWithoutNsIsNotFound) {
  auto fs = OpenFixture("vanished_pid");
  ASSERT_NE(fs, nullptr);
  UniqueFd dir;
  const Status s = fs->OpenPidNs(30, &dir);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

TEST(ProcFsTest, MainThreadExitedLeavesPidAndUser) {
  auto fs = OpenFixture("vanished_pid");
  ASSERT_NE(fs, nullptr);
  UniqueFd dir;
  ASSERT_TRUE(fs->OpenPidNs(32, &dir).ok());
  NamespaceLink link{};
  EXPECT_TRUE(
      ProcFs::ReadNamespaceLinkIn(dir.get(), NamespaceType::kPid, &link).ok());
  EXPECT_EQ(link.inode, 4026531836u);
  EXPECT_TRUE(
      ProcFs::ReadNamespaceLinkIn(dir.get(), NamespaceType::kUser, &link).ok());
  EXPECT_TRUE(ProcFs::ReadNamespaceLinkIn(dir.get(), NamespaceType::kMnt, &link)
                  .IsNotFound());
  UniqueFd ns;
  EXPECT_TRUE(ProcFs::OpenNamespaceIn(dir.get(), NamespaceType::kNet, &ns)
                  .IsNotFound());
  EXPECT_FALSE(ns.valid());
}

TEST(ProcFsTest, MalformedLinksAreInvalidArgument) {
  auto fs = OpenFixture("malformed");
  ASSERT_NE(fs, nullptr);
  UniqueFd dir;
  ASSERT_TRUE(fs->OpenPidNs(40, &dir).ok());
  // net -> "net:[12a]", uts -> "bogus:[1]", ipc -> "ipc:[]",
  // mnt -> "net:[...]" (another type's link), cgroup -> trailing bytes.
  for (NamespaceType t :
       {NamespaceType::kNet, NamespaceType::kUts, NamespaceType::kIpc,
        NamespaceType::kMnt, NamespaceType::kCgroup}) {
    SCOPED_TRACE(NamespaceTypeName(t));
    NamespaceLink link{NamespaceType::kPid, 7};
    const Status s = ProcFs::ReadNamespaceLinkIn(dir.get(), t, &link);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(link, (NamespaceLink{NamespaceType::kPid, 7}));  // untouched
  }
  NamespaceLink link{};
  EXPECT_TRUE(
      ProcFs::ReadNamespaceLinkIn(dir.get(), NamespaceType::kPid, &link).ok());
}

TEST(ProcFsTest, ReadCommOf) {
  auto fs = OpenFixture("basic");
  ASSERT_NE(fs, nullptr);
  std::string comm = "old";
  ASSERT_TRUE(fs->ReadCommOf(2, &comm).ok());
  EXPECT_EQ(comm, "kthreadd");  // without the newline
  EXPECT_TRUE(fs->ReadCommOf(31337, &comm).IsNotFound());
}

TEST(ProcFsTest, ReadStatus) {
  auto fs = OpenFixture("nested");
  ASSERT_NE(fs, nullptr);
  ProcessStatus st;
  ASSERT_TRUE(fs->ReadStatus(502, &st).ok());
  EXPECT_EQ(st.name, "sleep");
  EXPECT_EQ(st.ppid, 501);
  EXPECT_EQ(st.uid, std::optional<uid_t>(1000));
  EXPECT_THAT(st.nstgid, ElementsAre(502, 6, 2));
  ASSERT_TRUE(fs->ReadStatus(500, &st).ok());
  EXPECT_THAT(st.nstgid, ElementsAre(500, 1));
  ASSERT_TRUE(fs->ReadStatus(1, &st).ok());
  EXPECT_THAT(st.nstgid, ElementsAre(1));
}

TEST(ProcFsTest, ReadStatusErrors) {
  auto fs = OpenFixture("malformed");
  ASSERT_NE(fs, nullptr);
  ProcessStatus st;
  EXPECT_EQ(fs->ReadStatus(40, &st).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(fs->ReadStatus(31337, &st).IsNotFound());
}

TEST(ProcFsTest, ReadNamespaceLimitAllTypes) {
  auto fs = OpenFixture("basic");
  ASSERT_NE(fs, nullptr);
  for (NamespaceType t : kAllNamespaceTypes) {
    SCOPED_TRACE(NamespaceTypeName(t));
    std::int64_t v = 0;
    ASSERT_TRUE(fs->ReadNamespaceLimit(t, &v).ok());
    EXPECT_EQ(v, 63200 + static_cast<std::int64_t>(TypeIndex(t)));
  }
}

TEST(ProcFsTest, ReadNamespaceLimitErrors) {
  auto fs = OpenFixture("malformed");
  ASSERT_NE(fs, nullptr);
  std::int64_t v = -7;
  EXPECT_EQ(fs->ReadNamespaceLimit(NamespaceType::kNet, &v).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(fs->ReadNamespaceLimit(NamespaceType::kTime, &v).IsNotFound());
  EXPECT_EQ(v, -7);
  ASSERT_TRUE(fs->ReadNamespaceLimit(NamespaceType::kPid, &v).ok());
  EXPECT_EQ(v, 63204);
}

TEST(ProcFsTest, ReadFileRelativeToRoot) {
  auto fs = OpenFixture("basic");
  ASSERT_NE(fs, nullptr);
  std::string text;
  ASSERT_TRUE(fs->ReadFile("self/comm", &text).ok());  // follows "self"
  EXPECT_EQ(text, "sshd\n");
  EXPECT_TRUE(fs->ReadFile("no/such/file", &text).IsNotFound());
}

// A file over the limit is an error, never a truncated read; one of
// exactly the limit (or empty) is read whole.
TEST(ReadSmallFileAtTest, OverTheLimitIsAnError) {
  char dir[] = "/tmp/nsexp-small-file-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const int dir_fd = ::open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  const auto write = [&](const char* name, std::size_t size) {
    const int fd = ::openat(dir_fd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    const std::string text(size, 'x');
    ASSERT_EQ(::write(fd, text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
    ::close(fd);
  };
  const std::size_t limit = 10000;  // not a multiple of the read size
  write("exact", limit);
  write("over", limit + 1);
  write("empty", 0);
  for (const auto read : {&ReadSmallFileAt, &ReadSingleRecordFileAt}) {
    std::string out;
    ASSERT_TRUE(read(dir_fd, "exact", limit, &out).ok());
    EXPECT_EQ(out.size(), limit);
    const Status over = read(dir_fd, "over", limit, &out);
    EXPECT_FALSE(over.ok());
    EXPECT_THAT(over.ToString(), testing::HasSubstr("larger than 10000 bytes"));
    EXPECT_TRUE(out.empty());
    ASSERT_TRUE(read(dir_fd, "empty", limit, &out).ok());
    EXPECT_TRUE(out.empty());
  }
  for (const char* name : {"exact", "over", "empty"}) {
    ::unlinkat(dir_fd, name, 0);
  }
  ::close(dir_fd);
  ::rmdir(dir);
}

TEST(ProcFsTest, ReadStat) {
  auto fs = OpenFixture("basic");
  ASSERT_NE(fs, nullptr);
  for (const auto& [pid, kthread] :
       {std::pair<pid_t, bool>{1, false}, {2, true}, {1200, false}}) {
    ProcessStat stat;
    ASSERT_TRUE(fs->ReadStat(pid, &stat).ok()) << pid;
    EXPECT_EQ(stat.kernel_thread(), kthread) << pid;
    EXPECT_EQ(stat.state, 'S') << pid;
  }
  auto zombies = OpenFixture("zombie");
  ASSERT_NE(zombies, nullptr);
  ProcessStat stat;
  ASSERT_TRUE(zombies->ReadStat(60, &stat).ok());
  EXPECT_TRUE(stat.zombie());
  ASSERT_TRUE(zombies->ReadStat(62, &stat).ok());
  EXPECT_FALSE(stat.zombie());
  EXPECT_EQ(stat.state, 'R');
  auto vanished = OpenFixture("vanished_pid");
  ASSERT_NE(vanished, nullptr);
  EXPECT_TRUE(vanished->ReadStat(30, &stat).IsNotFound());
}

TEST(ProcFsTest, ReadNsfsMounts) {
  auto fs = OpenFixture("bind_mounts");
  ASSERT_NE(fs, nullptr);
  std::vector<NsfsMount> mounts;
  ASSERT_TRUE(fs->ReadNsfsMounts("self", &mounts).ok());
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].mount_point, "/run/netns/blue");
  ASSERT_TRUE(fs->ReadNsfsMounts("1", &mounts).ok());
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[1].mount_point, "/run/docker/netns/with space");
  EXPECT_EQ(mounts[2].link, (NamespaceLink{NamespaceType::kUts, 4026532502}));
  EXPECT_TRUE(fs->ReadNsfsMounts("31337", &mounts).IsNotFound());
}

TEST(ProcFsTest, OpenMountedNamespaceErrors) {
  auto fs = OpenFixture("bind_mounts");
  ASSERT_NE(fs, nullptr);
  UniqueFd fd;
  EXPECT_EQ(fs->OpenMountedNamespace("1", "run/netns/blue", &fd).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(fs->OpenMountedNamespace("1", "", &fd).code(),
            Status::Code::kInvalidArgument);
  // The fixture has no 1/root: as for a process that has exited.
  EXPECT_TRUE(
      fs->OpenMountedNamespace("1", "/run/netns/blue", &fd).IsNotFound());
  EXPECT_FALSE(fd.valid());
}

TEST(ParseCgroupFileTest, Table) {
  struct Case {
    std::string text;
    std::vector<CgroupEntry> want;
  };
  const std::vector<Case> cases = {
      {"0::/system.slice/a.service\n", {{0, "", "/system.slice/a.service"}}},
      {"0::/\n", {{0, "", "/"}}},
      {"12:pids:/docker/x\n1:name=systemd:/docker/x\n0::/\n",
       {{12, "pids", "/docker/x"},
        {1, "name=systemd", "/docker/x"},
        {0, "", "/"}}},
      // The path runs to the end of the line, colons and all.
      {"0::/a.slice:cri-containerd:b", {{0, "", "/a.slice:cri-containerd:b"}}},
      {"0::/../../x\n", {{0, "", "/../../x"}}},
      // Malformed lines are skipped, the good ones kept.
      {"garbage\n0:/x\nx::/y\n-1::/z\n0::relative\n0::\n3:cpu:/c\n",
       {{3, "cpu", "/c"}}},
      {"", {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseCgroupFile(c.text), c.want) << c.text;
  }
}

TEST(ParseCgroupFileTest, PathsByPreference) {
  const std::vector<CgroupEntry> entries =
      ParseCgroupFile("5:cpu:/c\n1:name=systemd:/s\n0::/v2\n4:pids:/p\n");
  EXPECT_THAT(CgroupPathsByPreference(entries),
              ElementsAre("/v2", "/s", "/c", "/p"));
}

TEST(ProcFsTest, ReadCgroups) {
  std::unique_ptr<ProcFs> fs;
  ASSERT_TRUE(ProcFs::Open(kFixtures + "cgroups", &fs).ok());
  std::vector<CgroupEntry> entries;
  ASSERT_TRUE(fs->ReadCgroups(117, &entries).ok());
  EXPECT_EQ(entries, (std::vector<CgroupEntry>{{0, "", "/lxc/c1"}}));
  std::string text;
  ASSERT_TRUE(fs->ReadCgroupText(117, &text).ok());
  EXPECT_EQ(text, "0::/lxc/c1\n");
  EXPECT_TRUE(fs->ReadCgroups(99999, &entries).IsNotFound());
}

// The kernel's single_open() files are whole in one read: the same text
// without the read that returns 0.
TEST(ReadSmallFileAtTest, SingleRecordProcFilesReadWhole) {
  const int dir = ::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  UniqueFd owner(dir);
  for (const char* name : {"self/cgroup", "self/comm"}) {
    std::string all;
    std::string one;
    ASSERT_TRUE(ReadSmallFileAt(dir, name, 65536, &all).ok()) << name;
    ASSERT_TRUE(ReadSingleRecordFileAt(dir, name, 65536, &one).ok()) << name;
    EXPECT_FALSE(one.empty()) << name;
    EXPECT_EQ(one, all) << name;
  }
}

TEST(ReadSmallFileAtTest, FixtureOverTheLimitAndMissing) {
  const int dir =
      ::open((kFixtures + "basic").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  UniqueFd owner(dir);
  std::string text;
  const Status over = ReadSmallFileAt(dir, "1/status", 10, &text);
  EXPECT_FALSE(over.ok());
  EXPECT_THAT(over.ToString(), testing::HasSubstr("larger than 10 bytes"));
  EXPECT_TRUE(text.empty());
  EXPECT_TRUE(ReadSmallFileAt(dir, "1/nothing", 10, &text).IsNotFound());
  EXPECT_TRUE(ReadSmallFileAt(dir, "1/comm/x", 10, &text).IsNotFound());
}

}  // namespace
}  // namespace nsexp
