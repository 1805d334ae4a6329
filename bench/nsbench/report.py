"""The report: PASS/FAIL lines against the targets, the gnuplot figure
and docs/performance.md, all from the typed results."""

import os
import platform
import shutil
import subprocess

from .results import TOOLS

# The targets (performance issue): scrape/floor at each size, CPU per
# scrape against the floor's, two workers at the reference size, the
# largest size against it; memory; lsns; flatness.
TARGET_FLOOR_RATIO_SMALL = 1.3  # below SMALL_SIZE processes (the 1k size)
TARGET_FLOOR_RATIO = 1.15  # at 10k processes and above
SMALL_SIZE = 5000
TARGET_CPU_RATIO = 1.15
TARGET_WORKERS_WALL = 0.7  # two workers' wall time / floor
TARGET_WORKERS_CPU = 1.2  # two workers' CPU / one worker's
LARGE_SIZE = 100000
TARGET_LARGE_PER_PROCESS = 1.25  # per-process cost at LARGE_SIZE / at the reference
TARGET_LARGE_RSS_MIB = 64.0
TARGET_LSNS_SPEEDUP = 10.0
TARGET_RSS_MIB = 16.0
TARGET_FLATNESS = 1.25


def fmt_ms(s):
    return "n/a" if s != s else f"{s * 1000:.1f}"


def fmt_ratio(x):
    return "n/a" if x != x else f"{x:.2f}"


def div(a, b):
    try:
        if a != a or b != b or b == 0:
            return float("nan")
        return a / b
    except TypeError:
        return float("nan")


def variant(r, name, key="median"):
    v = r.variants.get(name)
    return float("nan") if not v or v.get(key) is None else v[key]


class Lines:
    """PASS/FAIL/SKIP/INFO lines; a NaN comparison is a SKIP."""

    def __init__(self):
        self.lines = []

    def check(self, value, limit, text, at_most=True):
        if value != value:
            self.lines.append(f"SKIP  {text}: not measured")
        else:
            ok = value <= limit if at_most else value >= limit
            self.lines.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    def skip(self, text):
        self.lines.append(f"SKIP  {text}")

    def info(self, text):
        self.lines.append(f"INFO  {text}")


def checks(results, args):
    """PASS/FAIL lines for every target, INFO lines for the figures that
    have none (holder kinds, gzip)."""
    if not results:
        return ["SKIP  no results"]
    out = Lines()
    noisy = [f"{r.processes}: {r.foreign_cpus:.2f}" for r in results
             if (r.foreign_cpus or 0) > 0.25]
    if noisy:
        out.lines.append("NOTE  other processes used CPUs during the timing (processes: CPUs): "
                         + ", ".join(noisy) + "; those figures are disturbed")
    ref = min(results, key=lambda r: abs(r.target - args.concurrency_size))
    if ref.exporter_median != ref.exporter_median:
        out.skip("exporter binary not built: scrape targets not checked")
        return out.lines
    floor_and_cpu_checks(results, out)
    workers_checks(ref, out)
    large_checks(results, ref, out)
    holder_lines(ref, out)
    gzip_lines(results, out)
    other_checks(results, ref, args, out)
    return out.lines


def floor_and_cpu_checks(results, out):
    for r in results:
        limit = TARGET_FLOOR_RATIO_SMALL if r.target < SMALL_SIZE else TARGET_FLOOR_RATIO
        x = div(r.exporter_median, r.floor_median)
        out.check(x, limit, f"scrape <= {limit} x floor at {r.processes} processes: "
                  f"{fmt_ms(r.exporter_median)} ms / {fmt_ms(r.floor_median)} ms = {fmt_ratio(x)}")
    for r in results:
        x = div(r.exporter_cpu_per_scrape, r.floor_cpu_per_scrape)
        out.check(x, TARGET_CPU_RATIO,
                  f"CPU per scrape <= {TARGET_CPU_RATIO} x the floor's at {r.processes} "
                  f"processes: {fmt_ms(r.exporter_cpu_per_scrape)} ms / "
                  f"{fmt_ms(r.floor_cpu_per_scrape)} ms = {fmt_ratio(x)}")


def workers_checks(ref, out):
    w2 = variant(ref, "workers2")
    x = div(w2, ref.floor_median)
    out.check(x, TARGET_WORKERS_WALL,
              f"workers=2 wall <= {TARGET_WORKERS_WALL} x floor at {ref.processes} processes: "
              f"{fmt_ms(w2)} ms / {fmt_ms(ref.floor_median)} ms = {fmt_ratio(x)}")
    c2 = variant(ref, "workers2", "cpu_per_scrape")
    x = div(c2, ref.exporter_cpu_per_scrape)
    out.check(x, TARGET_WORKERS_CPU,
              f"workers=2 CPU per scrape <= {TARGET_WORKERS_CPU} x one worker's at "
              f"{ref.processes} processes: {fmt_ms(c2)} ms / "
              f"{fmt_ms(ref.exporter_cpu_per_scrape)} ms = {fmt_ratio(x)}")


def large_checks(results, ref, out):
    large = [r for r in results if r.target >= LARGE_SIZE]
    if not large:
        out.skip(f"{LARGE_SIZE} processes: not in --sizes")
        return
    big = large[-1]
    x = div(div(big.exporter_median, big.processes), div(ref.exporter_median, ref.processes))
    out.check(x, TARGET_LARGE_PER_PROCESS,
              f"cost per process at {big.processes} processes <= {TARGET_LARGE_PER_PROCESS} x "
              f"at {ref.processes}: {div(big.exporter_median, big.processes) * 1e6:.2f} us / "
              f"{div(ref.exporter_median, ref.processes) * 1e6:.2f} us = {fmt_ratio(x)}")
    hwm = big.exporter_vmhwm_kib
    mib = hwm / 1024 if hwm else float("nan")
    out.check(mib, TARGET_LARGE_RSS_MIB,
              f"peak RSS at {big.processes} processes <= {TARGET_LARGE_RSS_MIB:g} MiB: "
              f"VmHWM {mib:.1f} MiB")
    out.info(f"body at {big.processes} processes: {big.exporter_bytes} bytes, "
             f"{big.exporter_gzip_bytes} bytes gzipped")


def holder_lines(ref, out):
    base = variant(ref, "holders_none")
    base_cpu = variant(ref, "holders_none", "cpu_per_scrape")
    if base != base:
        out.skip("holder kinds: not measured at the reference size")
        return
    for kind in ("bind_mounts", "fds", "for_children", "threads", "containers"):
        w = variant(ref, f"holder_{kind}")
        c = variant(ref, f"holder_{kind}", "cpu_per_scrape")
        out.info(f"holder {kind} at {ref.processes} processes: wall {fmt_ms(w)} ms / base "
                 f"{fmt_ms(base)} ms = {fmt_ratio(div(w, base))}; CPU "
                 f"{fmt_ratio(div(c, base_cpu))} x base")


def gzip_lines(results, out):
    for r in results:
        gz, gz_cpu = variant(r, "exporter_gzip"), variant(r, "exporter_gzip", "cpu_per_scrape")
        if gz != gz:
            continue
        out.info(f"gzip at {r.processes} processes: {r.exporter_gzip_bytes} bytes vs "
                 f"{r.exporter_bytes} ({fmt_ratio(div(r.exporter_gzip_bytes, r.exporter_bytes))}); "
                 f"wall {fmt_ms(gz)} ms vs {fmt_ms(r.exporter_median)} ms "
                 f"({fmt_ratio(div(gz, r.exporter_median))}); CPU {fmt_ms(gz_cpu)} ms vs "
                 f"{fmt_ms(r.exporter_cpu_per_scrape)} ms, compression "
                 f"{fmt_ms(gz_cpu - r.exporter_cpu_per_scrape)} ms per scrape")


def other_checks(results, ref, args, out):
    n = ref.processes
    s = div(ref.lsns_median, ref.exporter_median)
    out.check(s, TARGET_LSNS_SPEEDUP,
              f"scrape >= {TARGET_LSNS_SPEEDUP:g} x faster than lsns at {n} processes: "
              f"lsns/exporter = {fmt_ratio(s)}", at_most=False)
    hwm = ref.exporter_vmhwm_kib
    mib = hwm / 1024 if hwm else float("nan")
    out.check(mib, TARGET_RSS_MIB,
              f"exporter peak RSS <= {TARGET_RSS_MIB:g} MiB at {n} processes: VmHWM {mib:.1f} MiB")
    for key, label in (("exporter_median", "scrape wall time"),
                       ("exporter_internal_median", "collection (scrape_duration_seconds)")):
        per = [(r.processes, div(getattr(r, key), r.processes)) for r in results if r.processes]
        per = [(p, x) for p, x in per if x == x]
        if len(per) < 2:
            out.skip(f"time per process flat ({label}): needs two sizes")
            continue
        spread = max(x for _, x in per) / min(x for _, x in per)
        detail = ", ".join(f"{p}: {x * 1e6:.2f} us" for p, x in per)
        out.check(spread, TARGET_FLATNESS,
                  f"time per process flat within {int((TARGET_FLATNESS - 1) * 100)}% "
                  f"({label}): max/min = {spread:.2f} ({detail})")
    c = ref.concurrency
    if not c:
        out.skip("concurrent scrapers: not run")
        return
    ok = not c.failures and c.over_limit == 0
    out.lines.append(
        f"{'PASS' if ok else 'FAIL'}  {c.clients} concurrent scrapers x {c.rounds} rounds: "
        f"{c.clients * c.rounds - len(c.failures)}/{c.clients * c.rounds} "
        f"complete 200s; max latency {fmt_ms(c.max_latency)} ms vs limit "
        f"{fmt_ms(c.limit)} ms (2 x single {fmt_ms(c.single_median)} ms + "
        f"{args.margin * 1000:.0f} ms); scrape_duration_seconds "
        f"{fmt_ms(c.scrape_duration_min)}-{fmt_ms(c.scrape_duration_max)} ms "
        f"({c.distinct_scrape_durations} distinct values in "
        f"{c.clients * c.rounds} bodies)")


def write_plot(results, png, work):
    """Draws the results into png with gnuplot (data file in work); returns
    None, or why there is no plot."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return "gnuplot not found: no plot"
    data = os.path.join(work, "plot.dat")
    with open(data, "w") as f:
        f.write("# processes exporter floor lsns node_exporter (seconds)\n")
        for r in results:
            vals = [r.median(t) for t in TOOLS]
            f.write(f"{r.processes} " + " ".join(
                "NaN" if v != v else f"{v:.6f}" for v in vals) + "\n")
    script = f"""
set terminal pngcairo noenhanced size 1100,480 font ",10"
set output "{png}"
set datafile missing "NaN"
set multiplot layout 1,2 title "linux_namespace_exporter vs floor, lsns, node_exporter ({os.cpu_count()} CPUs, kernel {platform.release()})"
set logscale xy
set xrange [500:200000]
set grid
set key top left
set xlabel "processes on the host"
set ylabel "median wall time per run (ms)"
plot "{data}" u 1:($2*1000) w lp lw 2 pt 7 lc rgb "#9400d3" t "exporter /metrics (HTTP, kept-alive connection)", \\
     "{data}" u 1:($3*1000) w lp lw 2 pt 5 lc rgb "#009e73" t "floor (C, readlinkat, one process)", \\
     "{data}" u 1:($4*1000) w lp lw 2 pt 9 lc rgb "#56b4e9" t "lsns", \\
     "{data}" u 1:($5*1000) w lp lw 2 pt 11 lc rgb "#e69f00" t "node_exporter processes"
unset logscale y
set logscale x
set yrange [0:*]
set key bottom right
set ylabel "microseconds per process"
set title "time per process (lsns is off this scale)"
plot "{data}" u 1:($2*1e6/$1) w lp lw 2 pt 7 lc rgb "#9400d3" t "exporter", \\
     "{data}" u 1:($3*1e6/$1) w lp lw 2 pt 5 lc rgb "#009e73" t "floor", \\
     "{data}" u 1:($5*1e6/$1) w lp lw 2 pt 11 lc rgb "#e69f00" t "node_exporter"
unset multiplot
"""
    r = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        return f"gnuplot failed: {r.stderr.strip()[:300]}"
    return None


KEPT_HEADING = "## Without NS_GET_ID"

METHOD = [
    "How to read it: the exporters, node_exporter and the floor are each one process",
    "that stays up for the whole size, asked for one result at a time and timed by the",
    "driver from the request to the last byte of the answer: the servers by an HTTP",
    "GET on one kept-alive connection each, as Prometheus scrapes a target, the floor",
    "(`floor --stdin`) by a line on its stdin, answered with one walk. So neither side",
    "pays a process start (curl's start cost about as much as the whole walk at 1k",
    "processes and weighed on the exporter's side only), both pay one round trip",
    "(loopback TCP against a pipe), and the exporter's column holds what a scrape",
    "costs it: the walk, the per-scrape reads, the serialisation and the HTTP",
    "exchange. lsns is a whole command. \"exporter collection (internal)\" is the",
    "exporter's own `linux_namespace_exporter_scrape_duration_seconds`. The floor is",
    "the cheapest walk (eight readlinkat calls per process, nothing else); CPU per",
    "scrape is utime+stime of each process over the timed rounds divided by their",
    "number, for the floor and the exporters alike. VmHWM is the exporter's peak",
    "resident set after the warm-up and the timed scrapes at that size (fresh",
    "processes per size). A cached namespace is taken from the cache when a member",
    "process that vouched for it at the previous scrape is still the same process",
    "(same PID and the same /proc/PID inode) and still reads the same inode; only",
    "namespaces without such a witness are opened and asked NS_GET_ID again",
    "(`collection.verify_namespace_ids: true` opens every one, every scrape).",
]


def variant_table(results, w):
    """Every exporter measured beside the default one: gzip, two workers, and
    each holder kind over a base walk with all of them off."""
    names = {"exporter": "defaults", "exporter_gzip": "defaults, Accept-Encoding: gzip",
             "workers2": "workers: 2", "holders_none": "base walk: every holder and "
             "containers off"}
    w("## Exporter variants")
    w("")
    w("Each a process of its own, scraped in the same interleaved rounds. Holder rows:")
    w("the base walk with that one switch on; ratios against the base walk.")
    w("")
    w("| processes | variant | median (ms) | / floor | / base walk | CPU s/scrape | "
      "bytes on the wire | VmHWM (MiB) |")
    w("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        base = variant(r, "holders_none")
        for name, v in r.variants.items():
            label = names.get(name, name.replace("holder_", "holder: ") + " on")
            hwm = v.get("vmhwm_kib")
            w(f"| {r.processes} | {label} | {fmt_ms(v['median'])} | "
              f"{fmt_ratio(div(v['median'], r.floor_median))} | "
              f"{fmt_ratio(div(v['median'], base))} | {v['cpu_per_scrape']:.4f} | "
              f"{v['bytes']} | {'n/a' if not hwm else f'{hwm / 1024:.1f}'} |")
    w("")


def write_report(results, check_lines, args, meta, md_path, png_path):
    """Writes the markdown report of the results (args: the run's options,
    meta: its RunInfo) to md_path, linking png_path if it exists."""
    lines = []
    w = lines.append
    w("# Performance")
    w("")
    w("Measured by `sudo bench/run.sh` (see `bench/README.md`), which makes its own")
    w("population of namespaced processes, times each tool round-robin and removes")
    w("the population afterwards. Regenerate this page by running it again.")
    w("")
    w(f"- date: {meta.date}")
    w(f"- machine: {meta.cpus} CPUs ({meta.cpu_model}), {meta.mem_gib:.0f} GiB, "
      f"kernel {meta.kernel}")
    w(f"- tools: exporter `{meta.exporter_version}`, {meta.lsns_version}, "
      f"{meta.node_exporter_version}")
    w(f"- repetitions: {args.reps} per tool and size, interleaved; sets of {args.set_size} "
      f"processes; the servers and the floor timed per request on a process that stays "
      f"up, lsns as a whole command")
    for n in meta.limits:
        w(f"- limit: {n}")
    w("")
    w("## Results")
    w("")
    w("Median wall time per run in milliseconds; ratios of medians.")
    w("")
    w("| processes | namespaces | exporter | floor | lsns | node_exporter | exporter/floor | "
      "lsns/exporter | node_exporter/exporter | exporter collection (internal) | "
      "exporter VmHWM (MiB) | exporter CPU s/scrape | floor CPU s/walk | "
      "node_exporter CPU s/scrape |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
      "---: | ---: |")
    for r in results:
        hwm = r.exporter_vmhwm_kib
        # lsns counts the namespaces; where it did not run there is no count.
        ns = r.namespaces if r.lsns_samples else "n/a"
        w(f"| {r.processes} | {ns} | {fmt_ms(r.exporter_median)} | "
          f"{fmt_ms(r.floor_median)} | {fmt_ms(r.lsns_median)} | "
          f"{fmt_ms(r.node_exporter_median)} | "
          f"{fmt_ratio(div(r.exporter_median, r.floor_median))} | "
          f"{fmt_ratio(div(r.lsns_median, r.exporter_median))} | "
          f"{fmt_ratio(div(r.node_exporter_median, r.exporter_median))} | "
          f"{fmt_ms(r.exporter_internal_median)} | "
          f"{'n/a' if hwm is None else f'{hwm / 1024:.1f}'} | "
          f"{r.exporter_cpu_per_scrape:.4f} | {r.floor_cpu_per_scrape:.4f} | "
          f"{r.node_exporter_cpu_per_scrape:.4f} |")
    fewer = [f"{r.processes} ({r.lsns_runs})" for r in results
             if r.lsns_runs < args.reps]
    if fewer:
        w("")
        w(f"lsns ran in fewer rounds where one run was long (processes (runs)): "
          f"{', '.join(fewer)}.")
    w("")
    w("Time per process (median wall time / processes), microseconds:")
    w("")
    w("| processes | exporter | floor | lsns | node_exporter |")
    w("| ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        cells = []
        for t in TOOLS:
            x = div(r.median(t), r.processes)
            cells.append("n/a" if x != x else f"{x * 1e6:.2f}")
        w(f"| {r.processes} | " + " | ".join(cells) + " |")
    w("")
    if os.path.exists(png_path):
        w(f"![benchmark plot]({os.path.basename(png_path)})")
        w("")
    for l in METHOD:
        w(l)
    w("")
    w("## Targets")
    w("")
    w("```")
    for l in check_lines:
        w(l)
    w("```")
    w("")
    variant_table(results, w)
    conc = [r.concurrency for r in results if r.concurrency]
    if conc:
        c = conc[0]
        w("## Concurrent scrapes")
        w("")
        w(f"{c.clients} curl clients started at once, {c.rounds} rounds; latency is curl's "
          f"`time_total`, limit = 2 x single-scrape median + {args.margin * 1000:.0f} ms.")
        w("")
        w("| round | latencies (ms) | scrape_duration_seconds in the bodies (ms) |")
        w("| ---: | --- | --- |")
        for i, rnd in enumerate(c.detail):
            lat = ", ".join(fmt_ms(x.curl_total) for x in rnd)
            sd = ", ".join(fmt_ms(x.scrape_duration) if x.scrape_duration is not None
                           else "n/a" for x in rnd)
            w(f"| {i + 1} | {lat} | {sd} |")
        w("")
        w(f"Exporter CPU during the concurrent rounds: {c.cpu_seconds_total:.3f} s for "
          f"{c.clients * c.rounds} scrapes.")
        w("")
    errs = [(r.processes, e) for r in results for e in r.errors]
    if errs:
        w("## Errors seen")
        w("")
        for p, e in errs:
            w(f"- {p} processes: {e}")
        w("")
    w("## Population")
    w("")
    w("| target | processes made | sets | seconds to make | load average before / after | "
      "other CPU use during the timed rounds (CPUs) |")
    w("| ---: | ---: | ---: | ---: | --- | ---: |")
    for r in results:
        fc = r.foreign_cpus
        w(f"| {r.target} | {r.populated} | {r.sets} | {r.populate_seconds:.1f} | "
          f"{r.load_before} / {r.load_after} | "
          f"{'n/a' if fc is None else f'{fc:.2f}'} |")
    w("")
    w("\"Other CPU use\" is the machine's busy time (/proc/stat) minus the CPU time of")
    w("the measured tools and the driver, per second of the timed rounds. Above about")
    w("0.25 something else competed for the CPUs: rerun on a quiet machine before")
    w("trusting the ratios at that size.")
    w("")
    w(f"Whole run: {meta.wall_seconds:.0f} s.")
    w("")
    # Sections measured by hand, from KEPT_HEADING on, survive a rerun.
    kept = ""
    try:
        with open(md_path) as f:
            old = f.read()
        if KEPT_HEADING in old:
            kept = old[old.index(KEPT_HEADING):]
    except OSError:
        pass
    with open(md_path, "w") as f:
        f.write("\n".join(lines))
        if kept:
            f.write("\n" + kept)
