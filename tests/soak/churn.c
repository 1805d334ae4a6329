// Namespace churn generator for the soak test: creates and destroys
// processes and namespaces of all eight types as fast as asked.
//
// Each "tree" is a child that unshares all eight types at once (user, mnt,
// uts, ipc, net, pid, cgroup, time), a grandchild in the new pid and time
// namespaces that unshares a nested user and pid namespace, and a
// great-grandchild that lives LIFETIME_MS: ten namespaces a tree. Every
// tenth tree also bind-mounts a fresh net and uts namespace at
// /run/netns/churn-N and /run/netns/churn-N.uts (kept for a few trees, then
// unmounted): run it in a private mount namespace (unshare --mount
// --propagation private) so that the mounts stay out of the host's. Every
// tenth tree, five trees later, a short-lived child unshares a fresh net,
// uts and ipc namespace and this process opens its /proc/PID/ns/{net,uts,ipc}
// and keeps the three fds after the child has exited (kept for a few trees,
// then closed): namespaces that only an open fd holds. Needs root.
//
// Usage: churn SECONDS [TREES_PER_SECOND [LIVE [LIFETIME_MS]]]
// Prints one JSON line at the end: trees, namespaces, failures and rate.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

enum {
  kPerTree = 10,    // namespaces a tree makes
  kBindMounts = 8,  // bound pairs (net, uts) kept at a time
  kPerBind = 2,
  kFdHolds = 8,  // held triples (net, uts, ipc) kept at a time
  kPerHold = 3,
};

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void SleepMs(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// Waits for one child; 0 when it exited with status 0.
static int WaitOne(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

// Writes "text" to "path"; 0 on success.
static int WriteFile(const char* path, const char* text) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

// Maps root of the parent user namespace to root of the new one, so that
// the process may create a nested user namespace.
static int MapRoot(void) {
  if (WriteFile("/proc/self/setgroups", "deny") != 0) return -1;
  if (WriteFile("/proc/self/uid_map", "0 0 1") != 0) return -1;
  return WriteFile("/proc/self/gid_map", "0 0 1");
}

// The process tree of one tree; runs in the forked child, never returns.
static void Tree(long lifetime_ms) {
  const int all = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                  CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP;
  if (unshare(all | CLONE_NEWTIME) != 0) _exit(2);
  if (MapRoot() != 0) _exit(8);
  const pid_t inner = fork();
  if (inner < 0) _exit(3);
  if (inner == 0) {
    // PID 1 of the new pid namespace, in the new time namespace.
    if (unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) _exit(4);
    if (MapRoot() != 0) _exit(9);
    const pid_t leaf = fork();
    if (leaf < 0) _exit(5);
    if (leaf == 0) {
      SleepMs(lifetime_ms);
      _exit(0);
    }
    _exit(WaitOne(leaf) == 0 ? 0 : 6);
  }
  _exit(WaitOne(inner) == 0 ? 0 : 7);
}

// Creates the empty file "path" for a bind mount; 0 on success.
static int Touch(const char* path) {
  const int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

// Bind-mounts a new net namespace at "path" and a new uts namespace at
// "path".uts; 0 on success.
static int BindNamespaces(const char* path) {
  char uts[80];
  snprintf(uts, sizeof(uts), "%.63s.uts", path);
  if (Touch(path) != 0 || Touch(uts) != 0) return -1;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (unshare(CLONE_NEWNET | CLONE_NEWUTS) != 0) _exit(2);
    if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) != 0) _exit(3);
    _exit(mount("/proc/self/ns/uts", uts, NULL, MS_BIND, NULL) == 0 ? 0 : 4);
  }
  return WaitOne(pid);
}

// Unmounts what BindNamespaces(path) mounted and removes the files.
static void Unbind(const char* path) {
  char uts[80];
  snprintf(uts, sizeof(uts), "%.63s.uts", path);
  umount2(path, MNT_DETACH);
  umount2(uts, MNT_DETACH);
  unlink(path);
  unlink(uts);
}

// Opens the net, uts and ipc namespaces of a child that unshares them and
// then exits, into fds[0..2]: afterwards only these fds hold them. 0 on
// success; on failure no fd is left open.
static int HoldNamespaces(int fds[kPerHold]) {
  static const char* const kTypes[kPerHold] = {"net", "uts", "ipc"};
  int ready[2], go[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return -1;
  if (pipe2(go, O_CLOEXEC) != 0) {
    close(ready[0]);
    close(ready[1]);
    return -1;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    char c = 0;
    close(ready[0]);
    close(go[1]);
    if (unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) != 0) _exit(2);
    if (write(ready[1], &c, 1) != 1) _exit(3);
    // Lives until the parent has opened its namespaces and closes "go".
    _exit(read(go[0], &c, 1) == 0 ? 0 : 4);
  }
  close(ready[1]);
  close(go[0]);
  int ok = pid > 0;
  char c;
  if (ok) ok = read(ready[0], &c, 1) == 1;
  for (int i = 0; i < kPerHold; ++i) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, kTypes[i]);
    fds[i] = ok ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fds[i] < 0) ok = 0;
  }
  close(ready[0]);
  close(go[1]);
  if (pid > 0 && WaitOne(pid) != 0) ok = 0;
  if (!ok) {
    for (int i = 0; i < kPerHold; ++i) {
      if (fds[i] >= 0) close(fds[i]);
      fds[i] = -1;
    }
  }
  return ok ? 0 : -1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr,
            "usage: churn SECONDS [TREES_PER_SECOND [LIVE [LIFETIME_MS]]]\n");
    return 2;
  }
  const double seconds = atof(argv[1]);
  const double rate = argc > 2 ? atof(argv[2]) : 60;
  const int live_max = argc > 3 ? atoi(argv[3]) : 64;
  const long lifetime_ms = argc > 4 ? atol(argv[4]) : 200;
  signal(SIGPIPE, SIG_IGN);
  // Bind mounts go to a tmpfs of this (private) mount namespace.
  mkdir("/run/netns", 0755);
  const int have_mounts =
      mount("churn", "/run/netns", "tmpfs", 0, "size=1m") == 0;
  char held[kBindMounts][64];
  memset(held, 0, sizeof(held));
  int held_fds[kFdHolds][kPerHold];
  memset(held_fds, -1, sizeof(held_fds));

  long trees = 0, failures = 0, bind_mounts = 0, bind_failures = 0, live = 0;
  long fd_holds = 0, fd_failures = 0;
  const double start = Now();
  double next = start;
  while (Now() - start < seconds) {
    // Reap what ended.
    int status = 0;
    pid_t done;
    while ((done = waitpid(-1, &status, live >= live_max ? 0 : WNOHANG)) > 0) {
      --live;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
      if (live < live_max) break;
    }
    const double now = Now();
    if (now < next) {
      SleepMs((long)((next - now) * 1000) + 1);
      continue;
    }
    next += 1.0 / rate;
    if (trees % 10 == 5) {
      int* slot = held_fds[fd_holds % kFdHolds];
      for (int i = 0; i < kPerHold; ++i) {
        if (slot[i] >= 0) close(slot[i]);
        slot[i] = -1;
      }
      if (HoldNamespaces(slot) == 0) {
        ++fd_holds;
      } else {
        ++fd_failures;
      }
    }
    if (have_mounts && trees % 10 == 0) {
      const int slot = (int)(bind_mounts % kBindMounts);
      if (held[slot][0] != '\0') Unbind(held[slot]);
      snprintf(held[slot], sizeof(held[slot]), "/run/netns/churn-%ld",
               bind_mounts);
      if (BindNamespaces(held[slot]) == 0) {
        ++bind_mounts;
      } else {
        ++bind_failures;
        held[slot][0] = '\0';
      }
    }
    const pid_t pid = fork();
    if (pid < 0) {
      ++failures;
      continue;
    }
    if (pid == 0) Tree(lifetime_ms);
    ++live;
    ++trees;
  }
  while (live > 0) {
    int status = 0;
    if (wait(&status) < 0) break;
    --live;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  for (int i = 0; i < kBindMounts; ++i) {
    if (held[i][0] != '\0') Unbind(held[i]);
  }
  for (int i = 0; i < kFdHolds; ++i) {
    for (int k = 0; k < kPerHold; ++k) {
      if (held_fds[i][k] >= 0) close(held_fds[i][k]);
    }
  }
  const double elapsed = Now() - start;
  const long namespaces = (trees - failures) * kPerTree +
                          bind_mounts * kPerBind + fd_holds * kPerHold;
  printf(
      "{\"seconds\": %.1f, \"trees\": %ld, \"failures\": %ld, "
      "\"bind_mounts\": %ld, \"bind_failures\": %ld, \"fd_holds\": %ld, "
      "\"fd_failures\": %ld, \"namespaces\": %ld, "
      "\"namespaces_per_second\": %.1f}\n",
      elapsed, trees, failures, bind_mounts, bind_failures, fd_holds,
      fd_failures, namespaces, (double)namespaces / elapsed);
  return failures == 0 && fd_failures == 0 ? 0 : 1;
}
