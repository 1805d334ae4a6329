// populate: grows a population of sleeping processes spread over sets of
// namespaces, for the benchmark suite, and kills all of it on request.
//
// Protocol (line based, stdin -> stdout):
//   "<N>\n"   grow until the population holds N processes, then answer
//             "ready <processes> <sets> <failed>\n" (failed > 0: a fork or
//             clone failed, the population stopped growing)
//   "quit\n", EOF on stdin, SIGTERM, SIGINT, SIGHUP, or the death of the
//             parent: SIGKILL the whole process group, this process last.
//
// Every process it makes stays in its process group (nobody calls setsid or
// setpgid), carries PR_SET_PDEATHSIG=SIGKILL, and, where it starts a pid
// namespace, is that namespace's init: killing the group, the top process or
// an init takes the rest with it.
//
// Kinds of sets, used in turn (see kKinds): a container (pid, mnt, uts, ipc,
// net, cgroup), a rootless container (the same inside a new user namespace),
// pid namespaces nested three deep, user+pid namespaces nested two deep,
// net only, uts+ipc, mnt+cgroup, a time namespace, pid only, and plain
// processes in the initial namespaces.
//
// Build: cc -O2 -static -o populate populate.c   (must run as root)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

enum { kMaxDepth = 3 };

// One kind of set: the clone flags of each nesting level (level 0 is the set
// leader, made by the top process; level i+1 is made by level i), plus
// namespaces the innermost level unshares for its children only.
struct Kind {
  const char* name;
  int depth;
  unsigned long flags[kMaxDepth];
  unsigned long unshare_for_children;
};

#define CONTAINER_FLAGS                                                   \
  (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | \
   CLONE_NEWCGROUP)

static const struct Kind kKinds[] = {
    {"container", 1, {CONTAINER_FLAGS}, 0},
    {"rootless", 1, {CLONE_NEWUSER | CONTAINER_FLAGS}, 0},
    {"pid3",
     3,
     {CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC, CLONE_NEWPID,
      CLONE_NEWPID},
     0},
    {"net", 1, {CLONE_NEWNET}, 0},
    {"container", 1, {CONTAINER_FLAGS}, 0},
    {"user2",
     2,
     {CLONE_NEWUSER | CLONE_NEWPID, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWUTS},
     0},
    {"utsipc", 1, {CLONE_NEWUTS | CLONE_NEWIPC}, 0},
    {"mntcgroup", 1, {CLONE_NEWNS | CLONE_NEWCGROUP}, 0},
    {"time", 1, {CLONE_NEWPID}, CLONE_NEWTIME},
    {"pid", 1, {CLONE_NEWPID}, 0},
    {"host", 1, {0}, 0},
};
enum { kNumKinds = sizeof kKinds / sizeof kKinds[0] };

static int g_ready_w = -1;  // write end of the readiness pipe
static int g_devnull = -1;
static int g_no_user = 0;   // skip kinds that need user namespaces

static void KillGroup(void) {
  // The group includes this process: nothing runs after this call.
  kill(0, SIGKILL);
  _exit(1);
}

static void OnSignal(int sig) {
  (void)sig;
  KillGroup();
}

// fork() with namespace flags: the raw clone syscall with no new stack
// copies the caller's stack like fork does. Returns the child's pid in the
// caller's pid namespace, 0 in the child, -1 on error.
static pid_t CloneFork(unsigned long flags) {
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static void Report(char c) {
  // A short write on a pipe of one byte cannot happen; EINTR is retried.
  while (write(g_ready_w, &c, 1) < 0 && errno == EINTR) {
  }
}

// Runs in every new process right after it is made.
static void ChildSetup(pid_t parent_pid_in_parent_ns, int is_ns_init) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before prctl took effect. An init of a new pid
  // namespace sees 0 as its parent, so the check only works for the rest.
  if (!is_ns_init && getppid() != parent_pid_in_parent_ns) _exit(1);
  dup2(g_devnull, 0);
  dup2(g_devnull, 1);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
}

// Maps uid and gid 0 of a new user namespace to the creator's (root), as
// `unshare --map-root-user` does: a user namespace whose owner is unmapped
// cannot create a nested one (user_namespaces(7)).
static void MapRoot(void) {
  static const char* const kFiles[] = {"/proc/self/setgroups",
                                       "/proc/self/uid_map",
                                       "/proc/self/gid_map"};
  static const char* const kData[] = {"deny", "0 0 1", "0 0 1"};
  for (int i = 0; i < 3; ++i) {
    int fd = open(kFiles[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, kData[i], strlen(kData[i])) < 0) {
      fprintf(stderr, "populate: %s: %s\n", kFiles[i], strerror(errno));
    }
    if (fd >= 0) close(fd);
  }
}

__attribute__((noreturn)) static void SleepForever(void) {
  for (;;) pause();
}

// Runs as a member of a set at nesting level `level`. Makes the next level,
// or (at the innermost level) `sleepers` plain children, then sleeps.
// Writes '.' for itself and each process it made, 'x' for each it could not.
__attribute__((noreturn)) static void RunLevel(const struct Kind* kind, int level,
                                             int sleepers) {
  if (kind->flags[level] & CLONE_NEWUSER) MapRoot();
  Report('.');
  if (level + 1 < kind->depth) {
    pid_t self = getpid();
    pid_t child = CloneFork(kind->flags[level + 1]);
    if (child == 0) {
      ChildSetup(self, (kind->flags[level + 1] & CLONE_NEWPID) != 0);
      RunLevel(kind, level + 1, sleepers);
      _exit(0);
    }
    if (child < 0) {
      fprintf(stderr, "populate: clone(%s level %d): %s\n", kind->name,
              level + 1, strerror(errno));
      for (int i = 0; i < kind->depth - level - 1 + sleepers; ++i) Report('x');
    }
    SleepForever();
  }
  if (kind->unshare_for_children != 0 &&
      unshare((int)kind->unshare_for_children) != 0) {
    fprintf(stderr, "populate: unshare(%s): %s\n", kind->name,
            strerror(errno));
  }
  pid_t self = getpid();
  for (int i = 0; i < sleepers; ++i) {
    pid_t child = fork();
    if (child == 0) {
      ChildSetup(self, (kind->unshare_for_children & CLONE_NEWPID) != 0);
      Report('.');
      close(g_ready_w);
      SleepForever();
    }
    if (child < 0) {
      fprintf(stderr, "populate: fork(%s): %s\n", kind->name, strerror(errno));
      for (int j = i; j < sleepers; ++j) Report('x');
      break;
    }
  }
  close(g_ready_w);
  SleepForever();
}

struct Totals {
  long processes;
  long sets;
  long failed;
  long kind_index;
};

// Reads readiness bytes until `expected` have arrived.
static void Collect(int ready_r, long expected, struct Totals* t) {
  char buf[4096];
  long seen = 0;
  while (seen < expected) {
    ssize_t n = read(ready_r, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("populate: read");
      KillGroup();
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '.')
        ++t->processes;
      else
        ++t->failed;
    }
    seen += n;
  }
}

static void Grow(long target, int set_size, int ready_r, struct Totals* t) {
  while (t->processes < target && t->failed == 0) {
    long want = target - t->processes;
    long expected = 0;
    // Make sets in batches of up to 64, then wait for them: bounded work in
    // flight, and a failure stops growth early.
    for (int b = 0; b < 64 && want > 0; ++b) {
      const struct Kind* kind = &kKinds[t->kind_index % kNumKinds];
      ++t->kind_index;
      if (g_no_user && (kind->flags[0] & CLONE_NEWUSER)) continue;
      int size = set_size;
      if (size > want) size = (int)want;
      if (size < kind->depth + 1) kind = &kKinds[kNumKinds - 1];  // host
      int sleepers = size - kind->depth;
      if (sleepers < 0) sleepers = 0;
      pid_t self = getpid();
      pid_t child = CloneFork(kind->flags[0]);
      if (child == 0) {
        ChildSetup(self, (kind->flags[0] & CLONE_NEWPID) != 0);
        RunLevel(kind, 0, sleepers);
        _exit(0);
      }
      if (child < 0) {
        fprintf(stderr, "populate: clone(%s): %s\n", kind->name,
                strerror(errno));
        ++t->failed;
        break;
      }
      ++t->sets;
      expected += kind->depth + sleepers;
      want -= kind->depth + sleepers;
    }
    Collect(ready_r, expected, t);
  }
}

int main(int argc, char** argv) {
  int set_size = 8;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--set-size") == 0 && i + 1 < argc) {
      set_size = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--no-user") == 0) {
      g_no_user = 1;
    } else {
      fprintf(stderr,
              "usage: populate [--set-size N] [--no-user]\n"
              "  then write a target process count per line on stdin\n");
      return 2;
    }
  }
  if (set_size < 4) set_size = 4;
  if (geteuid() != 0) {
    fprintf(stderr, "populate: must run as root\n");
    return 1;
  }
  // Lead a process group of our own so the whole population can be killed
  // at once; die with the parent (the benchmark driver).
  if (getpgrp() != getpid() && setpgid(0, 0) != 0) {
    perror("populate: setpgid");
    return 1;
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  signal(SIGHUP, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN);  // no zombies from sets that fail early
  struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_NPROC, &unlimited);

  g_devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int fds[2];
  if (g_devnull < 0 || pipe(fds) != 0) {
    perror("populate: setup");
    return 1;
  }
  int ready_r = fds[0];
  g_ready_w = fds[1];
  fcntl(ready_r, F_SETFD, FD_CLOEXEC);

  struct Totals totals = {0, 0, 0, 0};
  char line[128];
  while (fgets(line, sizeof line, stdin) != NULL) {
    if (strncmp(line, "quit", 4) == 0) break;
    long target = strtol(line, NULL, 10);
    if (target > 0) Grow(target, set_size, ready_r, &totals);
    printf("ready %ld %ld %ld\n", totals.processes, totals.sets,
           totals.failed);
    fflush(stdout);
  }
  KillGroup();
  return 0;
}
