// The comm cache of the process walk.
#include "ns/comm_cache.h"

#include <algorithm>
#include <iterator>

#include "ns/reread_turn.h"

namespace nsexp {

void CommCache::Begin(unsigned reread_every) {
  const std::lock_guard<std::mutex> lock(mu_);
  period_ = std::max(reread_every, 1u);
  ++walk_;
  reads_ = 0;
}

bool CommCache::Lookup(const PidEntry& process, std::string* comm) {
  const std::lock_guard<std::mutex> lock(mu_);
  const auto it = entries_.find(process.pid);
  if (it == entries_.end() || it->second.inode != process.inode) return false;
  Entry& e = it->second;
  const bool due = RereadDue(process.pid, e.sightings, walk_, period_);
  if (e.walk != walk_) {
    e.walk = walk_;
    e.sightings = std::min<std::uint32_t>(e.sightings + 1, 2);
  }
  if (due) return false;
  *comm = e.comm;
  return true;
}

void CommCache::Record(const PidEntry& process, const std::string& comm) {
  const std::lock_guard<std::mutex> lock(mu_);
  ++reads_;
  Entry& e = entries_[process.pid];
  if (e.inode != process.inode || e.walk == 0) {
    e = Entry{process.inode, walk_, 1, comm};
    return;
  }
  e.walk = walk_;
  e.comm = comm;
}

void CommCache::End() {
  const std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.walk == walk_ ? std::next(it) : entries_.erase(it);
  }
  last_reads_ = reads_;
}

std::size_t CommCache::size() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace nsexp
