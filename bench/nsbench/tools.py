"""The tools measured and how each is run: the C programs built from
bench/, the scrape targets (the exporter, node_exporter) as servers of the
common test harness, curl, lsns, and what their output says."""

import gzip as gzip_module
import http.client
import os
import platform
import re
import shutil
import subprocess
import time

import nsexp_harness

from .system import die_with_parent, log

NAN_ = float("nan")
BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_server(name, argv, port, log_path):
    """A scrape target serving on 127.0.0.1:port; (server, None), or
    (None, message) when it did not start."""
    server = nsexp_harness.Server(argv, port, name=name, log_path=log_path,
                                  preexec=die_with_parent, start_timeout=20)
    try:
        return server.start(), None
    except RuntimeError:
        tail = server.log().strip().splitlines()[-1:]
        msg = f"{name} did not start" + (f" ({tail[0][:200]})" if tail else "")
        log(msg)
        return None, msg


def build_c_tools(work):
    """Builds populate.c and floor.c with cc -O2 into work (populate static
    where the C library allows); raises RuntimeError on a failure."""
    for src, out, extra in (("populate.c", "populate", ["-static"]),
                            ("floor.c", "floor", ["-pthread"])):
        cmd = ["cc", "-O2", "-Wall", *extra, "-o", os.path.join(work, out),
               os.path.join(BENCH, src)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0 and "-static" in extra:
            cmd.remove("-static")
            r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"building {src} failed:\n{r.stderr}")


def curl(url, out_path):
    """One scrape with curl; returns (wall seconds, http code, bytes,
    curl's time_total)."""
    t0 = time.perf_counter()
    r = subprocess.run(
        ["curl", "-sS", "-o", out_path, "-w", "%{http_code} %{size_download} %{time_total}",
         "--max-time", "300", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    parts = r.stdout.split()
    code = int(parts[0]) if parts else 0
    size = int(parts[1]) if len(parts) > 1 else 0
    total = float(parts[2]) if len(parts) > 2 else float("nan")
    return wall, code, size, total


def run_command(argv):
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    return wall, r


SELF_METRIC_RE = re.compile(
    r"^linux_namespace_exporter_(scrape_duration_seconds|processes_scanned)(?:\{[^}]*\})?\s+(\S+)",
    re.M)


def exporter_self_metrics(body):
    out = {}
    for name, value in SELF_METRIC_RE.findall(body):
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


def body_complete(body, reference_size):
    """A complete exposition: ends with a newline, carries the exporter's
    own metrics, and is about as long as a single scrape's."""
    if not body.endswith("\n"):
        return False
    m = exporter_self_metrics(body)
    if "scrape_duration_seconds" not in m or "processes_scanned" not in m:
        return False
    return reference_size == 0 or abs(len(body) - reference_size) <= 0.1 * reference_size


def tool_version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def stop_foreign_node_exporters(ours):
    """Stops a node_exporter started by systemd (the Debian package starts
    one on install); returns a function that restarts it."""
    systemctl = shutil.which("systemctl")
    restart = []
    if systemctl and os.path.isdir("/run/systemd/system"):
        r = subprocess.run([systemctl, "is-active", "prometheus-node-exporter"],
                           capture_output=True, text=True)
        if r.stdout.strip() == "active":
            subprocess.run([systemctl, "stop", "prometheus-node-exporter"])
            restart.append("prometheus-node-exporter")
            log("stopped the systemd prometheus-node-exporter service for the run")
    others = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("prometheus-node", "node_exporter"):
            others.append(int(name))
    if others:
        log(f"warning: node_exporter processes not started by this run are alive: {others}")

    def undo():
        for unit in restart:
            subprocess.run([systemctl, "start", unit])
    return undo


class HttpScraper:
    """One persistent HTTP/1.1 connection to a scrape target, as a
    Prometheus server keeps one per target: each scrape is one request on
    it, timed from sending the request to the last byte of the body. A
    connection the server closed is opened again (that connect is timed with
    the request it serves)."""

    def __init__(self, port, path="/metrics", gzip=False, timeout=300):
        self.port = port
        self.path = path
        self.gzip = gzip
        self.timeout = timeout
        self.conn = None

    def scrape(self):
        """(wall seconds, HTTP status, bytes on the wire, decoded body)."""
        headers = {"Accept-Encoding": "gzip" if self.gzip else "identity"}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            t0 = time.perf_counter()
            try:
                self.conn.request("GET", self.path, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    return time.perf_counter() - t0, 0, 0, ""
                continue
            wall = time.perf_counter() - t0
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            data = raw
            if resp.getheader("Content-Encoding", "") == "gzip":
                data = gzip_module.decompress(raw)
            return wall, resp.status, len(raw), data.decode("utf-8", "replace")
        return NAN_, 0, 0, ""

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class FloorProcess:
    """floor --stdin: one process walking /proc once per request, timed by
    the driver as it times an HTTP request (a pipe round trip instead of a
    loopback one)."""

    def __init__(self, binary, extra_args=()):
        self.proc = subprocess.Popen([binary, "--stdin", *extra_args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1,
                                     preexec_fn=die_with_parent)

    def walk(self):
        """(wall seconds, the floor's output line)."""
        t0 = time.perf_counter()
        self.proc.stdin.write("walk\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        return time.perf_counter() - t0, line

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
