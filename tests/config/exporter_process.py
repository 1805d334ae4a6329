"""Runs the built exporter on 127.0.0.1 for the configuration tests.

The binary comes from NSEXP_BINARY and the shipped examples from
NSEXP_EXAMPLES_DIR, both set by CMake.
"""

import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BINARY = os.environ.get("NSEXP_BINARY", "")
EXAMPLES_DIR = os.environ.get("NSEXP_EXAMPLES_DIR", "")

# CAP_DAC_READ_SEARCH (2) and CAP_SYS_PTRACE (19).
KEPT_CAPS = "0000000000080004"


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


def parse_metrics(text):
    """Text exposition -> {(name, frozenset(labels)): value}."""
    samples = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            raise ValueError("unparsable sample line: %r" % line)
        labels = frozenset(label_re.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples


def values(samples, name):
    """All sample values of one metric name."""
    return [v for (n, _), v in samples.items() if n == name]


def value(samples, name, **labels):
    """The value of the one sample matching name and labels."""
    want = set(labels.items())
    found = [v for (n, l), v in samples.items() if n == name and want <= l]
    if len(found) != 1:
        raise AssertionError("%d samples of %s%r" % (len(found), name, labels))
    return found[0]


class Exporter:
    """One exporter process; stderr goes to a file that log() reads."""

    def __init__(self, args, workdir, port=None, listen_flag=True,
                 preexec=None, binary=None):
        self.port = port if port is not None else free_port()
        self.log_path = os.path.join(workdir, "exporter-%d.log" % self.port)
        self._log = open(self.log_path, "wb")
        argv = [binary or BINARY]
        # Without the flag the exporter would listen on every interface; a
        # test that sets the address in its file passes listen_flag=False.
        if listen_flag:
            argv.append("--web.listen-address=127.0.0.1:%d" % self.port)
        argv += args
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=self._log, preexec_fn=preexec)

    def wait_ready(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("exporter exited with %d: %s" %
                                     (self.proc.returncode, self.log()))
            try:
                with urllib.request.urlopen(
                        "http://127.0.0.1:%d/-/healthy" % self.port,
                        timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise AssertionError("exporter not ready on port %d: %s" %
                             (self.port, self.log()))

    def get(self, path="/metrics", timeout=30):
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")

    def scrape(self):
        status, body = self.get()
        if status != 200:
            raise AssertionError("scrape returned %d" % status)
        return parse_metrics(body)

    def log(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self):
        return [l for l in self.log().splitlines() if l.strip()]

    def wait_log(self, pattern, count=1, timeout=10.0):
        """Waits until "pattern" (a regex) matches at least count lines."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for l in self.log_lines() if rx.search(l)) >= count:
                return
            time.sleep(0.05)
        raise AssertionError("no log line matching %r: %s" %
                             (pattern, self.log()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._log.close()


class ExporterTestCase(unittest.TestCase):
    """Gives each test a scratch directory and stops what it started."""

    def setUp(self):
        if not BINARY or not os.access(BINARY, os.X_OK):
            self.fail("NSEXP_BINARY does not name the built exporter")
        self.dir = tempfile.mkdtemp(prefix="nsexp-config-")
        self.exporters = []

    def tearDown(self):
        for e in self.exporters:
            e.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, args, ready=True, **kwargs):
        e = Exporter(args, self.dir, **kwargs)
        self.exporters.append(e)
        if ready:
            e.wait_ready()
        return e

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_binary(self, args, timeout=30):
        return subprocess.run([BINARY] + args, capture_output=True, text=True,
                              timeout=timeout)


NS_TYPES = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"]


def make_blocking_procfs(directory):
    """A procfs tree with one process (PID 100) whose "comm" is a named
    pipe: a collection blocks reading it until the test writes a name into
    the pipe. Returns (root, pipe path). The net namespace is
    4026531838."""
    root = os.path.join(directory, "proc")
    ns = os.path.join(root, "100", "ns")
    os.makedirs(ns)
    for i, t in enumerate(NS_TYPES):
        os.symlink("%s:[%d]" % (t, 4026531835 + i), os.path.join(ns, t))
    comm = os.path.join(root, "100", "comm")
    os.mkfifo(comm)
    return root, comm


def wait_for_reader(fifo, timeout=10.0):
    """Opens the pipe for writing once the exporter has it open for reading,
    which proves a collection is in flight. None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as err:
            if err.errno != errno.ENXIO:
                raise
        time.sleep(0.02)
    return None


def json_lines(text):
    """Each non-empty line parsed as JSON; raises on the first that is not."""
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out
