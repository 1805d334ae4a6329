// Capability trimming with libcap (cap_get_proc(3), cap_drop_bound(3)) and
// PR_SET_NO_NEW_PRIVS (prctl(2)).
#include "base/privileges.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <memory>
#include <vector>

namespace nsexp {

namespace {

struct CapDeleter {
  void operator()(cap_t c) const { cap_free(c); }
};
using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, CapDeleter>;

constexpr cap_value_t kNeeded[] = {CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH};
// Needed only for socket holders (SIOCGSKNS).
constexpr cap_value_t kForSockets = CAP_NET_ADMIN;
// Held only until the listener is bound (see DropBindPrivileges).
constexpr cap_value_t kForBinding[] = {CAP_NET_BIND_SERVICE, CAP_SETPCAP};

bool Holds(cap_t caps, cap_value_t c, cap_flag_t set) {
  cap_flag_value_t v = CAP_CLEAR;
  return cap_get_flag(caps, c, set, &v) == 0 && v == CAP_SET;
}

// Sets the permitted and effective sets of the calling thread to "keep".
Status SetProc(const std::vector<cap_value_t>& keep) {
  CapPtr wanted(cap_init());
  if (!wanted) return StatusFromErrno(errno, "cap_init");
  if (!keep.empty()) {
    const int n = static_cast<int>(keep.size());
    if (cap_set_flag(wanted.get(), CAP_PERMITTED, n, keep.data(), CAP_SET) !=
            0 ||
        cap_set_flag(wanted.get(), CAP_EFFECTIVE, n, keep.data(), CAP_SET) !=
            0) {
      return StatusFromErrno(errno, "cap_set_flag");
    }
  }
  if (cap_set_proc(wanted.get()) != 0) {
    return StatusFromErrno(errno, "cap_set_proc");
  }
  return Status::Ok();
}

std::string CapName(cap_value_t c) {
  char* name = cap_to_name(c);
  std::string out = name != nullptr ? name : std::to_string(c);
  cap_free(name);
  return out;
}

}  // namespace

Status RestrictPrivileges(PrivilegeReport* report, bool keep_bind,
                          bool keep_net_admin) {
  *report = PrivilegeReport();
  CapPtr current(cap_get_proc());
  if (!current) return StatusFromErrno(errno, "cap_get_proc");

  std::vector<cap_value_t> needed(std::begin(kNeeded), std::end(kNeeded));
  if (keep_net_admin) needed.push_back(kForSockets);
  std::vector<cap_value_t> keep;
  for (cap_value_t c : needed) {
    if (Holds(current.get(), c, CAP_PERMITTED)) {
      keep.push_back(c);
      report->kept.push_back(CapName(c));
    } else {
      report->missing.push_back(CapName(c));
    }
  }
  std::vector<cap_value_t> bound = needed;
  if (keep_bind) {
    for (cap_value_t c : kForBinding) {
      bound.push_back(c);
      if (Holds(current.get(), c, CAP_PERMITTED)) keep.push_back(c);
    }
  }

  // The bounding set first: dropping from it needs CAP_SETPCAP, which the
  // next step removes. Without CAP_SETPCAP (an unprivileged start) there is
  // nothing in it worth the error.
  if (Holds(current.get(), CAP_SETPCAP, CAP_EFFECTIVE)) {
    // cap_max_bits() asks the running kernel, which may know more
    // capabilities than the headers this was built with.
    const cap_value_t last = static_cast<cap_value_t>(cap_max_bits()) - 1;
    for (cap_value_t c = 0; c <= last; ++c) {
      if (std::find(bound.begin(), bound.end(), c) != bound.end()) continue;
      if (cap_drop_bound(c) != 0 && errno != EINVAL) {
        return StatusFromErrno(errno, "cap_drop_bound " + CapName(c));
      }
    }
  }

  Status s = SetProc(keep);
  if (!s.ok()) return s;
  // Ambient capabilities would survive an execve; there is none to make.
  if (CAP_AMBIENT_SUPPORTED()) (void)cap_reset_ambient();

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return StatusFromErrno(errno, "prctl PR_SET_NO_NEW_PRIVS");
  }
  report->no_new_privs = true;
  return Status::Ok();
}

Status DropBindPrivileges() {
  CapPtr current(cap_get_proc());
  if (!current) return StatusFromErrno(errno, "cap_get_proc");
  if (Holds(current.get(), CAP_SETPCAP, CAP_EFFECTIVE)) {
    for (cap_value_t c : kForBinding) {
      if (cap_drop_bound(c) != 0 && errno != EINVAL) {
        return StatusFromErrno(errno, "cap_drop_bound " + CapName(c));
      }
    }
  }
  // CAP_NET_ADMIN is still permitted only where RestrictPrivileges() kept it.
  std::vector<cap_value_t> keep;
  for (cap_value_t c : kNeeded) {
    if (Holds(current.get(), c, CAP_PERMITTED)) keep.push_back(c);
  }
  if (Holds(current.get(), kForSockets, CAP_PERMITTED)) {
    keep.push_back(kForSockets);
  }
  return SetProc(keep);
}

bool HoldsPtraceCapability() {
  CapPtr current(cap_get_proc());
  if (!current) return false;
  cap_flag_value_t v = CAP_CLEAR;
  return cap_get_flag(current.get(), CAP_SYS_PTRACE, CAP_EFFECTIVE, &v) == 0 &&
         v == CAP_SET;
}

}  // namespace nsexp
