// floor: the least work that learns every process's namespaces, as a lower
// bound for the exporter's scrape. It lists the PID directories of /proc and
// readlinkat()s the eight ns links of each relative to an fd opened on the
// PID directory, nothing else.
//
// Variants, to inform the exporter's design (bench/notes.md has results):
//   --getdents BYTES  list /proc with getdents64 and a BYTES buffer instead
//                     of readdir(3) (glibc's readdir uses a 32 KiB buffer)
//   --threads N       N threads split the PID list (interleaved)
//   --nsdir           open /proc/PID/ns and readlinkat(fd, "net") instead of
//                     opening /proc/PID and readlinkat(fd, "ns/net")
//   --opath           open the directory with O_PATH (no file open work)
//   --list-only       list the PIDs, read no links
//   --repeat R        walk R times, print each walk's time
//   --stdin           walk once per line read on stdin (until end of file),
//                     printing each walk's line at once: one process that a
//                     driver times walk by walk, as it times the requests
//                     of one HTTP connection to a server
//   --proc DIR        the procfs root (default /proc)
//
// Output, one line per walk:
//   processes=N links=M vanished=V seconds=S
// Exit status 0, or 1 when /proc cannot be listed.
//
// Build: cc -O2 -pthread -o floor floor.c
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char* const kLinks[8] = {"ns/cgroup", "ns/ipc",  "ns/mnt",
                                      "ns/net",    "ns/pid",  "ns/time",
                                      "ns/user",   "ns/uts"};

struct Options {
  const char* proc;
  size_t getdents_bytes;  // 0: readdir
  int threads;
  int nsdir;
  int opath;
  int list_only;
  int repeat;
  int from_stdin;
};

struct PidList {
  int* pids;
  size_t len;
  size_t cap;
};

static void Append(struct PidList* l, int pid) {
  if (l->len == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 4096;
    l->pids = realloc(l->pids, l->cap * sizeof *l->pids);
    if (l->pids == NULL) {
      perror("floor: realloc");
      exit(1);
    }
  }
  l->pids[l->len++] = pid;
}

// "1234" -> 1234; anything else -> -1.
static int ParsePid(const char* name) {
  if (*name < '1' || *name > '9') return -1;
  int v = 0;
  for (; *name; ++name) {
    if (*name < '0' || *name > '9') return -1;
    v = v * 10 + (*name - '0');
  }
  return v;
}

struct linux_dirent64_ {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static int ListPids(int proc_fd, const struct Options* o, struct PidList* l) {
  l->len = 0;
  int fd = openat(proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (o->getdents_bytes == 0) {
    DIR* d = fdopendir(fd);
    if (d == NULL) return -1;
    struct dirent* e;
    while ((e = readdir(d)) != NULL) {
      int pid = ParsePid(e->d_name);
      if (pid > 0) Append(l, pid);
    }
    closedir(d);
    return 0;
  }
  char* buf = malloc(o->getdents_bytes);
  if (buf == NULL) return -1;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, o->getdents_bytes);
    if (n < 0) {
      free(buf);
      close(fd);
      return -1;
    }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      struct linux_dirent64_* e = (struct linux_dirent64_*)(buf + off);
      int pid = ParsePid(e->d_name);
      if (pid > 0) Append(l, pid);
      off += e->d_reclen;
    }
  }
  free(buf);
  close(fd);
  return 0;
}

struct Work {
  const struct Options* o;
  int proc_fd;
  const struct PidList* list;
  int index;
  long processes;
  long links;
  long vanished;
  unsigned long checksum;
};

static void* Walk(void* arg) {
  struct Work* w = arg;
  const struct Options* o = w->o;
  char name[32];
  char target[64];
  int flags = O_DIRECTORY | O_CLOEXEC | (o->opath ? O_PATH : O_RDONLY);
  for (size_t i = (size_t)w->index; i < w->list->len; i += (size_t)o->threads) {
    snprintf(name, sizeof name, o->nsdir ? "%d/ns" : "%d", w->list->pids[i]);
    int fd = openat(w->proc_fd, name, flags);
    if (fd < 0) {
      ++w->vanished;
      continue;
    }
    ++w->processes;
    for (int k = 0; k < 8; ++k) {
      const char* link = o->nsdir ? kLinks[k] + 3 : kLinks[k];
      ssize_t n = readlinkat(fd, link, target, sizeof target);
      if (n > 0) {
        ++w->links;
        w->checksum += (unsigned long)n + (unsigned char)target[n - 2];
      }
    }
    close(fd);
  }
  return NULL;
}

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int Usage(void) {
  fprintf(stderr,
          "usage: floor [--getdents BYTES] [--threads N] [--nsdir] [--opath]\n"
          "             [--list-only] [--repeat R] [--stdin] [--proc DIR]\n");
  return 2;
}

int main(int argc, char** argv) {
  struct Options o = {"/proc", 0, 1, 0, 0, 0, 1, 0};
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    int has_value = i + 1 < argc;
    if (strcmp(a, "--getdents") == 0 && has_value) {
      o.getdents_bytes = strtoul(argv[++i], NULL, 10);
      if (o.getdents_bytes < 4096) o.getdents_bytes = 4096;
    } else if (strcmp(a, "--threads") == 0 && has_value) {
      o.threads = atoi(argv[++i]);
    } else if (strcmp(a, "--repeat") == 0 && has_value) {
      o.repeat = atoi(argv[++i]);
    } else if (strcmp(a, "--proc") == 0 && has_value) {
      o.proc = argv[++i];
    } else if (strcmp(a, "--nsdir") == 0) {
      o.nsdir = 1;
    } else if (strcmp(a, "--opath") == 0) {
      o.opath = 1;
    } else if (strcmp(a, "--list-only") == 0) {
      o.list_only = 1;
    } else if (strcmp(a, "--stdin") == 0) {
      o.from_stdin = 1;
    } else {
      return Usage();
    }
  }
  if (o.threads < 1 || o.threads > 64 || o.repeat < 1) return Usage();

  int proc_fd = open(o.proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd < 0) {
    fprintf(stderr, "floor: %s: %s\n", o.proc, strerror(errno));
    return 1;
  }
  struct PidList list = {NULL, 0, 0};
  struct Work work[64];
  pthread_t tids[64];
  char line[64];
  for (int r = 0; o.from_stdin || r < o.repeat; ++r) {
    if (o.from_stdin && fgets(line, sizeof line, stdin) == NULL) break;
    double start = Now();
    if (ListPids(proc_fd, &o, &list) != 0) {
      fprintf(stderr, "floor: listing %s: %s\n", o.proc, strerror(errno));
      return 1;
    }
    long processes = 0, links = 0, vanished = 0;
    unsigned long checksum = 0;
    if (o.list_only) {
      processes = (long)list.len;
    } else {
      for (int t = 0; t < o.threads; ++t) {
        work[t] = (struct Work){&o, proc_fd, &list, t, 0, 0, 0, 0};
        if (t > 0) pthread_create(&tids[t], NULL, Walk, &work[t]);
      }
      Walk(&work[0]);
      for (int t = 0; t < o.threads; ++t) {
        if (t > 0) pthread_join(tids[t], NULL);
        processes += work[t].processes;
        links += work[t].links;
        vanished += work[t].vanished;
        checksum += work[t].checksum;
      }
    }
    double seconds = Now() - start;
    printf("processes=%ld links=%ld vanished=%ld seconds=%.6f sum=%lu\n",
           processes, links, vanished, seconds, checksum % 1000);
    if (o.from_stdin) fflush(stdout);
  }
  free(list.pids);
  close(proc_fd);
  return 0;
}
