// BindMountReader: namespaces held by a bind mount of their nsfs file.
#pragma once

#include <string_view>

#include "ns/holder_reader.h"

namespace nsexp {

// Finds namespaces held by bind mounts of their nsfs files (`ip netns add`
// makes /run/netns/NAME; container runtimes make /run/.../netns/...), from
// the mountinfo of the exporter itself ("self") and of PID 1 (the host's
// init when the exporter sees the host's PIDs), and opens each through that
// process's root so that the mount point resolves in its mount namespace.
// Bind mounts that only other mount namespaces can see are not found yet.
//
// Counted in its HolderStats: every nsfs mount entry read (`holders`; a
// mount both mountinfos list counts twice), a mountinfo or mount that could
// not be read or opened (PID 1's is out of reach in another PID namespace
// or without CAP_SYS_PTRACE), and a mount replaced between mountinfo and
// open (vanished). Stateless; switched on by DiscoveryOptions::bind_mounts.
class BindMountReader final : public HolderReader {
 public:
  std::string_view kind() const override { return "bind_mount"; }
  bool Enabled(const DiscoveryOptions& options) const override;
  void Read(const HolderScope& scope, HolderFindings* out) override;
};

}  // namespace nsexp
