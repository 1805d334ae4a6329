// Namespace churn generator for the soak test: creates and destroys
// processes and namespaces of all eight types as fast as asked.
//
// Each "tree" is a child that unshares all eight types at once (user, mnt,
// uts, ipc, net, pid, cgroup, time), a grandchild in the new pid and time
// namespaces that unshares a nested user and pid namespace, and a
// great-grandchild that lives LIFETIME_MS: ten namespaces a tree. Every
// tenth tree also bind-mounts a fresh net namespace at /run/netns/churn-N
// (kept for a few trees, then unmounted): run it in a private mount
// namespace (unshare --mount --propagation private) so that the mounts stay
// out of the host's. Needs root.
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

enum { kPerTree = 10, kBindMounts = 8 };

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

// Bind-mounts a new net namespace at "path"; 0 on success.
static int BindNetns(const char* path) {
  const int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  close(fd);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(2);
    _exit(mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) == 0 ? 0 : 3);
  }
  return WaitOne(pid);
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

  long trees = 0, failures = 0, bind_mounts = 0, bind_failures = 0, live = 0;
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
    if (have_mounts && trees % 10 == 0) {
      const int slot = (int)(bind_mounts % kBindMounts);
      if (held[slot][0] != '\0') {
        umount2(held[slot], MNT_DETACH);
        unlink(held[slot]);
      }
      snprintf(held[slot], sizeof(held[slot]), "/run/netns/churn-%ld",
               bind_mounts);
      if (BindNetns(held[slot]) == 0) {
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
    if (held[i][0] != '\0') umount2(held[i], MNT_DETACH);
  }
  const double elapsed = Now() - start;
  const long namespaces = (trees - failures) * kPerTree + bind_mounts;
  printf(
      "{\"seconds\": %.1f, \"trees\": %ld, \"failures\": %ld, "
      "\"bind_mounts\": %ld, \"bind_failures\": %ld, \"namespaces\": %ld, "
      "\"namespaces_per_second\": %.1f}\n",
      elapsed, trees, failures, bind_mounts, bind_failures, namespaces,
      (double)namespaces / elapsed);
  return failures == 0 ? 0 : 1;
}
