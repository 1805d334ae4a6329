// HolderReader: one kind of holder that keeps namespaces alive besides their
// member processes (bind mounts, open fds, threads, *_for_children), read by
// the discovery stage that runs after the process walk.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ns/namespace_graph.h"
#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"

namespace nsexp {

struct DiscoveryOptions;

// What a holder reader may use of the discovery run that calls it. All
// references outlive the Read() call they are passed to, and no longer.
struct HolderScope {
  const ProcFs& procfs;
  NamespaceOps& ops;
  // The PIDs that the process walk listed, ascending.
  const std::vector<pid_t>& pids;
  // True when namespaces of this type are collected at all; a reader skips
  // the others without opening or reporting them.
  std::function<bool(NamespaceType)> selected;
  // True when this run has not resolved the namespace yet: only then is it
  // worth opening for the ioctls.
  std::function<bool(const NamespaceLink&)> unresolved;
  // The namespaces of a type found so far, ascending by inode, each with
  // its lowest member PID (0: no member process). May be empty (not set):
  // a reader then finds what it needs itself.
  std::function<std::vector<std::pair<std::uint64_t, pid_t>>(NamespaceType)>
      members;
  // True when readers should say how each holder holds its namespace
  // (HolderFindings::how), for the tree view; /metrics does not ask.
  bool describe = false;
  // The inode of <type> of the index-th process of "pids" as the walk read
  // it; 0 when it read none (type not collected, or the read failed). May
  // be empty (not set): a reader then reads the link itself.
  std::function<std::uint64_t(std::size_t, NamespaceType)> own_inode;
  // Threads a reader may spread its independent reads over
  // (DiscoveryOptions::workers); 1 reads on the calling thread alone.
  std::size_t workers = 1;
};

// What one reader found in one run.
struct HolderFindings {
  // One entry per holder of a selected type: a namespace held twice is
  // listed twice. Each becomes a namespace of the graph, resolved or not.
  std::vector<NamespaceLink> held;
  // With HolderScope::describe: how each entry of "held" holds it, in the
  // same order ("fd 3 of 4242 (python3)"); otherwise empty.
  std::vector<std::string> how;
  // The bind mounts found (BindMountReader only), one per mount and mount
  // namespace.
  std::vector<BindMountRecord> bind_mounts;
  // Opened namespaces for the attribute stage to resolve: only those the
  // scope called unresolved, each at most once.
  std::vector<NsHandle> opened;
  // The reader's own accounting; `kind` is filled in by the caller.
  HolderStats stats;
};

// Finds the namespaces that one kind of holder holds. Implementations read
// through the scope's ProcFs and NamespaceOps only, never fail a run (what
// they cannot read, they count in HolderFindings::stats) and keep no state
// between runs unless they say so. Not thread-safe: the Discoverer that owns
// a reader calls it from one thread at a time.
class HolderReader {
 public:
  virtual ~HolderReader() = default;

  // The holder kind: each namespace in HolderFindings::held counts one
  // holder of it; HolderKindName() of it is HolderStats::kind.
  virtual HolderKind kind() const = 0;

  // Whether "options" switch this kind of holder on for a run.
  virtual bool Enabled(const DiscoveryOptions& options) const = 0;

  // Appends what this kind of holder holds to *out.
  virtual void Read(const HolderScope& scope, HolderFindings* out) = 0;
};

// Counts a failed read in "stats": kNotFound as vanished, kPermissionDenied
// as denied, anything else as other; keeps the first message.
inline void CountHolderError(const Status& s, HolderStats* stats) {
  if (s.IsNotFound()) {
    ++stats->vanished;
  } else if (s.IsPermissionDenied()) {
    ++stats->permission_denied;
  } else {
    ++stats->other;
  }
  if (stats->first_error.empty()) stats->first_error = s.ToString();
}

// Describes a process for HolderFindings::how: "4242 (python3)", or "4242"
// when its comm cannot be read.
std::string DescribeProcess(const ProcFs& procfs, pid_t pid);

// The readers a Discoverer uses unless given others, in the order they run:
// ForChildrenReader, ThreadReader, FdReader, SocketReader, BindMountReader
// (last, so that it knows every mount namespace the others found).
std::vector<std::unique_ptr<HolderReader>> DefaultHolderReaders();

}  // namespace nsexp
