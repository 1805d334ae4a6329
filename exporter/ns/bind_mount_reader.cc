// BindMountReader: nsfs mounts from mountinfo, opened through /proc/PID/root.
#include "ns/bind_mount_reader.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ns/discovery.h"

namespace nsexp {

bool BindMountReader::Enabled(const DiscoveryOptions& options) const {
  return options.bind_mounts;
}

void BindMountReader::Read(const HolderScope& scope, HolderFindings* out) {
  // The same mount is usually in both lists (the exporter and PID 1 share
  // a mount namespace on a host): open it once.
  std::set<std::pair<NamespaceType, std::uint64_t>> opened;
  for (const char* source : {"self", "1"}) {
    std::vector<NsfsMount> mounts;
    const Status rs = scope.procfs.ReadNsfsMounts(source, &mounts);
    if (!rs.ok()) {
      CountHolderError(rs, &out->stats);
      continue;
    }
    for (const NsfsMount& m : mounts) {
      if (!scope.selected(m.link.type)) continue;
      ++out->stats.holders;
      out->held.push_back(m.link);
      if (!scope.unresolved(m.link) ||
          opened.count({m.link.type, m.link.inode}) != 0) {
        continue;
      }
      NsHandle handle;
      const Status os = scope.ops.OpenMounted(scope.procfs, source, m, &handle);
      if (!os.ok()) {
        CountHolderError(os, &out->stats);
        continue;
      }
      opened.insert({m.link.type, m.link.inode});
      out->opened.push_back(std::move(handle));
    }
  }
}

}  // namespace nsexp
