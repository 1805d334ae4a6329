"""The report: PASS/FAIL lines against the targets, the gnuplot figure
and docs/performance.md, all from the typed results."""

import os
import platform
import shutil
import subprocess

from .results import TOOLS

# Targets checked at the size nearest 10k processes.
TARGET_FLOOR_RATIO = 1.3
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


def checks(results, args):
    """PASS/FAIL lines for the targets at ~10k processes."""
    lines = []
    if not results:
        return ["SKIP  no results"]
    ref = min(results, key=lambda r: abs(r.target - args.concurrency_size))
    n = ref.processes
    have_exporter = ref.exporter_median == ref.exporter_median

    def line(ok, text):
        if ok is None:
            lines.append(f"SKIP  {text}")
        else:
            lines.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    noisy = [f"{r.processes}: {r.foreign_cpus:.2f}" for r in results
             if (r.foreign_cpus or 0) > 0.25]
    if noisy:
        lines.append("NOTE  other processes used CPUs during the timing (processes: CPUs): "
                     + ", ".join(noisy) + "; those figures are disturbed")
    if not have_exporter:
        line(None, "exporter binary not built: scrape targets not checked")
    else:
        r = div(ref.exporter_median, ref.floor_median)
        line(r <= TARGET_FLOOR_RATIO,
             f"scrape <= {TARGET_FLOOR_RATIO} x floor at {n} processes: "
             f"{fmt_ms(ref.exporter_median)} ms / {fmt_ms(ref.floor_median)} ms = {fmt_ratio(r)}")
        s = div(ref.lsns_median, ref.exporter_median)
        line(s >= TARGET_LSNS_SPEEDUP,
             f"scrape >= {TARGET_LSNS_SPEEDUP:g} x faster than lsns: lsns/exporter = {fmt_ratio(s)}")
        hwm = ref.exporter_vmhwm_kib
        line(hwm is not None and hwm / 1024 <= TARGET_RSS_MIB,
             f"exporter peak RSS <= {TARGET_RSS_MIB:g} MiB: VmHWM {hwm / 1024 if hwm else float('nan'):.1f} MiB")
        for key, label in (("exporter_median", "scrape wall time"),
                           ("exporter_internal_median", "collection (scrape_duration_seconds)")):
            per = [(r.processes, div(getattr(r, key), r.processes)) for r in results if r.processes]
            per = [(p, x) for p, x in per if x == x]
            if len(per) >= 2:
                lo = min(x for _, x in per)
                hi = max(x for _, x in per)
                spread = hi / lo
                detail = ", ".join(f"{p}: {x * 1e6:.2f} us" for p, x in per)
                line(spread <= TARGET_FLATNESS,
                     f"time per process flat within {int((TARGET_FLATNESS - 1) * 100)}% "
                     f"({label}): max/min = {spread:.2f} ({detail})")
            else:
                line(None, f"time per process flat ({label}): needs two sizes")
        c = ref.concurrency
        if c:
            ok = not c.failures and c.over_limit == 0
            line(ok,
                 f"{c.clients} concurrent scrapers x {c.rounds} rounds: "
                 f"{c.clients * c.rounds - len(c.failures)}/{c.clients * c.rounds} "
                 f"complete 200s; max latency {fmt_ms(c.max_latency)} ms vs limit "
                 f"{fmt_ms(c.limit)} ms (2 x single {fmt_ms(c.single_median)} ms + "
                 f"{args.margin * 1000:.0f} ms); scrape_duration_seconds "
                 f"{fmt_ms(c.scrape_duration_min)}-{fmt_ms(c.scrape_duration_max)} ms "
                 f"({c.distinct_scrape_durations} distinct values in "
                 f"{c.clients * c.rounds} bodies)")
        else:
            line(None, "concurrent scrapers: not run")
    return lines


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
set xrange [500:60000]
set grid
set key top left
set xlabel "processes on the host"
set ylabel "median wall time per run (ms)"
plot "{data}" u 1:($2*1000) w lp lw 2 pt 7 lc rgb "#9400d3" t "exporter /metrics (curl)", \\
     "{data}" u 1:($3*1000) w lp lw 2 pt 5 lc rgb "#009e73" t "floor (C, readlinkat)", \\
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
      f"processes; whole-command wall times (curl, floor and lsns each start a process)")
    for n in meta.limits:
        w(f"- limit: {n}")
    w("")
    w("## Results")
    w("")
    w("Median wall time per run in milliseconds; ratios of medians.")
    w("")
    w("| processes | namespaces | exporter | floor | lsns | node_exporter | exporter/floor | "
      "lsns/exporter | node_exporter/exporter | exporter collection (internal) | "
      "exporter VmHWM (MiB) | exporter CPU s/scrape | node_exporter CPU s/scrape |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        hwm = r.exporter_vmhwm_kib
        w(f"| {r.processes} | {r.namespaces} | {fmt_ms(r.exporter_median)} | "
          f"{fmt_ms(r.floor_median)} | {fmt_ms(r.lsns_median)} | "
          f"{fmt_ms(r.node_exporter_median)} | "
          f"{fmt_ratio(div(r.exporter_median, r.floor_median))} | "
          f"{fmt_ratio(div(r.lsns_median, r.exporter_median))} | "
          f"{fmt_ratio(div(r.node_exporter_median, r.exporter_median))} | "
          f"{fmt_ms(r.exporter_internal_median)} | "
          f"{'n/a' if hwm is None else f'{hwm / 1024:.1f}'} | "
          f"{r.exporter_cpu_per_scrape:.4f} | "
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
    w("How to read it: every time is a whole command's wall time, so the exporter's")
    w("column includes curl's start, the HTTP exchange and the serialisation of the")
    w("body, a few milliseconds that weigh most at 1k processes; \"exporter collection")
    w("(internal)\" is the exporter's own `linux_namespace_exporter_scrape_duration_seconds`.")
    w("The floor is the cheapest possible walk (eight readlinkat calls per process);")
    w("VmHWM is the exporter's peak resident set after the warm-up and the timed")
    w("scrapes at that size (a fresh exporter per size); CPU per scrape is its")
    w("utime+stime over the timed scrapes divided by their number.")
    w("")
    w("## Targets (at about 10k processes)")
    w("")
    w("```")
    for l in check_lines:
        w(l)
    w("```")
    w("")
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
