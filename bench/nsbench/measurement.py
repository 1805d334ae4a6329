"""One size measured: the tools timed round-robin, CPU and memory of the
scrape targets, and the concurrent scrapes, into typed results."""

import os
import re
import statistics
import subprocess
import time

import nsexp_harness

from .results import NAN, TOOLS, ConcurrencyResult, ScrapeTiming, SizeResult
from .system import (cpu_busy_seconds, count_processes, log, own_cpu_seconds, proc_cpu_seconds,
                     proc_status_kib, wait_for_quiet)
from .tools import body_complete, curl, exporter_self_metrics, run_command, start_server


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else NAN


def measure_size(args, work, size, population, limits_cap):
    """Grows the population to `size` processes on the host (at most
    limits_cap) and measures every tool there; returns the SizeResult."""
    row = SizeResult(target=size)
    baseline = count_processes()
    want = min(size, limits_cap)
    pop_target = max(0, want - (baseline - population.created))
    t0 = time.perf_counter()
    row.populated, row.sets, row.populate_failed = population.grow(pop_target)
    row.populate_seconds = time.perf_counter() - t0
    if row.populate_failed:
        log(f"populate: {row.populate_failed} processes could not be made; "
            f"population capped at {row.populated}")
    time.sleep(args.settle)
    log(f"size {size}: {count_processes()} processes on the host "
        f"({row.populated} made in {row.sets} sets, {row.populate_seconds:.1f} s)")

    floor_bin = os.path.join(work, "floor")
    start_errors = []
    servers = {}
    if os.path.exists(args.exporter):
        port = nsexp_harness.free_port()
        servers["exporter"] = [args.exporter, f"--web.listen-address=127.0.0.1:{port}"], port
    if args.node_exporter:
        port = nsexp_harness.free_port()
        servers["node_exporter"] = [
            args.node_exporter, "--collector.disable-defaults", "--collector.processes",
            f"--web.listen-address=127.0.0.1:{port}"], port
    started = {}
    for name, (argv, port) in servers.items():
        started[name], err = start_server(name, argv, port,
                                          os.path.join(work, f"{name}.{size}.log"))
        if err:
            start_errors.append(err)
    exporter, node = started.get("exporter"), started.get("node_exporter")
    row.load_before = open("/proc/loadavg").read().split()[0]
    quiet = wait_for_quiet(args.quiet_wait)
    if quiet >= 0.25:
        log(f"warning: the machine is busy ({quiet:.2f} CPUs used by others) after "
            f"waiting {args.quiet_wait:.0f} s; measuring anyway")

    body_path = os.path.join(work, "body.txt")
    try:
        # Warm-up: the exporter's first scrape fills its namespace cache.
        for server in (exporter, node):
            if server:
                for _ in range(2):
                    curl(server.url(), body_path)
        run_command([floor_bin])
        lsns_once, lsns_r = run_command(["lsns", "-o", "NS,TYPE,NPROCS,PNS,ONS"])
        # lsns grows faster than linearly (about 12 s at 10k processes here):
        # at large sizes run it in fewer rounds, spread evenly over the R.
        lsns_reps = max(1, min(args.reps, int(args.lsns_budget / max(lsns_once, 1e-3))))
        lsns_rounds = {round(i * args.reps / lsns_reps) for i in range(lsns_reps)}
        samples = {t: [] for t in TOOLS}
        if lsns_once > args.lsns_budget:
            # One run longer than the whole budget: keep the warm-up's time.
            lsns_rounds = set()
            samples["lsns"].append(lsns_once)
        row.lsns_runs = len(samples["lsns"]) + len(lsns_rounds)

        extra = {"exporter_curl_total": [], "exporter_internal": [], "processes": [],
                 "namespaces": [max(0, len(lsns_r.stdout.splitlines()) - 1)],
                 "exporter_bytes": [], "node_curl_total": []}
        cpu0 = {}
        for server in (exporter, node):
            if server:
                cpu0[server.name] = proc_cpu_seconds(server.proc.pid)
        busy0, own0, t_start = cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter()
        errors = []
        for rep in range(args.reps):
            # Round-robin, starting one tool later each round, so drift and
            # cache effects hit every tool alike.
            order = TOOLS[rep % len(TOOLS):] + TOOLS[:rep % len(TOOLS)]
            for tool in order:
                if tool == "exporter" and exporter:
                    wall, code, nbytes, total = curl(exporter.url(), body_path)
                    with open(body_path, errors="replace") as f:
                        body = f.read()
                    if code != 200 or not body_complete(body, 0):
                        errors.append(f"exporter scrape: HTTP {code}, {nbytes} bytes")
                    m = exporter_self_metrics(body)
                    samples["exporter"].append(wall)
                    extra["exporter_curl_total"].append(total)
                    extra["exporter_internal"].append(m.get("scrape_duration_seconds", NAN))
                    extra["exporter_bytes"].append(nbytes)
                elif tool == "node_exporter" and node:
                    wall, code, nbytes, total = curl(node.url(), body_path)
                    if code != 200:
                        errors.append(f"node_exporter scrape: HTTP {code}")
                    samples["node_exporter"].append(wall)
                    extra["node_curl_total"].append(total)
                elif tool == "floor":
                    wall, r = run_command([floor_bin])
                    m = re.search(r"processes=(\d+)", r.stdout)
                    if m:
                        extra["processes"].append(int(m.group(1)))
                    samples["floor"].append(wall)
                elif tool == "lsns" and rep in lsns_rounds:
                    wall, r = run_command(["lsns", "-o", "NS,TYPE,NPROCS,PNS,ONS"])
                    if r.returncode != 0:
                        errors.append(f"lsns exit {r.returncode}: {r.stderr.strip()[:200]}")
                    extra["namespaces"].append(max(0, len(r.stdout.splitlines()) - 1))
                    samples["lsns"].append(wall)
        busy = cpu_busy_seconds() - busy0
        ours = own_cpu_seconds() - own0
        elapsed = time.perf_counter() - t_start
        for server in (exporter, node):
            if server:
                cpu = proc_cpu_seconds(server.proc.pid) - cpu0[server.name]
                ours += cpu
                if server is exporter:
                    row.exporter_cpu_per_scrape = cpu / args.reps
                else:
                    row.node_exporter_cpu_per_scrape = cpu / args.reps
        # CPU used by anything but the measured tools while they ran, in
        # cores: the noise floor of this size's figures.
        row.foreign_cpus = max(0.0, (busy - ours) / elapsed) if elapsed > 0 else 0.0
        if row.foreign_cpus > 0.25:
            log(f"warning: other processes used {row.foreign_cpus:.2f} CPUs on average "
                f"during the measurement: the figures at this size are disturbed")
        if exporter:
            row.exporter_vmhwm_kib = proc_status_kib(exporter.proc.pid, "VmHWM")
            row.exporter_vmrss_kib = proc_status_kib(exporter.proc.pid, "VmRSS")

        for t in TOOLS:
            row.set_samples(t, samples[t], median(samples[t]))
        row.exporter_curl_total_median = median(extra["exporter_curl_total"])
        row.exporter_internal_median = median(extra["exporter_internal"])
        row.exporter_bytes = int(median(extra["exporter_bytes"])) if extra["exporter_bytes"] else 0
        row.processes = int(median(extra["processes"])) if extra["processes"] else 0
        row.namespaces = int(median(extra["namespaces"])) if extra["namespaces"] else 0
        row.errors = (start_errors + errors)[:20]
        row.load_after = open("/proc/loadavg").read().split()[0]
        log(f"size {size}: " + ", ".join(
            f"{t} {row.median(t) * 1000:.1f} ms" for t in TOOLS if samples[t]))

        if exporter and size == args.concurrency_size:
            row.concurrency = measure_concurrency(args, work, exporter, row)
    finally:
        for server in (exporter, node):
            if server:
                server.stop()
    return row


def measure_concurrency(args, work, exporter, row):
    """args.rounds rounds of args.concurrency curl clients started at once
    against the exporter, judged against row's single-scrape figures."""
    single = row.exporter_median
    ref_size = row.exporter_bytes
    limit = 2 * single + args.margin
    walls, internals, failures = [], [], []
    rounds = []
    cpu0 = proc_cpu_seconds(exporter.proc.pid)
    for rnd in range(args.rounds):
        procs = []
        t0 = time.perf_counter()
        for i in range(args.concurrency):
            path = os.path.join(work, f"conc.{i}.txt")
            p = subprocess.Popen(
                ["curl", "-sS", "-o", path, "-w", "%{http_code} %{size_download} %{time_total}",
                 "--max-time", "300", exporter.url()],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append((p, path))
        this_round = []
        for p, path in procs:
            out, err = p.communicate()
            wall = time.perf_counter() - t0
            parts = out.split()
            code = int(parts[0]) if parts else 0
            total = float(parts[2]) if len(parts) > 2 else NAN
            try:
                with open(path, errors="replace") as f:
                    body = f.read()
            except OSError:
                body = ""
            m = exporter_self_metrics(body)
            ok = code == 200 and body_complete(body, ref_size)
            if not ok:
                failures.append(f"round {rnd}: HTTP {code}, {len(body)} bytes {err.strip()[:100]}")
            walls.append(total)
            internals.append(m.get("scrape_duration_seconds", NAN))
            this_round.append(ScrapeTiming(code=code, curl_total=total, wall=wall,
                                           scrape_duration=m.get("scrape_duration_seconds")))
        rounds.append(this_round)
    cpu = proc_cpu_seconds(exporter.proc.pid) - cpu0
    good_walls = [w for w in walls if w == w]
    return ConcurrencyResult(
        clients=args.concurrency,
        rounds=args.rounds,
        single_median=single,
        limit=limit,
        max_latency=max(good_walls) if good_walls else NAN,
        median_latency=median(good_walls),
        over_limit=sum(1 for w in good_walls if w > limit),
        failures=failures,
        scrape_duration_min=min((x for x in internals if x == x), default=NAN),
        scrape_duration_max=max((x for x in internals if x == x), default=NAN),
        distinct_scrape_durations=len({x for x in internals if x == x}),
        cpu_seconds_total=cpu,
        detail=rounds)
