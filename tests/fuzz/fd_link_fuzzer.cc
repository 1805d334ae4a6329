// Fuzz target: ParseFdLink, the reader of /proc/PID/fd/N link targets
// ("net:[4026532562]" for an nsfs file held open; "socket:[123]", pipes,
// anonymous inodes and paths for everything else), and the fd holder
// reader's use of it: each input also becomes the target of a symbolic
// link in a fixture /proc (PID 1, fd 3) read by ProcFs::ReadNamespaceFds,
// whose 64-byte readlink buffer cuts long targets.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "proc/proc_fs.h"

namespace {

// A fixture /proc holding only 1/fd/, under $TMPDIR; removed at exit.
class FdFixture {
 public:
  FdFixture() {
    const char* tmp = std::getenv("TMPDIR");
    root_ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
            "/nsexp-fd-fuzz-XXXXXX";
    FUZZ_CHECK(::mkdtemp(root_.data()) != nullptr);
    FUZZ_CHECK(::mkdir((root_ + "/1").c_str(), 0700) == 0);
    FUZZ_CHECK(::mkdir((root_ + "/1/fd").c_str(), 0700) == 0);
    FUZZ_CHECK(nsexp::ProcFs::Open(root_, &procfs_).ok());
  }
  ~FdFixture() {
    ::unlink((root_ + "/1/fd/3").c_str());
    ::rmdir((root_ + "/1/fd").c_str());
    ::rmdir((root_ + "/1").c_str());
    ::rmdir(root_.c_str());
  }
  FdFixture(const FdFixture&) = delete;
  FdFixture& operator=(const FdFixture&) = delete;

  // Makes fd 3 of PID 1 a link to "target" and reads the namespace fds.
  std::vector<nsexp::NamespaceFd> Read(const std::string& target) {
    const std::string link = root_ + "/1/fd/3";
    ::unlink(link.c_str());
    FUZZ_CHECK(::symlink(target.c_str(), link.c_str()) == 0);
    nsexp::UniqueFd fd_dir;
    std::vector<nsexp::NamespaceFd> fds;
    FUZZ_CHECK(procfs_->ReadNamespaceFds(1, &fd_dir, &fds).ok());
    return fds;
  }

 private:
  std::string root_;
  std::unique_ptr<nsexp::ProcFs> procfs_;
};

// Checks an accepted target against an independent reading of it.
void CheckAccepted(std::string_view in, const nsexp::NamespaceLink& link) {
  FUZZ_CHECK(in.size() <= nsexp::kMaxNamespaceLinkSize);
  const std::string prefix =
      std::string(nsexp::NamespaceTypeName(link.type)) + ":[";
  FUZZ_CHECK(in.size() > prefix.size() + 1);
  FUZZ_CHECK(in.substr(0, prefix.size()) == prefix);
  FUZZ_CHECK(in.back() == ']');
  // The bracketed part is decimal digits naming the inode, never 0.
  const std::string_view digits =
      in.substr(prefix.size(), in.size() - prefix.size() - 1);
  std::uint64_t value = 0;
  for (char c : digits) {
    FUZZ_CHECK(c >= '0' && c <= '9');
    const auto d = static_cast<std::uint64_t>(c - '0');
    FUZZ_CHECK(value <= (UINT64_MAX - d) / 10);
    value = value * 10 + d;
  }
  FUZZ_CHECK(value == link.inode && link.inode != 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto link = nsexp::ParseFdLink(in);
  if (link) {
    CheckAccepted(in, *link);
    // An fd link is a namespace link that fits the bound.
    FUZZ_CHECK(nsexp::ParseNamespaceLink(in) == link);
  } else if (size <= nsexp::kMaxNamespaceLinkSize) {
    FUZZ_CHECK(!nsexp::ParseNamespaceLink(in));
  }
  // Whatever a socket, pipe, anonymous inode or path reads as, it is not a
  // namespace.
  for (std::string_view other : {"socket:[", "pipe:[", "anon_inode:", "/"}) {
    if (in.substr(0, other.size()) == other) FUZZ_CHECK(!link);
  }
  // A link target is 1 to PATH_MAX - 1 bytes without NUL.
  if (size == 0 || size >= 4096 || in.find('\0') != std::string_view::npos) {
    return 0;
  }
  static FdFixture fixture;
  const std::vector<nsexp::NamespaceFd> fds = fixture.Read(std::string(in));
  // The reader finds the namespace exactly when the whole target names one.
  FUZZ_CHECK(fds.size() == (link ? 1u : 0u));
  if (link) FUZZ_CHECK(fds[0].fd == 3 && fds[0].link == *link);
  return 0;
}
