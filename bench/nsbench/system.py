"""The machine as the benchmark sees it: logging, signals, /proc
figures (processes, memory, CPU time) and sysctls."""

import ctypes
import os
import resource
import signal
import time

NS_TYPES = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"]
PR_SET_PDEATHSIG = 1


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the driver dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def write_sysctl(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def count_processes():
    return sum(1 for n in os.listdir("/proc") if n.isdigit())


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def proc_cpu_seconds(pid):
    """utime+stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def cpu_busy_seconds():
    """CPU seconds all CPUs spent busy since boot (/proc/stat: all but idle
    and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest time is already counted in user and nice
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    """CPU seconds of this driver and of its children it waited for."""
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def wait_for_quiet(timeout, threshold=0.25):
    """Waits until the machine's CPUs are busy less than `threshold` cores
    for three seconds in a row; returns the last one-second figure."""
    deadline = time.time() + timeout
    calm = 0
    busy = float("nan")
    while True:
        b0 = cpu_busy_seconds()
        time.sleep(1)
        busy = cpu_busy_seconds() - b0
        calm = calm + 1 if busy < threshold else 0
        if calm >= 3 or time.time() > deadline:
            return busy


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None
