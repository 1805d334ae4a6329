// Discoverer: walks /proc once and builds a NamespaceGraph.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "base/status.h"
#include "ns/namespace_graph.h"
#include "ns/namespace_ops.h"
#include "proc/proc_fs.h"

namespace nsexp {

struct DiscoveryOptions {
  // Which types to collect, indexed by TypeIndex(). All by default.
  std::array<bool, kNamespaceTypeCount> types = {true, true, true, true,
                                                 true, true, true, true};
  // Fill NamespaceInfo::members (the tree view needs them; /metrics not).
  bool collect_members = false;
  // Leave kernel threads out entirely (one extra read of /proc/PID/stat per
  // process, so off by default).
  bool exclude_kernel_threads = false;
  // Also find namespaces held only by a bind mount of their nsfs file
  // (`ip netns add`, container runtimes' /run/.../netns), from the
  // mountinfo of the exporter itself and of PID 1 (the host's init when
  // the exporter sees the host's PIDs).
  bool bind_mounts = true;
};

// Runs discovery: one readlinkat per (process, type) relative to a PID
// directory handle, the nsfs ioctls once per namespace, and their answers
// (parent, owner, owner uid, id) kept across runs, keyed by (type, inode).
// Inodes are reused, so a cached answer is used only when NS_GET_ID (Linux
// 6.18) proves the namespace is the same; without it the ioctls are asked
// again on every run. Namespaces without
// member processes are found by climbing NS_GET_PARENT and NS_GET_USERNS.
//
// A process that exits mid-walk, or that the caller may not inspect, is
// skipped and counted in ScanStats; the walk always completes.
//
// Thread safety: not thread-safe; callers serialise Discover() calls.
// "procfs" and "ops" are not owned and must outlive this object.
class Discoverer {
 public:
  Discoverer(const ProcFs* procfs, NamespaceOps* ops);
  Discoverer(const Discoverer&) = delete;
  Discoverer& operator=(const Discoverer&) = delete;

  // Replaces *out with a fresh graph. Fails only when the procfs root itself
  // cannot be listed.
  [[nodiscard]] Status Discover(const DiscoveryOptions& options,
                                NamespaceGraph* out);

  // Number of namespaces whose attributes are cached. For tests.
  std::size_t cache_size() const { return cache_.size(); }
  // Number of namespaces resolved with ioctls (not from the cache) by the
  // last Discover(). For tests and the debug log.
  std::size_t last_resolved() const { return last_resolved_; }

 private:
  struct Key {
    NamespaceType type;
    std::uint64_t inode;
    bool operator==(const Key& o) const {
      return type == o.type && inode == o.inode;
    }
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::uint64_t>()(k.inode * 8 + TypeIndex(k.type));
    }
  };
  // What the ioctls said; immutable for the namespace's lifetime.
  struct Attributes {
    std::optional<std::uint64_t> ns_id;
    std::optional<std::uint64_t> parent_inode;
    std::optional<std::uint64_t> owner_inode;
    std::optional<uid_t> owner_uid;
  };
  struct CacheEntry {
    Attributes attrs;
    std::uint64_t generation = 0;  // last Discover() that saw it
  };
  struct Entry {
    NamespaceInfo info;
    bool resolved = false;
  };
  using EntryMap = std::unordered_map<Key, Entry, KeyHash>;

  void Resolve(const NsHandle& handle, EntryMap* entries, ScanStats* stats);
  bool ResolveFromCache(const Key& key, std::optional<std::uint64_t> ns_id,
                        EntryMap* entries);
  void ResolveByIoctl(const NsHandle& handle,
                      std::optional<std::uint64_t> ns_id, EntryMap* entries,
                      ScanStats* stats);
  void EnsureRelative(const NsHandle& relative, EntryMap* entries,
                      ScanStats* stats);
  std::optional<std::uint64_t> QueryId(const NsHandle& handle,
                                       ScanStats* stats);
  void RecordOther(const Status& s, ScanStats* stats);
  void AddBindMounts(EntryMap* entries, ScanStats* stats);

  const ProcFs* procfs_;
  NamespaceOps* ops_;
  DiscoveryOptions options_;
  std::unordered_map<Key, CacheEntry, KeyHash> cache_;
  std::uint64_t generation_ = 0;
  bool id_supported_ = true;  // false once NS_GET_ID said "unsupported"
  std::size_t last_resolved_ = 0;
};

}  // namespace nsexp
