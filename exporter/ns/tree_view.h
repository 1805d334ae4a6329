// The namespace hierarchy as text or JSON, as the tree view shows it.
#pragma once

#include <string>

#include "base/status.h"
#include "ns/namespace_graph.h"
#include "proc/proc_fs.h"

namespace nsexp {

enum class TreeFormat { kText, kJson };

// Renders "graph" (discovered with DiscoveryOptions::collect_members) for
// one type. For pid and user: the namespace tree, each namespace indented
// by depth with its member processes as "[NStgid...]  comm". For the other
// types: the user namespace tree, with the namespaces of "type" listed under
// the user namespace that owns them. Reads /proc/PID/status of each member
// through "procfs" (a member that has exited shows as such). A command
// name is shown as the command label of the metrics shows it: valid UTF-8,
// every control character (tab and newline included) as U+FFFD, at most 256
// bytes; JSON escapes only quote and backslash on top. A namespace without
// processes that a holder reader described (NamespaceInfo::held_by) shows
// how it is held after its header, "(bind mount /run/netns/t1 in
// mnt:[...])", and as "held_by" in JSON, sanitised the same way (at most
// 512 bytes). Thread-safe.
std::string RenderTree(const ProcFs& procfs, const NamespaceGraph& graph,
                       NamespaceType type, TreeFormat format);

// "1 process could not be inspected" or "N processes could not be
// inspected", followed by " (first: <stats.first_denied>)" when one is
// known; empty when none was denied. What the tree command prints on
// stderr after a partial picture. Pure.
std::string DeniedSummary(const ScanStats& stats);

}  // namespace nsexp
