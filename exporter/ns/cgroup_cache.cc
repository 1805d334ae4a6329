// The cgroup text cache of the process walk.
#include "ns/cgroup_cache.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "ns/reread_turn.h"

namespace nsexp {

void CgroupCache::Plan(std::vector<PidEntry> pids, unsigned reread_every) {
  const std::uint64_t period = std::max(reread_every, 1u);
  ++walk_;
  pids_ = std::move(pids);
  match_.assign(pids_.size(), std::nullopt);
  read_.assign(pids_.size(), true);
  fresh_.assign(pids_.size(), nullptr);
  last_reads_ = 0;
  // Both lists ascend by PID: one merge pass matches them.
  std::size_t e = 0;
  for (std::size_t i = 0; i < pids_.size(); ++i) {
    const PidEntry& p = pids_[i];
    while (e < entries_.size() && entries_[e].id.pid < p.pid) ++e;
    if (e == entries_.size()) break;
    const Entry& entry = entries_[e];
    if (entry.id.pid != p.pid || entry.id.inode != p.inode) continue;
    match_[i] = e;
    read_[i] = RereadDue(p.pid, entry.sightings, walk_, period);
  }
}

const std::string* CgroupCache::Cached(std::size_t index) const {
  if (read_[index]) return nullptr;
  return entries_[*match_[index]].text.get();
}

void CgroupCache::Record(std::size_t index, std::string_view text) {
  fresh_[index] = Intern(text);
}

std::shared_ptr<const std::string> CgroupCache::Intern(std::string_view text) {
  const std::lock_guard<std::mutex> lock(pool_mu_);
  const auto it = pool_.find(text);
  if (it != pool_.end()) return it->second;
  auto shared = std::make_shared<const std::string>(text);
  pool_.emplace(std::string_view(*shared), shared);
  return shared;
}

void CgroupCache::Finish() {
  std::vector<Entry> kept;
  kept.reserve(pids_.size());
  for (std::size_t i = 0; i < pids_.size(); ++i) {
    if (fresh_[i]) {
      ++last_reads_;
      const std::uint32_t seen =
          match_[i]
              ? std::min<std::uint32_t>(entries_[*match_[i]].sightings + 1, 2)
              : 1;
      kept.push_back(Entry{pids_[i], seen, std::move(fresh_[i])});
    } else if (match_[i]) {
      kept.push_back(std::move(entries_[*match_[i]]));
    }
  }
  entries_ = std::move(kept);
  for (auto it = pool_.begin(); it != pool_.end();) {
    it = it->second.use_count() == 1 ? pool_.erase(it) : std::next(it);
  }
  // Released, not cleared: kept between walks, these per-process tables
  // (48 bytes a process) would stay resident through the graph's build, the
  // peak of a collection.
  std::vector<PidEntry>().swap(pids_);
  std::vector<std::optional<std::size_t>>().swap(match_);
  std::vector<bool>().swap(read_);
  std::vector<std::shared_ptr<const std::string>>().swap(fresh_);
}

}  // namespace nsexp
