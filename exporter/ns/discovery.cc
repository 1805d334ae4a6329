// Discovery: the /proc walk, the ioctl climb, and the attribute cache.
#include "ns/discovery.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace nsexp {

const NamespaceInfo* NamespaceGraph::Find(NamespaceType type,
                                          std::uint64_t inode) const {
  auto it = std::lower_bound(
      namespaces.begin(), namespaces.end(), std::make_pair(type, inode),
      [](const NamespaceInfo& n,
         const std::pair<NamespaceType, std::uint64_t>& k) {
        return std::make_pair(n.type, n.inode) < k;
      });
  if (it == namespaces.end() || it->type != type || it->inode != inode) {
    return nullptr;
  }
  return &*it;
}

Discoverer::Discoverer(const ProcFs* procfs, NamespaceOps* ops)
    : procfs_(procfs), ops_(ops) {}

void Discoverer::RecordOther(const Status& s, ScanStats* stats) {
  ++stats->other;
  if (stats->first_other.empty()) stats->first_other = s.ToString();
}

std::optional<std::uint64_t> Discoverer::QueryId(const NsHandle& handle,
                                                 ScanStats* stats) {
  if (!id_supported_) return std::nullopt;
  std::uint64_t id = 0;
  Status s = ops_->Id(handle, &id);
  if (s.ok()) return id;
  if (s.IsUnsupported()) {
    id_supported_ = false;
  } else {
    RecordOther(s, stats);
  }
  return std::nullopt;
}

// Makes sure the namespace "relative" (a parent or owner just obtained from
// an ioctl) has an entry, resolving it if it is new: this is how ancestors
// without member processes are found.
void Discoverer::EnsureRelative(const NsHandle& relative, EntryMap* entries,
                                ScanStats* stats) {
  if (!options_.types[TypeIndex(relative.type)]) return;
  const Key key{relative.type, relative.inode};
  Entry& e = (*entries)[key];
  if (e.resolved) return;
  e.info.type = relative.type;
  e.info.inode = relative.inode;
  Resolve(relative, entries, stats);
}

bool Discoverer::ResolveFromCache(const Key& key,
                                  std::optional<std::uint64_t> ns_id,
                                  EntryMap* entries) {
  auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  const Attributes& a = it->second.attrs;
  // An inode can be reused by a new namespace, between two walks too; the
  // id cannot. Without ids (kernels before 6.18) nothing proves that the
  // cached namespace is this one, so its attributes are asked again.
  if (!ns_id || !a.ns_id || *ns_id != *a.ns_id) return false;
  // The relatives must be known too, from this walk or from the cache; a
  // relative is pinned by this namespace, so its attributes still hold.
  std::vector<Key> missing;
  if (a.parent_inode) missing.push_back(Key{key.type, *a.parent_inode});
  if (a.owner_inode && key.type != NamespaceType::kUser) {
    missing.push_back(Key{NamespaceType::kUser, *a.owner_inode});
  }
  for (const Key& rel : missing) {
    if (!options_.types[TypeIndex(rel.type)]) continue;
    auto e = entries->find(rel);
    if (e != entries->end() && e->second.resolved) continue;
    Entry& re = (*entries)[rel];
    re.info.type = rel.type;
    re.info.inode = rel.inode;
    auto rc = cache_.find(rel);
    if (rc == cache_.end() ||
        !ResolveFromCache(rel, rc->second.attrs.ns_id, entries)) {
      return false;
    }
  }
  Entry& e = (*entries)[key];
  e.info.ns_id = ns_id ? ns_id : a.ns_id;
  e.info.parent_inode = a.parent_inode;
  e.info.owner_inode = a.owner_inode;
  e.info.owner_uid = a.owner_uid;
  e.resolved = true;
  it->second.generation = generation_;
  return true;
}

void Discoverer::ResolveByIoctl(const NsHandle& handle,
                                std::optional<std::uint64_t> ns_id,
                                EntryMap* entries, ScanStats* stats) {
  ++last_resolved_;
  const Key key{handle.type, handle.inode};
  Attributes a;
  a.ns_id = ns_id;
  // Mark resolved before climbing so that a cycle (impossible in the kernel,
  // possible in a broken fake) cannot recurse forever.
  (*entries)[key].resolved = true;
  if (IsHierarchical(handle.type)) {
    NsHandle parent;
    Status s = ops_->Parent(handle, &parent);
    if (s.ok()) {
      a.parent_inode = parent.inode;
      EnsureRelative(parent, entries, stats);
    } else if (!s.IsPermissionDenied()) {
      // EPERM is the top of the visible tree; anything else is unexpected.
      RecordOther(s, stats);
    }
  }
  NsHandle owner;
  Status s = ops_->Owner(handle, &owner);
  if (s.ok()) {
    a.owner_inode = owner.inode;
    if (handle.type != NamespaceType::kUser) {
      EnsureRelative(owner, entries, stats);
    }
  } else if (!s.IsPermissionDenied()) {
    RecordOther(s, stats);
  }
  if (handle.type == NamespaceType::kUser) {
    uid_t uid = 0;
    Status us = ops_->OwnerUid(handle, &uid);
    if (us.ok()) {
      a.owner_uid = uid;
    } else {
      RecordOther(us, stats);
    }
  }
  Entry& e = (*entries)[key];
  e.info.ns_id = a.ns_id;
  e.info.parent_inode = a.parent_inode;
  e.info.owner_inode = a.owner_inode;
  e.info.owner_uid = a.owner_uid;
  cache_[key] = CacheEntry{a, generation_};
}

void Discoverer::Resolve(const NsHandle& handle, EntryMap* entries,
                         ScanStats* stats) {
  const std::optional<std::uint64_t> id = QueryId(handle, stats);
  const Key key{handle.type, handle.inode};
  if (ResolveFromCache(key, id, entries)) return;
  ResolveByIoctl(handle, id, entries, stats);
}

void Discoverer::AddBindMounts(EntryMap* entries, ScanStats* stats) {
  for (const char* source : {"self", "1"}) {
    std::vector<NsfsMount> mounts;
    // PID 1's mountinfo may be out of reach (another PID namespace, or no
    // CAP_SYS_PTRACE); the exporter's own mounts still count.
    if (!procfs_->ReadNsfsMounts(source, &mounts).ok()) continue;
    for (const NsfsMount& m : mounts) {
      if (!options_.types[TypeIndex(m.link.type)]) continue;
      Entry& e = (*entries)[Key{m.link.type, m.link.inode}];
      e.info.type = m.link.type;
      e.info.inode = m.link.inode;
      if (e.resolved) continue;
      NsHandle handle;
      if (ops_->OpenMounted(*procfs_, source, m, &handle).ok()) {
        Resolve(handle, entries, stats);
      }
    }
  }
}

Status Discoverer::Discover(const DiscoveryOptions& options,
                            NamespaceGraph* out) {
  options_ = options;
  ++generation_;
  last_resolved_ = 0;
  *out = NamespaceGraph();
  ScanStats& stats = out->stats;

  std::vector<pid_t> pids;
  Status ls = procfs_->ListPids(&pids);
  if (!ls.ok()) return ls;

  EntryMap entries;
  entries.reserve(pids.size() / 4 + 64);
  std::string comm;
  for (pid_t pid : pids) {
    ++stats.processes_scanned;
    UniqueFd dir;
    Status os = procfs_->OpenPidNs(pid, &dir);
    if (os.IsNotFound()) {
      ++stats.vanished;
      continue;
    }
    if (!os.ok()) {
      if (os.IsPermissionDenied()) {
        ++stats.permission_denied;
        if (stats.first_denied.empty()) stats.first_denied = os.ToString();
      } else {
        RecordOther(os, &stats);
      }
      continue;
    }
    if (options.exclude_kernel_threads) {
      bool kthread = false;
      Status ks = procfs_->IsKernelThreadPid(pid, &kthread);
      if (ks.IsNotFound()) {
        ++stats.vanished;
        continue;
      }
      if (ks.ok() && kthread) continue;
    }
    bool vanished = false, denied = false, other = false, have_comm = false;
    for (NamespaceType type : kAllNamespaceTypes) {
      if (!options.types[TypeIndex(type)]) continue;
      NamespaceLink link{};
      Status rs = ProcFs::ReadNamespaceLinkIn(dir.get(), type, &link);
      if (!rs.ok()) {
        if (rs.IsNotFound()) {
          // The process exited, or only its main thread did (then mnt, net
          // and the others read ENOENT while pid and user still work).
          vanished = true;
          continue;
        }
        if (rs.IsPermissionDenied()) {
          // The ptrace read check covers every link of the process alike.
          if (stats.first_denied.empty()) {
            stats.first_denied =
                "pid " + std::to_string(pid) + ": " + rs.ToString();
          }
          denied = true;
          break;
        }
        if (!other && stats.first_other.empty()) {
          stats.first_other =
              "pid " + std::to_string(pid) + ": " + rs.ToString();
        }
        other = true;
        continue;
      }
      Entry& e = entries[Key{type, link.inode}];
      e.info.type = type;
      e.info.inode = link.inode;
      ++e.info.processes;
      if (options.collect_members) e.info.members.push_back(pid);
      if (e.info.pid == 0) {
        // PIDs ascend, so the first member seen is the lowest.
        e.info.pid = pid;
        if (!have_comm) {
          comm.clear();
          // A comm that cannot be read (the process just exited) stays
          // empty; membership was already established by the link.
          (void)procfs_->ReadCommOf(pid, &comm);
          have_comm = true;
        }
        e.info.command = comm;
      }
      if (!e.resolved) {
        NsHandle handle;
        Status hs = ops_->Open(dir.get(), link, &handle);
        if (hs.ok()) {
          Resolve(handle, &entries, &stats);
        } else if (hs.IsNotFound()) {
          vanished = true;  // retried by the next member, if any
        } else if (hs.IsPermissionDenied()) {
          denied = true;
        } else {
          other = true;
          if (stats.first_other.empty()) stats.first_other = hs.ToString();
        }
      }
    }
    if (denied) ++stats.permission_denied;
    if (vanished) ++stats.vanished;
    if (other) ++stats.other;
  }

  if (options.bind_mounts) AddBindMounts(&entries, &stats);

  // Forget namespaces not seen by this walk: their inodes may be reused.
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.generation != generation_) {
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }

  out->namespaces.reserve(entries.size());
  for (auto& [key, e] : entries) out->namespaces.push_back(std::move(e.info));
  std::sort(out->namespaces.begin(), out->namespaces.end(),
            [](const NamespaceInfo& a, const NamespaceInfo& b) {
              return std::make_pair(a.type, a.inode) <
                     std::make_pair(b.type, b.inode);
            });
  for (const NamespaceInfo& n : out->namespaces) {
    ++out->count_by_type[TypeIndex(n.type)];
  }

  // Depth and children for the hierarchical types. Parents sort anywhere,
  // so memoise depth through an explicit climb (at most 32 levels).
  std::vector<int> depth(out->namespaces.size(), -1);
  std::function<std::uint32_t(std::size_t, int)> depth_of =
      [&](std::size_t i, int guard) -> std::uint32_t {
    if (depth[i] >= 0) return static_cast<std::uint32_t>(depth[i]);
    const NamespaceInfo& n = out->namespaces[i];
    std::uint32_t d = 0;
    if (n.parent_inode && guard < 64) {
      const NamespaceInfo* p = out->Find(n.type, *n.parent_inode);
      if (p != nullptr) {
        d = depth_of(static_cast<std::size_t>(p - out->namespaces.data()),
                     guard + 1) +
            1;
      }
    }
    depth[i] = static_cast<int>(d);
    return d;
  };
  for (std::size_t i = 0; i < out->namespaces.size(); ++i) {
    NamespaceInfo& n = out->namespaces[i];
    if (!IsHierarchical(n.type)) continue;
    n.depth = depth_of(i, 0);
    if (n.parent_inode) {
      const NamespaceInfo* p = out->Find(n.type, *n.parent_inode);
      if (p != nullptr) {
        ++out->namespaces[static_cast<std::size_t>(p - out->namespaces.data())]
              .children;
      }
    }
  }
  return Status::Ok();
}

}  // namespace nsexp
