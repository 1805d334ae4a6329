"""The population measured: kernel and rlimit limits raised for it
(Limits) and the namespaced sleepers of populate.c (Population)."""

import json
import os
import re
import resource
import select
import signal
import subprocess
import time

from .system import NS_TYPES, count_processes, die_with_parent, log, read_int, write_sysctl


class Limits:
    """Raises the kernel and rlimit limits a root process may raise, and
    restores the sysctls on exit."""

    # Original values of raised sysctls, kept on disk until restored, so a
    # run killed with SIGKILL is undone by the next one.
    STATE = "/run/nsbench.sysctl.json"

    def __init__(self):
        self.saved = {}
        self.notes = []
        self._restore_stale()

    def _restore_stale(self):
        try:
            with open(self.STATE) as f:
                stale = json.load(f)
        except (OSError, ValueError):
            return
        for path, value in stale.items():
            try:
                write_sysctl(path, value)
                log(f"restored {path} = {value}, left raised by an interrupted run")
            except OSError:
                pass
        os.unlink(self.STATE)

    def _save_state(self):
        try:
            with open(self.STATE, "w") as f:
                json.dump(self.saved, f)
        except OSError:
            pass

    def raise_to(self, path, value):
        try:
            cur = read_int(path)
        except OSError as e:
            self.notes.append(f"{path}: unreadable ({e.strerror})")
            return
        if cur >= value:
            return
        try:
            self.saved[path] = cur
            self._save_state()
            write_sysctl(path, value)
            self.notes.append(f"{path}: raised {cur} -> {value} (restored after)")
        except OSError as e:
            self.notes.append(f"{path}: could not raise {cur} -> {value} ({e.strerror})")

    def prepare(self, max_processes):
        need = max_processes + 4096
        # Pids are allocated per pid namespace level: the host level needs one
        # per process, so pid_max bounds the population.
        self.raise_to("/proc/sys/kernel/pid_max", min(4194304, max(65536, 2 * need)))
        self.raise_to("/proc/sys/kernel/threads-max", 2 * need)
        for t in NS_TYPES:
            self.raise_to(f"/proc/sys/user/max_{t}_namespaces", need)
        for lim in (resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE):
            soft, hard = resource.getrlimit(lim)
            want = resource.RLIM_INFINITY if lim == resource.RLIMIT_NPROC else 65536
            try:
                resource.setrlimit(lim, (want, want))
            except (ValueError, OSError):
                try:
                    resource.setrlimit(lim, (hard, hard))
                except (ValueError, OSError):
                    pass
        soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
        self.notes.append(
            "ulimit -u: " + ("unlimited" if soft == resource.RLIM_INFINITY else str(soft)))
        pid_max = read_int("/proc/sys/kernel/pid_max")
        threads_max = read_int("/proc/sys/kernel/threads-max")
        ns_max = min(read_int(f"/proc/sys/user/max_{t}_namespaces") for t in NS_TYPES)
        cap = min(pid_max, threads_max) - 4096
        if soft != resource.RLIM_INFINITY:
            cap = min(cap, soft - count_processes() - 512)
        # Each set of 8 makes at most 7 namespaces; leave room for the rest.
        cap = min(cap, ns_max * 8)
        return cap

    def restore(self):
        for path, value in self.saved.items():
            try:
                write_sysctl(path, value)
            except OSError:
                pass
        self.saved.clear()
        try:
            os.unlink(self.STATE)
        except OSError:
            pass


class Population:
    """The populate program: grows a process group of namespaced sleepers and
    kills all of it on close()."""

    def __init__(self, binary, set_size, workdir):
        self.proc = None
        self.binary = binary
        self.set_size = set_size
        self.cgroup = None
        self.workdir = workdir
        self.created = 0
        self.sets = 0

    @staticmethod
    def _remove_stale_cgroups(root):
        """Removes empty cgroups left by runs that were killed."""
        for name in os.listdir(root):
            if not name.startswith("nsbench."):
                continue
            pid = name.split(".", 1)[1]
            if pid.isdigit() and os.path.exists(f"/proc/{pid}"):
                continue  # a run in progress
            try:
                os.rmdir(os.path.join(root, name))
            except OSError:
                pass

    def _make_cgroup(self):
        # A cgroup v2 directory lets cgroup.kill reach every member whatever
        # its namespaces; optional (process group and pid-namespace inits
        # already cover cleanup).
        for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            try:
                with open("/proc/mounts") as f:
                    if not any(l.split()[1] == root and l.split()[2] == "cgroup2" for l in f):
                        continue
                self._remove_stale_cgroups(root)
                path = os.path.join(root, f"nsbench.{os.getpid()}")
                os.mkdir(path)
                if not os.path.exists(os.path.join(path, "cgroup.kill")):
                    os.rmdir(path)
                    continue
                return path
            except OSError:
                continue
        return None

    def start(self):
        self.cgroup = self._make_cgroup()
        cgroup = self.cgroup

        def pre():
            die_with_parent()
            os.setpgid(0, 0)
            if cgroup:
                with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                    f.write("0")

        self.proc = subprocess.Popen(
            [self.binary, "--set-size", str(self.set_size)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            preexec_fn=pre)

    def grow(self, total):
        """Grows the population to `total` processes; returns (processes,
        sets, failed)."""
        self.proc.stdin.write(f"{total}\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], 900)
        if not ready:
            raise RuntimeError("populate did not answer within 900 s")
        line = self.proc.stdout.readline()
        m = re.match(r"ready (\d+) (\d+) (\d+)", line or "")
        if not m:
            raise RuntimeError(f"populate did not answer (got {line!r})")
        self.created, self.sets, failed = (int(x) for x in m.groups())
        return self.created, self.sets, failed

    def close(self):
        if self.proc is None:
            return
        pgid = self.proc.pid
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        if self.cgroup:
            try:
                write_sysctl(os.path.join(self.cgroup, "cgroup.kill"), 1)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        # Wait until no member of the group is left.
        deadline = time.time() + 120
        left = -1
        while time.time() < deadline:
            left = self.members(pgid)
            if left == 0:
                break
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
            time.sleep(0.5)
        if self.cgroup:
            for _ in range(60):
                try:
                    os.rmdir(self.cgroup)
                    break
                except OSError:
                    time.sleep(0.5)
        self.proc = None
        return left

    @staticmethod
    def members(pgid):
        n = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat") as f:
                    data = f.read()
            except OSError:
                continue
            fields = data[data.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid:
                n += 1
        return n
