/* The init of the test virtual machines: PID 1 in a guest kernel booted by
 * kernel_vm.py. It loads the modules that reach the host's root filesystem
 * (9p over virtio), mounts it read-only as the new root with proc, sys, dev,
 * a tmpfs /tmp and /run, brings up lo, runs one command and powers the
 * machine off, printing the command's exit status on the console as
 * "NSEXP_GUEST_EXIT=<n>".
 *
 * Usage (the kernel passes what follows "--" on its command line):
 *   init [-k PATH]... [-w DIR] COMMAND [ARG]...
 * (no "--": the kernel drops a second one).
 * -k keeps a host directory under /tmp or /run visible (bind-mounted over
 * the tmpfs), -w is the working directory of COMMAND.
 *
 * The initramfs holds this program, lib/modules/VERSION/modules.dep and the
 * modules it names; "modules" in the initramfs lists the ones to load. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

#define NEWROOT "/newroot"
#define HOSTVIEW "/host"
#define MAX_DEPS 4096

static void say(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("guest-init: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void power_off(int status) {
  /* The marker goes to the console even when stdout was redirected. */
  printf("\nNSEXP_GUEST_EXIT=%d\n", status);
  fflush(stdout);
  fflush(stderr);
  sync();
  reboot(RB_POWER_OFF);
  for (;;) pause();
}

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("guest-init: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  power_off(125);
}

/* modules.dep: "kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz ...". */
static char* dep_text;

static char* dep_line(const char* name) {
  /* Finds the line whose module file is NAME.ko or NAME.ko.<ext>. */
  size_t n = strlen(name);
  for (char* line = dep_text; line && *line;) {
    char* end = strchr(line, '\n');
    char* colon = strchr(line, ':');
    if (colon && (!end || colon < end)) {
      char* base = line;
      for (char* p = line; p < colon; ++p) {
        if (*p == '/') base = p + 1;
      }
      if ((size_t)(colon - base) >= n + 3 && strncmp(base, name, n) == 0 &&
          strncmp(base + n, ".ko", 3) == 0) {
        return line;
      }
    }
    line = end ? end + 1 : NULL;
  }
  return NULL;
}

static int load_file(const char* moddir, const char* rel, size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%.*s", moddir, (int)len, rel);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    say("open %s: %s", path, strerror(errno));
    return -1;
  }
  int flags = strstr(path, ".ko.") ? MODULE_INIT_COMPRESSED_FILE : 0;
  long r = syscall(SYS_finit_module, fd, "", flags);
  int err = errno;
  close(fd);
  if (r != 0 && err != EEXIST) {
    say("finit_module %s: %s", path, strerror(err));
    return -1;
  }
  return 0;
}

/* Loads NAME after the modules it depends on (modules.dep lists them all,
 * nearest first, so load them last to first). */
static int load_module(const char* moddir, const char* name) {
  char* line = dep_line(name);
  if (!line) {
    say("module %s not in modules.dep", name);
    return -1;
  }
  char* end = strchr(line, '\n');
  if (!end) end = line + strlen(line);
  char* colon = strchr(line, ':');
  const char* starts[MAX_DEPS];
  size_t lens[MAX_DEPS];
  int count = 0;
  for (char* p = colon + 1; p < end && count < MAX_DEPS;) {
    while (p < end && *p == ' ') ++p;
    char* q = p;
    while (q < end && *q != ' ') ++q;
    if (q > p) {
      starts[count] = p;
      lens[count] = (size_t)(q - p);
      ++count;
    }
    p = q;
  }
  for (int i = count - 1; i >= 0; --i) {
    if (load_file(moddir, starts[i], lens[i]) != 0) return -1;
  }
  return load_file(moddir, line, (size_t)(colon - line));
}

static char* read_all(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 1 << 16, len = 0;
  char* buf = malloc(cap + 1);
  for (;;) {
    if (len == cap) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
    }
    ssize_t r = read(fd, buf + len, cap - len);
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(fd);
  buf[len] = '\0';
  return buf;
}

static void mkdirs(const char* path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char* p = buf + 1; *p; ++p) {
    if (*p == '/') {
      *p = '\0';
      mkdir(buf, 0755);
      *p = '/';
    }
  }
  mkdir(buf, 0755);
}

static void must_mount(const char* src, const char* dst, const char* type,
                       unsigned long flags, const char* data) {
  if (mount(src, dst, type, flags, data) != 0) {
    die("mount %s on %s (%s): %s", src, dst, type ? type : "bind",
        strerror(errno));
  }
}

static int is_mounted_9p(void) {
  char* m = read_all("/proc/mounts");
  int found = m && strstr(m, "hostroot " NEWROOT " 9p") != NULL;
  free(m);
  return found;
}

static void lo_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) die("SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) die("SIOCSIFFLAGS lo");
  close(s);
}

int main(int argc, char** argv) {
  const char* keep[64];
  int nkeep = 0;
  const char* workdir = "/";
  int i = 1;
  for (; i < argc; ++i) {
    if (argv[i][0] != '-') break;
    if (strcmp(argv[i], "-k") == 0 && i + 1 < argc && nkeep < 64) {
      keep[nkeep++] = argv[++i];
    } else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
      workdir = argv[++i];
    } else {
      die("unknown argument %s", argv[i]);
    }
  }
  if (i >= argc) {
    for (int a = 0; a < argc; ++a) say("argv[%d] = %s", a, argv[a]);
    die("no command given");
  }

  /* The initramfs: modules first, then the host's root over 9p. */
  mkdir("/proc", 0755);
  must_mount("proc", "/proc", "proc", 0, NULL);
  struct utsname u;
  uname(&u);
  char moddir[512];
  snprintf(moddir, sizeof moddir, "/lib/modules/%s", u.release);
  char dep_path[600];
  snprintf(dep_path, sizeof dep_path, "%s/modules.dep", moddir);
  dep_text = read_all(dep_path);
  if (!dep_text) die("cannot read %s", dep_path);
  char* wanted = read_all("/modules");
  if (!wanted) die("cannot read /modules");
  for (char* name = strtok(wanted, " \n"); name; name = strtok(NULL, " \n")) {
    /* A module built into this kernel is not in modules.dep: skip it. */
    if (dep_line(name) == NULL) continue;
    if (load_module(moddir, name) != 0) die("cannot load %s", name);
  }

  mkdir(NEWROOT, 0755);
  /* The virtio device may still be probing: wait for its channel. */
  for (int tries = 0;; ++tries) {
    if (mount("hostroot", NEWROOT, "9p", MS_RDONLY,
              "trans=virtio,version=9p2000.L,msize=512000,cache=loose") == 0) {
      break;
    }
    if (errno != ENODEV && errno != ENOENT) break;
    if (tries == 200) {
      char* mods = read_all("/proc/modules");
      die("no 9p channel \"hostroot\" after 10 s; modules:\n%s",
          mods ? mods : "?");
    }
    usleep(50000);
  }
  if (!is_mounted_9p()) die("mount hostroot: %s", strerror(errno));
  mkdir(HOSTVIEW, 0755);
  must_mount(NEWROOT, HOSTVIEW, NULL, MS_BIND, NULL);
  must_mount("proc", NEWROOT "/proc", "proc", 0, NULL);
  must_mount("sysfs", NEWROOT "/sys", "sysfs", 0, NULL);
  must_mount("devtmpfs", NEWROOT "/dev", "devtmpfs", 0, NULL);
  mkdir(NEWROOT "/dev/pts", 0755);
  mount("devpts", NEWROOT "/dev/pts", "devpts", 0, NULL);
  mkdir(NEWROOT "/dev/shm", 01777);
  mount("tmpfs", NEWROOT "/dev/shm", "tmpfs", 0, "mode=1777");
  must_mount("tmpfs", NEWROOT "/tmp", "tmpfs", 0, "mode=1777");
  must_mount("tmpfs", NEWROOT "/run", "tmpfs", 0, "mode=755");
  for (int k = 0; k < nkeep; ++k) {
    char src[4096], dst[4096];
    snprintf(src, sizeof src, HOSTVIEW "%s", keep[k]);
    snprintf(dst, sizeof dst, NEWROOT "%s", keep[k]);
    mkdirs(dst);
    must_mount(src, dst, NULL, MS_BIND, NULL);
  }
  lo_up();

  /* Move the new root over "/" rather than only chroot into it: the kernel
   * refuses user namespaces to a chrooted process. */
  if (chdir(NEWROOT) != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 ||
      chroot(".") != 0 || chdir(workdir) != 0) {
    die("switching root: %s", strerror(errno));
  }
  setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
         1);
  setenv("HOME", "/root", 1);
  setenv("TMPDIR", "/tmp", 1);
  printf("NSEXP_GUEST_START\n");
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) die("fork: %s", strerror(errno));
  if (child == 0) {
    setsid();
    execvp(argv[i], argv + i);
    say("exec %s: %s", argv[i], strerror(errno));
    _exit(127);
  }
  /* As PID 1, reap every orphan until the command itself exits. */
  int status = 0;
  for (;;) {
    int st;
    pid_t r = wait(&st);
    if (r == child) {
      status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (r < 0 && errno != EINTR) break;
  }
  power_off(status);
  return 0;
}
