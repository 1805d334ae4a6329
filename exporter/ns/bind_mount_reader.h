// BindMountReader: namespaces held by a bind mount of their nsfs file.
#pragma once

#include <string>
#include <string_view>

#include "ns/holder_reader.h"

namespace nsexp {

// Finds namespaces held by bind mounts of their nsfs files (`ip netns add`
// makes /run/netns/NAME; container runtimes make /run/.../netns/...) in
// every mount namespace: for each, the mountinfo of one member process
// (the lowest PID), filtered to nsfs, each mount opened through that
// process's root (/proc/PID/root/<mount point>) so that the mount point
// resolves in its mount namespace; no setns. Mount namespaces that no
// process is in (held by a bind mount, an fd or a thread only) cannot be
// read this way: they are counted as `unscanned`, not guessed at, each
// once, whether an earlier reader found it or this one finds it
// bind-mounted.
//
// The mount namespaces come from HolderScope::members(kMnt) when mnt is
// collected; otherwise the reader reads every listed process's mnt link
// itself (one readlink per process).
//
// Counted in its HolderStats: every nsfs mount entry read (`holders`; a
// mount that two mount namespaces list counts twice), a mountinfo or mount
// that could not be read or opened, and a mount replaced between mountinfo
// and open (vanished). Stateless; switched on by
// DiscoveryOptions::bind_mounts.
class BindMountReader final : public HolderReader {
 public:
  HolderKind kind() const override { return HolderKind::kBindMount; }
  bool Enabled(const DiscoveryOptions& options) const override;
  void Read(const HolderScope& scope, HolderFindings* out) override;
};

// The name a bind mount gives its namespace: NAME for /run/netns/NAME and
// /var/run/netns/NAME (ip netns, CNI), else empty. Pure.
std::string BindMountName(std::string_view mount_point);

}  // namespace nsexp
