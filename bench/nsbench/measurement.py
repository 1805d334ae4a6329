"""One size measured: the tools timed round-robin, CPU and memory of the
scrape targets, and the concurrent scrapes, into typed results.

Every tool that can stay up is measured the same way: a persistent process
asked for one result at a time, timed by this driver from the request to
the last byte of the answer. The exporters and node_exporter get an HTTP
request on one kept-alive connection each (as a Prometheus server scrapes
them); the floor gets a line on its stdin (floor --stdin) and answers with
one walk. Neither side pays a process start per sample. lsns has no such
mode: it is timed as a whole command."""

import os
import re
import statistics
import subprocess
import time

import nsexp_harness

from .results import NAN, TOOLS, ConcurrencyResult, ScrapeTiming, SizeResult
from .system import (cpu_busy_seconds, count_processes, log, own_cpu_seconds, proc_cpu_seconds,
                     proc_status_kib, wait_for_quiet)
from .tools import (FloorProcess, HttpScraper, body_complete, exporter_self_metrics, run_command,
                    start_server)


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else NAN


# The holder switches of the exporter's configuration (README, "collection:"),
# each measured on its own over a base walk with all of them off.
HOLDER_KINDS = ("bind_mounts", "fds", "for_children", "threads", "containers")


def exporter_variants(size, args):
    """name -> (collection settings, gzip): the exporters measured at this
    size beside each other. "exporter" runs with the defaults; the workers
    and holder variants only at the reference size (args.concurrency_size)."""
    variants = {"exporter": ({}, False), "exporter_gzip": ({}, True)}
    if size == args.concurrency_size:
        variants["workers2"] = ({"workers": 2}, False)
        base = {k: False for k in HOLDER_KINDS}
        variants["holders_none"] = (base, False)
        for kind in HOLDER_KINDS:
            variants[f"holder_{kind}"] = (dict(base, **{kind: True}), False)
    return variants


def write_config(path, settings):
    """A configuration file with these collection settings."""
    with open(path, "w") as f:
        f.write("collection:\n")
        for k, v in settings.items():
            value = ("true" if v else "false") if isinstance(v, bool) else v
            f.write(f"  {k}: {value}\n")


def start_targets(args, work, size):
    """Starts every exporter variant and node_exporter; returns
    ({name: (server, gzip)}, start errors)."""
    targets, errors = {}, []
    if os.path.exists(args.exporter):
        for name, (settings, gz) in exporter_variants(size, args).items():
            argv = [args.exporter]
            if settings:
                cfg = os.path.join(work, f"{name}.yml")
                write_config(cfg, settings)
                argv.append(f"--config.file={cfg}")
            port = nsexp_harness.free_port()
            argv.append(f"--web.listen-address=127.0.0.1:{port}")
            server, err = start_server(name, argv, port, os.path.join(work, f"{name}.{size}.log"))
            if err:
                errors.append(err)
            else:
                targets[name] = (server, gz)
    if args.node_exporter:
        port = nsexp_harness.free_port()
        argv = [args.node_exporter, "--collector.disable-defaults", "--collector.processes",
                f"--web.listen-address=127.0.0.1:{port}"]
        server, err = start_server("node_exporter", argv, port,
                                   os.path.join(work, f"node_exporter.{size}.log"))
        if err:
            errors.append(err)
        else:
            targets["node_exporter"] = (server, False)
    return targets, errors


def populate(args, size, population, limits_cap, row):
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


def measure_size(args, work, size, population, limits_cap):
    """Grows the population to `size` processes on the host (at most
    limits_cap) and measures every tool there, interleaved; returns the
    SizeResult."""
    row = SizeResult(target=size)
    populate(args, size, population, limits_cap, row)
    targets, start_errors = start_targets(args, work, size)
    floor = FloorProcess(os.path.join(work, "floor"), args.floor_args.split())
    row.load_before = open("/proc/loadavg").read().split()[0]
    quiet = wait_for_quiet(args.quiet_wait)
    if quiet >= 0.25:
        log(f"warning: the machine is busy ({quiet:.2f} CPUs used by others) after "
            f"waiting {args.quiet_wait:.0f} s; measuring anyway")
    try:
        timed_rounds(args, size, targets, floor, row)
        row.errors = (start_errors + row.errors)[:20]
        exporter = targets.get("exporter", (None, False))[0]
        if exporter and size == args.concurrency_size:
            row.concurrency = measure_concurrency(args, work, exporter, row)
    finally:
        floor.close()
        for server, _ in targets.values():
            server.stop()
    return row


def timed_rounds(args, size, targets, floor, row):
    """Warm-up, then args.reps rounds over every tool, starting each round
    one tool later; fills row."""
    scrapers = {name: HttpScraper(server.port, gzip=gz) for name, (server, gz) in targets.items()}
    for name, scraper in scrapers.items():
        for _ in range(2):  # the exporter's first scrape fills its namespace cache
            scraper.scrape()
    floor.walk()
    run_lsns = size <= args.lsns_max_size
    lsns_rounds, samples, namespaces = set(), {"lsns": []}, []
    if run_lsns:
        lsns_once, lsns_r = run_command(["lsns", "-o", "NS,TYPE,NPROCS,PNS,ONS"])
        namespaces.append(max(0, len(lsns_r.stdout.splitlines()) - 1))
        # lsns grows faster than linearly: at large sizes run it in fewer
        # rounds, spread evenly over the R.
        lsns_reps = max(1, min(args.reps, int(args.lsns_budget / max(lsns_once, 1e-3))))
        lsns_rounds = {round(i * args.reps / lsns_reps) for i in range(lsns_reps)}
        if lsns_once > args.lsns_budget:
            lsns_rounds = set()
            samples["lsns"].append(lsns_once)
    tools = ["floor", "lsns"] + list(scrapers)
    for t in tools:
        samples.setdefault(t, [])
    internal, processes, nbytes, errors = [], [], {}, []
    pids = {name: server.proc.pid for name, (server, _) in targets.items()}
    pids["floor"] = floor.proc.pid
    cpu0 = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
    busy0, own0, t_start = cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter()
    for rep in range(args.reps):
        order = tools[rep % len(tools):] + tools[:rep % len(tools)]
        for tool in order:
            if tool == "floor":
                wall, line = floor.walk()
                m = re.search(r"processes=(\d+)", line)
                if m:
                    processes.append(int(m.group(1)))
                samples["floor"].append(wall)
            elif tool == "lsns":
                if rep not in lsns_rounds:
                    continue
                wall, r = run_command(["lsns", "-o", "NS,TYPE,NPROCS,PNS,ONS"])
                if r.returncode != 0:
                    errors.append(f"lsns exit {r.returncode}: {r.stderr.strip()[:200]}")
                namespaces.append(max(0, len(r.stdout.splitlines()) - 1))
                samples["lsns"].append(wall)
            else:
                wall, code, size_on_wire, body = scrapers[tool].scrape()
                if code != 200 or (tool != "node_exporter" and not body_complete(body, 0)):
                    errors.append(f"{tool} scrape: HTTP {code}, {size_on_wire} bytes")
                if tool == "exporter":
                    internal.append(exporter_self_metrics(body).get("scrape_duration_seconds", NAN))
                nbytes.setdefault(tool, []).append(size_on_wire)
                samples[tool].append(wall)
    busy = cpu_busy_seconds() - busy0
    ours = own_cpu_seconds() - own0
    elapsed = time.perf_counter() - t_start
    cpu = {name: proc_cpu_seconds(pid) - cpu0[name] for name, pid in pids.items()}
    ours += sum(cpu.values())
    for scraper in scrapers.values():
        scraper.close()
    # CPU used by anything but the measured tools while they ran, in cores:
    # the noise floor of this size's figures.
    row.foreign_cpus = max(0.0, (busy - ours) / elapsed) if elapsed > 0 else 0.0
    if row.foreign_cpus > 0.25:
        log(f"warning: other processes used {row.foreign_cpus:.2f} CPUs on average "
            f"during the measurement: the figures at this size are disturbed")
    record(args, row, targets, samples, cpu, nbytes, internal, processes, namespaces, errors)


def record(args, row, targets, samples, cpu, nbytes, internal, processes, namespaces, errors):
    """Medians, CPU per scrape, sizes and memory of one size into row."""
    for t in TOOLS:
        row.set_samples(t, samples.get(t, []), median(samples.get(t, [])))
    row.floor_cpu_per_scrape = cpu["floor"] / args.reps
    for name, (server, _) in targets.items():
        per = cpu[name] / args.reps
        if name == "node_exporter":
            row.node_exporter_cpu_per_scrape = per
            continue
        row.variants[name] = {
            "median": median(samples[name]), "samples": samples[name],
            "cpu_per_scrape": per,
            "bytes": int(median(nbytes.get(name, []))) if nbytes.get(name) else 0,
            "vmhwm_kib": proc_status_kib(server.proc.pid, "VmHWM")}
        if name == "exporter":
            row.exporter_cpu_per_scrape = per
            row.exporter_vmhwm_kib = proc_status_kib(server.proc.pid, "VmHWM")
            row.exporter_vmrss_kib = proc_status_kib(server.proc.pid, "VmRSS")
    row.exporter_internal_median = median(internal)
    row.exporter_bytes = row.variants.get("exporter", {}).get("bytes", 0)
    row.exporter_gzip_bytes = row.variants.get("exporter_gzip", {}).get("bytes", 0)
    row.processes = int(median(processes)) if processes else 0
    row.namespaces = int(median(namespaces)) if namespaces else 0
    row.errors = errors[:20]
    row.load_after = open("/proc/loadavg").read().split()[0]
    log(f"size {row.target}: " + ", ".join(
        f"{t} {median(samples[t]) * 1000:.1f} ms" for t in samples if samples[t]))


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
