#!/usr/bin/env python3
"""Benchmark driver: populates the host with namespaced processes, times the
exporter's /metrics scrape against a C floor, lsns and node_exporter's
processes collector, and writes docs/performance.md and docs/performance.png.

Run through bench/run.sh (root). Standard library only; the parts live in
the package nsbench beside this file.
"""

import argparse
import datetime
import os
import platform
import shutil
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean

from nsbench import REPO  # noqa: E402  (also makes the test harness importable)
from nsbench.measurement import measure_size  # noqa: E402
from nsbench.population import Limits, Population  # noqa: E402
from nsbench.report import checks, write_plot, write_report  # noqa: E402
from nsbench.results import RunInfo, load as load_results, save as save_results  # noqa: E402
from nsbench.system import Interrupted, log, mem_available_kib, on_signal  # noqa: E402
from nsbench.tools import (build_c_tools, cpu_model, stop_foreign_node_exporters,  # noqa: E402
                           tool_version)


def report_only(args):
    """Rewrites the report and plot from a run's results.json."""
    meta, results, saved_args = load_results(args.report_from)
    for k, v in saved_args.items():
        if k in ("reps", "set_size", "margin", "concurrency_size", "concurrency", "rounds"):
            setattr(args, k, v)
    work = tempfile.mkdtemp(prefix="nsbench.")
    try:
        err = write_plot(results, args.png, work)
        if err:
            log(err)
        check_lines = checks(results, args)
        write_report(results, check_lines, args, meta, args.out, args.png)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for l in check_lines:
        print(l)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", default="1000,10000,30000,100000",
                   help="process counts on the host to measure at, comma-separated; a "
                        "subset such as 1000,10000 makes a short run (default %(default)s)")
    p.add_argument("--reps", type=int, default=7, help="repetitions per tool and size")
    p.add_argument("--set-size", type=int, default=8, help="processes per set of namespaces")
    p.add_argument("--exporter", default=os.path.join(REPO, "build", "linux_namespace_exporter"))
    p.add_argument("--node-exporter", default=None,
                   help="node_exporter binary (default: prometheus-node-exporter from PATH)")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--concurrency-size", type=int, default=10000,
                   help="size (one of --sizes) for the targets and the concurrent test")
    p.add_argument("--margin", type=float, default=0.05,
                   help="seconds added to 2 x single scrape for the concurrent limit")
    p.add_argument("--lsns-budget", type=float, default=90.0,
                   help="seconds of lsns runs per size; fewer rounds of lsns beyond it")
    p.add_argument("--lsns-max-size", type=int, default=30000,
                   help="no lsns above this many processes (it grows quadratically)")
    p.add_argument("--floor-args", default="",
                   help="extra options of floor (e.g. \"--nsdir --opath --getdents 262144\", "
                        "the exporter's own way of walking)")
    p.add_argument("--quiet-wait", type=float, default=120.0,
                   help="seconds to wait for an idle machine before each size")
    p.add_argument("--settle", type=float, default=3.0,
                   help="seconds to wait after growing the population")
    p.add_argument("--out", default=os.path.join(REPO, "docs", "performance.md"))
    p.add_argument("--png", default=os.path.join(REPO, "docs", "performance.png"))
    p.add_argument("--keep-work", action="store_true", help="keep the scratch directory")
    p.add_argument("--report-from", metavar="RESULTS_JSON",
                   help="only rewrite the report and plot from a run's results.json")
    args = p.parse_args()
    if args.report_from:
        return report_only(args)
    sizes = sorted(int(x) for x in args.sizes.split(","))
    if args.concurrency_size not in sizes:
        args.concurrency_size = min(sizes, key=lambda s: abs(s - 10000))

    if os.geteuid() != 0:
        print("run as root: sudo bench/run.sh", file=sys.stderr)
        return 1
    if args.node_exporter is None:
        args.node_exporter = (shutil.which("prometheus-node-exporter")
                              or shutil.which("node_exporter"))
    for tool in ("curl", "lsns", "cc"):
        if not shutil.which(tool):
            print(f"missing {tool}: run bench/run.sh, which installs it", file=sys.stderr)
            return 1

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    started = time.time()
    work = tempfile.mkdtemp(prefix="nsbench.")
    limits = Limits()
    population = None
    undo_node = lambda: None
    results = []
    status = 0
    try:
        build_c_tools(work)
        cap = limits.prepare(max(sizes))
        # Memory: about 130 KiB per sleeper measured (MemAvailable drop with
        # 10k processes, namespaces included); plan 160 and keep 30% spare.
        mem_cap = int(mem_available_kib() * 0.7 / 160)
        if cap < max(sizes) or mem_cap < max(sizes):
            cap = min(cap, mem_cap)
            limits.notes.append(f"population capped at {cap} processes by limits/memory")
            log(f"population capped at {cap} processes")
        for n in limits.notes:
            log(n)
        if not os.path.exists(args.exporter):
            log(f"exporter not found at {args.exporter}: measuring the other tools only")
        if args.node_exporter:
            undo_node = stop_foreign_node_exporters(args.node_exporter)
        else:
            log("node_exporter not found: install prometheus-node-exporter (bench/run.sh does)")

        population = Population(os.path.join(work, "populate"), args.set_size, work)
        population.start()
        for size in sizes:
            results.append(measure_size(args, work, size, population, cap))
    except Interrupted as e:
        log(f"interrupted ({e}): cleaning up")
        status = 130
    except Exception as e:  # report, then clean up below
        log(f"error: {e}")
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if population:
            left = population.close()
            log("population removed" if left == 0 else
                f"warning: {left} population processes still alive")
        limits.restore()
        undo_node()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    if results:
        check_lines = checks(results, args)
        meta = RunInfo(
            date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            cpus=os.cpu_count(),
            cpu_model=cpu_model(),
            mem_gib=os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            kernel=platform.release(),
            exporter_version=tool_version([args.exporter, "--version"])
            if os.path.exists(args.exporter) else "not built",
            lsns_version=tool_version(["lsns", "--version"]),
            node_exporter_version=tool_version([args.node_exporter, "--version"])
            if args.node_exporter else "node_exporter missing",
            limits=limits.notes,
            wall_seconds=time.time() - started)
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        err = write_plot(results, args.png, work)
        if err:
            log(err)
        write_report(results, check_lines, args, meta, args.out, args.png)
        save_results(os.path.join(work, "results.json"), meta, results, args)
        print()
        for l in check_lines:
            print(l)
        print()
        log(f"report: {os.path.relpath(args.out, REPO)}; raw data: {work}/results.json")
        if any(l.startswith("FAIL") for l in check_lines) and status == 0:
            status = 3
    if not args.keep_work and not results:
        shutil.rmtree(work, ignore_errors=True)
    log(f"done in {time.time() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
