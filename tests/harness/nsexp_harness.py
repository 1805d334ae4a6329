"""The one test harness of the scripted tests and the benchmark driver.

What the end-to-end, configuration and security tests and bench/ share:
honest skips (exit 77 with the reason on stderr), a free port, HTTP without
exceptions for error statuses, a server process with its log in a file
(the exporter, node_exporter, Prometheus), a static server for fixture
expositions, the text exposition parsed into samples, promtool, and a
unittest runner that maps skipped tests to exit 77.

Standard library only. CTest puts this directory on PYTHONPATH; bench/ adds
it from its own location. By hand, from the repository root:

    PYTHONPATH=tests/harness python3 tests/e2e/test_http.py \
        --exporter build/linux_namespace_exporter --source .
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SKIP = 77  # CTest SKIP_RETURN_CODE of every scripted test


# --- skipping ---------------------------------------------------------------

def skip(reason):
    """Ends the test as skipped: the reason on stderr, exit status 77."""
    print(f"SKIP: {reason}", file=sys.stderr, flush=True)
    sys.exit(SKIP)


def require_root(what):
    """Raises unittest.SkipTest unless running as root; `what` says what
    needs it."""
    if os.geteuid() != 0:
        raise unittest.SkipTest(f"needs root ({what})")


def require_tool(name, what):
    """The path of program `name`; raises unittest.SkipTest when it is not
    installed (`what` says where it comes from)."""
    path = shutil.which(name)
    if path is None:
        raise unittest.SkipTest(f"{name} not installed ({what})")
    return path


def run_script(main):
    """Exits with main()'s status; a unittest.SkipTest raised by it (e.g.
    by require_root) becomes a skip."""
    try:
        status = main()
    except unittest.SkipTest as e:
        skip(str(e))
    sys.exit(status)


class Failures:
    """Collects failed checks and parts that could not run; a script
    reports all of them, then exits 1 (a failure), 77 (a part skipped) or
    0."""

    def __init__(self):
        self.items = []
        self.skipped = []

    def check(self, ok, what):
        if not ok:
            self.items.append(what)
            print(f"FAIL {what}", flush=True)
        return ok

    def equal(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")

    def skip(self, reason):
        """Records a part of the test that cannot run here."""
        self.skipped.append(reason)

    def finish(self, name):
        if self.items:
            print(f"\n{name}: {len(self.items)} failed check(s)")
            return 1
        if self.skipped:
            for reason in self.skipped:
                print(f"SKIP: {reason}", file=sys.stderr)
            print(f"{name}: all checks that ran passed; {len(self.skipped)} part(s) "
                  "could not run", file=sys.stderr, flush=True)
            return SKIP
        print(f"{name}: all checks passed")
        return 0


def run_unittest(argv=None):
    """Runs unittest.main on argv and exits: 1 on a failure or when no test
    ran, 77 (after listing each reason on stderr) when any test was skipped,
    0 when every test ran and passed. A test skips with self.skipTest()."""
    prog = unittest.main(argv=argv, exit=False, verbosity=2)
    result = prog.result
    if not result.wasSuccessful() or result.testsRun == 0:
        sys.exit(1)
    if result.skipped:
        for test, reason in result.skipped:
            print(f"SKIP: {test.id()}: {reason}", file=sys.stderr)
        print(f"SKIP: {len(result.skipped)} of {result.testsRun} test(s) "
              "could not run here", file=sys.stderr, flush=True)
        sys.exit(SKIP)
    sys.exit(0)


# --- waiting, ports, HTTP ---------------------------------------------------

def wait_until(predicate, timeout, interval=0.05):
    """Calls predicate until it returns a true value or timeout seconds have
    passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def free_port():
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect_refused(port, timeout=1.0):
    """True when a TCP connection to 127.0.0.1:port is refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True


def basic_auth(user, password):
    """The Authorization header of HTTP basic authentication."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": "Basic " + token}


def http(url, method="GET", headers=None, timeout=30):
    """Returns (status, headers, body bytes); HTTP error statuses are
    results, connection errors raise OSError."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# --- server processes -------------------------------------------------------

def host_port(host, port):
    """host:port for a URL or a listen address, an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Server:
    """A program serving HTTP on host:port (127.0.0.1 unless told), stdout
    and stderr in a log file; a context manager. Started means: still running and, with
    ready_path, answering 200 there, else accepting TCP connections. The
    program runs in a process group of its own, which stop() kills whole:
    what a wrapper (unshare, setpriv, sh) started goes with it."""

    def __init__(self, argv, port, *, name=None, log_path=None, preexec=None,
                 ready_path=None, start_timeout=15.0, host="127.0.0.1"):
        self.argv = list(argv)
        self.port = port
        self.host = host
        self.name = name or os.path.basename(self.argv[0])
        self.ready_path = ready_path
        self.start_timeout = start_timeout
        self._preexec = preexec
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="nsexp-server-", suffix=".log")
            os.close(fd)
            self._own_log = True
        else:
            self._own_log = False
        self.log_path = log_path
        self._log = None
        self.proc = None

    def start(self):
        """Starts the program and waits until it serves; raises RuntimeError
        naming the log's end when it exits or never serves."""
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=self._preexec, start_new_session=True)
        try:
            self.port = wait_until(self._find_port, self.start_timeout)
            if not self.port:
                raise RuntimeError(f"{self.name} never said where it listens: "
                                   f"{self.log_tail()}")
            if not wait_until(self._serving, self.start_timeout):
                raise RuntimeError(f"{self.name} not serving on port {self.port}: "
                                   f"{self.log_tail()}")
        except BaseException:
            self.stop()
            raise
        return self

    def _exited(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: "
                               f"{self.log_tail()}")

    def _find_port(self):
        self._exited()
        return self.port

    def _serving(self):
        self._exited()
        if self.ready_path is None:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return True
            except OSError:
                return False
        try:
            return http(self.url(self.ready_path), timeout=2)[0] == 200
        except OSError:
            return False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def url(self, path="/metrics"):
        return f"http://{host_port(self.host, self.port)}{path}"

    def get(self, path="/metrics", headers=None, timeout=60):
        """(status, headers, body bytes) of a GET; see http()."""
        return http(self.url(path), headers=headers, timeout=timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log(self):
        """Everything the program wrote so far."""
        if self._log and not self._log.closed:
            self._log.flush()
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, chars=2000):
        return self.log()[-chars:]

    def log_lines(self):
        return [l for l in self.log().splitlines() if l.strip()]

    def wait_log(self, pattern, count=1, timeout=10.0):
        """Waits until the regex `pattern` matches at least count log lines;
        raises AssertionError otherwise."""
        rx = re.compile(pattern)
        if not wait_until(lambda: sum(1 for l in self.log_lines() if rx.search(l)) >= count,
                          timeout):
            raise AssertionError(f"no log line matching {pattern!r}: {self.log()}")

    def stop(self, sig=None, timeout=10):
        """Sends sig (default SIGTERM) unless the program already ended,
        waits up to timeout seconds for it to end (then kills it), and kills
        what is left of its process group. A log file this object made is
        removed; one passed as log_path stays."""
        if self.proc is not None and self.proc.returncode is None:
            pid = self.proc.pid
            # Until the program is reaped its PID, the group's ID, cannot
            # be reused: killing the group cannot reach another process.
            os.kill(pid, signal.SIGTERM if sig is None else sig)
            if not wait_until(lambda: _ended(pid), timeout):
                os.kill(pid, signal.SIGKILL)
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
        if self._log is not None:
            self._log.close()
        if self._own_log:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass


def _ended(pid):
    """True when child `pid` has ended, leaving it to be reaped."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


_LISTENING = re.compile(r'(?:msg=listening|"msg":"listening").*?\bports(?:=|":")(\d+)')


class Exporter(Server):
    """linux_namespace_exporter on host (127.0.0.1 unless told; "::1" for
    IPv6 loopback). With port 0 (the default) the
    kernel chooses the port and it is read back from the "listening" log
    line (logfmt or JSON, at log level info or below). argv replaces the
    whole command line (e.g. a wrapper such as setpriv or unshare that runs
    the exporter); listen_flag=False leaves the listen address to the
    configuration file."""

    def __init__(self, binary, *args, port=0, listen_flag=True, argv=None,
                 ready_path="/-/healthy", host="127.0.0.1", **kwargs):
        if argv is None:
            argv = [binary]
            if listen_flag:
                argv.append(f"--web.listen-address={host_port(host, port)}")
            argv += args
        super().__init__(argv, port, name="exporter", ready_path=ready_path,
                         host=host, **kwargs)

    def _find_port(self):
        self._exited()
        if self.port:
            return self.port
        m = _LISTENING.search(self.log())
        return int(m.group(1)) if m else None

    def scrape(self, path="/metrics", timeout=60):
        """The parsed exposition of one scrape; AssertionError unless 200."""
        status, _, body = self.get(path, timeout=timeout)
        if status != 200:
            raise AssertionError(f"scrape of {path} returned {status}")
        return parse_metrics(body.decode("utf-8"))


# --- the text exposition format ---------------------------------------------

class Sample(typing.NamedTuple):
    name: str
    labels: dict
    value: float


class Exposition(typing.NamedTuple):
    """A parsed text exposition: types {family: type} and the samples in
    the order they came."""
    types: dict
    samples: list


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')
_ESCAPE = re.compile(r"\\(.)")


def parse_metrics(text):
    """Parses the text exposition format (label values unescaped); raises
    ValueError on a line that is neither a comment nor a sample."""
    types, samples = {}, []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3].strip()
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"unparsable sample line: {line!r}")
        labels = {}
        body = m.group(3) or ""
        pos = 0
        while pos < len(body):
            lm = _LABEL.match(body, pos)
            if not lm:
                raise ValueError(f"unparsable labels in {line!r}")
            labels[lm.group(1)] = _ESCAPE.sub(
                lambda e: "\n" if e.group(1) == "n" else e.group(1), lm.group(2))
            pos = lm.end()
        samples.append(Sample(m.group(1), labels, float(m.group(4))))
    return Exposition(types, samples)


def values(exposition, name):
    """All sample values of one metric name."""
    return [s.value for s in exposition.samples if s.name == name]


def value(exposition, name, **labels):
    """The value of the one sample of `name` whose labels include `labels`;
    AssertionError unless exactly one matches."""
    want = labels.items()
    found = [s.value for s in exposition.samples
             if s.name == name and want <= s.labels.items()]
    if len(found) != 1:
        raise AssertionError(f"{len(found)} samples of {name}{labels!r}")
    return found[0]


# --- promtool -----------------------------------------------------------------

def promtool(*args, input=None, timeout=60):
    """Runs `promtool args...` (text in and out); raises unittest.SkipTest
    when promtool is not installed."""
    path = require_tool("promtool", "Debian package prometheus")
    return subprocess.run([path, *args], input=input, capture_output=True,
                          text=True, timeout=timeout)


# --- unittest ------------------------------------------------------------------

class ExporterTestCase(unittest.TestCase):
    """A scratch directory per test, and the exporters it started stopped
    at the end. `binary` is the built exporter (NSEXP_BINARY unless the
    script sets it)."""

    binary = os.environ.get("NSEXP_BINARY", "")

    def setUp(self):
        if not self.binary or not os.access(self.binary, os.X_OK):
            self.fail("no built exporter (NSEXP_BINARY)")
        self.dir = tempfile.mkdtemp(prefix="nsexp-test-")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, args=(), **kwargs):
        """A serving exporter with the argument list args (see Exporter for
        kwargs), logging into the scratch directory, stopped by tearDown."""
        log = os.path.join(self.dir, f"exporter-{len(self.servers)}.log")
        e = Exporter(self.binary, *args, log_path=log, **kwargs)
        self.servers.append(e)
        return e.start()

    def write(self, name, text):
        """Writes a file of the scratch directory; returns its path."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_binary(self, *args, timeout=30):
        """The exporter run to its end: a CompletedProcess with text."""
        return subprocess.run([self.binary, *args], capture_output=True, text=True,
                              timeout=timeout)


# --- certificates -----------------------------------------------------------

def make_pki(d):
    """Makes, with openssl, in directory d: a CA (ca.crt), a server
    certificate it signed for 127.0.0.1, ::1 and localhost (server.crt,
    server.key), a client certificate it signed (client.crt, client.key),
    and a client certificate of another CA (stranger.crt, stranger.key)."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                "-days", "2", "-subj", f"/CN=nsexp test {ca}")
    leaves = {
        "server": ("ca", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n"
                         "extendedKeyUsage=serverAuth\n"),
        "client": ("ca", "extendedKeyUsage=clientAuth\n"),
        "stranger": ("other-ca", "extendedKeyUsage=clientAuth\n"),
    }
    for name, (ca, ext) in leaves.items():
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(ext)
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN=nsexp test {name}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt",
                "-CAkey", f"{ca}.key", "-CAcreateserial", "-out", f"{name}.crt",
                "-days", "2", "-extfile", f"{name}.ext")


def podman_command(source):
    """podman's argv with the storage options that scripts/podman-storage.sh
    chooses (a vfs store of its own where the overlay driver cannot work,
    e.g. inside a container), so that every call of a test uses one store.
    Returns (argv, None), or (None, reason) when podman is missing or no
    storage driver works here."""
    podman = shutil.which("podman")
    if podman is None:
        return None, "podman not installed"
    script = os.path.join(source, "scripts", "podman-storage.sh")
    r = subprocess.run(
        ["bash", "-c", '. "$1"; podman_choose_storage || '
         '{ echo "$podman_storage_reason" >&2; exit 1; }; '
         'for o in "${podman_storage[@]}"; do printf "%s\\n" "$o"; done',
         "podman-storage", script],
        capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "podman does not work"
    return [podman, *r.stdout.splitlines()], None


PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def prometheus_server(config, workdir):
    """A real Prometheus (Debian's) with "config", its data and log in
    "workdir", on a free 127.0.0.1 port: (Server, base URL). Not started."""
    port = free_port()
    server = Server(
        [PROMETHEUS, f"--config.file={config}",
         f"--storage.tsdb.path={os.path.join(workdir, 'data')}",
         f"--web.listen-address=127.0.0.1:{port}",
         "--storage.tsdb.retention.time=1h"],
        port, name="prometheus", log_path=os.path.join(workdir, "prometheus.log"),
        ready_path="/-/ready", start_timeout=30)
    return server, f"http://127.0.0.1:{port}"


def prometheus_query(base, expr):
    """The result list of an instant query to the Prometheus at "base", or
    None when it did not answer 200."""
    status, _, body = http(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}),
                           timeout=20)
    return json.loads(body)["data"]["result"] if status == 200 else None


def serve_text(text):
    """A static HTTP server on 127.0.0.1 that answers every GET with "text"
    as a Prometheus text exposition (e.g. a kube-state-metrics fixture):
    (server, port). server.shutdown() stops it."""
    body = text.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


# The Kubernetes fixture pair: a procfs tree (for --path.procfs) of two pods
# on one node, and what kube-state-metrics says about them (the same pod
# UIDs and container ids). Paths relative to the repository root.
PODS_PROCFS = os.path.join("tests", "fixtures", "proc", "pods")
PODS_KSM = os.path.join("tests", "fixtures", "kube-state-metrics", "pods.prom")
