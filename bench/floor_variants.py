#!/usr/bin/env python3
"""Times variants of bench/floor.c (threads, getdents64 buffer, ns dir fd,
O_PATH) on a population made by bench/populate.c, interleaved, and prints a
markdown table. The numbers in bench/notes.md come from this script.

Run as root: sudo python3 bench/floor_variants.py [--size 10000] [--reps 15]
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
from nsbench import population as pop  # noqa: E402  (the driver's Population, Limits)
from nsbench import system  # noqa: E402

VARIANTS = [
    ("readdir, 1 thread", []),
    ("getdents64 1 MiB, 1 thread", ["--getdents", "1048576"]),
    ("readdir, 2 threads", ["--threads", "2"]),
    ("getdents64 1 MiB, 2 threads", ["--getdents", "1048576", "--threads", "2"]),
    ("readdir, 4 threads", ["--threads", "4"]),
    ("open /proc/PID/ns, readlinkat(fd, \"net\")", ["--nsdir"]),
    ("open /proc/PID with O_PATH", ["--opath"]),
    ("list PIDs only, readdir", ["--list-only"]),
    ("list PIDs only, getdents64 1 MiB", ["--list-only", "--getdents", "1048576"]),
]


def run_floor(binary, extra):
    """One walk in a fresh process: (walk seconds, CPU seconds, processes)."""
    p = subprocess.Popen([binary, *extra], stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    _, _, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    m = re.search(r"processes=(\d+).*seconds=([\d.]+)", out)
    return float(m.group(2)), ru.ru_utime + ru.ru_stime, int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=10000, help="processes on the host")
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("run as root", file=sys.stderr)
        return 1
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, system.on_signal)
    work = tempfile.mkdtemp(prefix="nsbench.")
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run(["cc", "-O2", "-static", "-o", f"{work}/populate", f"{here}/populate.c"],
                   check=True)
    subprocess.run(["cc", "-O2", "-pthread", "-o", f"{work}/floor", f"{here}/floor.c"],
                   check=True)
    limits = pop.Limits()
    population = None
    try:
        limits.prepare(args.size)
        population = pop.Population(f"{work}/populate", 8, work)
        population.start()
        created, sets, failed = population.grow(max(0, args.size - system.count_processes()))
        time.sleep(3)
        load0 = open("/proc/loadavg").read().split()[:3]
        walls = {name: [] for name, _ in VARIANTS}
        cpus = {name: [] for name, _ in VARIANTS}
        procs = []
        for _ in range(2):  # warm the dcache
            run_floor(f"{work}/floor", [])
        for rep in range(args.reps):
            order = VARIANTS[rep % len(VARIANTS):] + VARIANTS[:rep % len(VARIANTS)]
            for name, extra in order:
                wall, cpu, n = run_floor(f"{work}/floor", extra)
                walls[name].append(wall)
                cpus[name].append(cpu)
                procs.append(n)
        load1 = open("/proc/loadavg").read().split()[:3]
    except system.Interrupted:
        return 130
    finally:
        if population:
            population.close()
        limits.restore()

    n = int(statistics.median(procs))
    base = statistics.median(walls[VARIANTS[0][0]])
    print(f"{n} processes ({created} made in {sets} sets), {args.reps} interleaved runs "
          f"per variant, {os.cpu_count()} CPUs; load average before {' '.join(load0)}, "
          f"after {' '.join(load1)}\n")
    print("| variant | median walk (ms) | min (ms) | us per process | CPU per walk (ms) "
          "| vs readdir, 1 thread |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, _ in VARIANTS:
        med = statistics.median(walls[name])
        print(f"| {name} | {med * 1000:.1f} | {min(walls[name]) * 1000:.1f} | "
              f"{med / n * 1e6:.2f} | {statistics.median(cpus[name]) * 1000:.1f} | "
              f"{med / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
