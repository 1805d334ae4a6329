// HolderReader: one kind of holder that keeps namespaces alive besides their
// member processes (bind mounts now; open fds, threads, *_for_children next),
// read by the discovery stage that runs after the process walk.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string_view>
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
};

// What one reader found in one run.
struct HolderFindings {
  // One entry per holder of a selected type: a namespace held twice is
  // listed twice. Each becomes a namespace of the graph, resolved or not.
  std::vector<NamespaceLink> held;
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

  // The holder kind, as the `holder` label of linux_namespace_holders will
  // name it ("bind_mount"). Also HolderStats::kind.
  virtual std::string_view kind() const = 0;

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

// The readers a Discoverer uses unless given others, in the order they run:
// today only the BindMountReader.
std::vector<std::unique_ptr<HolderReader>> DefaultHolderReaders();

}  // namespace nsexp
