// Dropping every privilege discovery does not need.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace nsexp {

struct PrivilegeReport {
  std::vector<std::string> kept;     // e.g. "cap_sys_ptrace"
  std::vector<std::string> missing;  // needed but not held at start
  bool no_new_privs = false;
};

// Keeps only CAP_SYS_PTRACE (reading other processes' /proc/PID/ns, a
// ptrace read check) and CAP_DAC_READ_SEARCH (opening bind-mounted nsfs
// files) in the permitted and effective sets, empties the inheritable and
// ambient sets, drops every other capability from the bounding set (where
// CAP_SETPCAP allows it), and sets no_new_privs. Call once at start-up,
// before any thread starts (capabilities are per thread). Errors only when
// the kernel refuses a change that was possible; a process that never had
// the capabilities gets an Ok status with "missing" filled.
//
// With "keep_bind" (a listen port below 1024), CAP_NET_BIND_SERVICE and
// CAP_SETPCAP are kept too where held, so that the listener can bind;
// DropBindPrivileges() then removes them, in every thread.
//
// With "keep_net_admin" (collection.sockets), CAP_NET_ADMIN is needed too:
// kept in all three sets where held, reported missing where not. SIOCGSKNS,
// which tells a socket's net namespace, answers only to CAP_NET_ADMIN over
// that namespace. Without it the kept set is exactly the two above, and a
// reload cannot get CAP_NET_ADMIN back.
[[nodiscard]] Status RestrictPrivileges(PrivilegeReport* report,
                                        bool keep_bind = false,
                                        bool keep_net_admin = false);

// The second step after RestrictPrivileges(report, true), once the
// listener is bound: drops CAP_NET_BIND_SERVICE and CAP_SETPCAP from the
// calling thread's bounding, permitted and effective sets, keeping what
// RestrictPrivileges() kept (CAP_NET_ADMIN included, where it was kept).
// Capabilities are per thread: call it in every thread started meanwhile, and
// in the thread that called RestrictPrivileges(). A no-op where they are not
// held.
[[nodiscard]] Status DropBindPrivileges();

// True when the calling thread holds CAP_SYS_PTRACE in its effective set:
// then a process it may not inspect is protected by something else (a
// Linux security module such as Yama, or a sandbox), not by a missing
// capability. False also when the set cannot be read. Thread-safe.
bool HoldsPtraceCapability();

}  // namespace nsexp
