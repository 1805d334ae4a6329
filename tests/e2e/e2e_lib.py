"""Shared pieces of the end-to-end tests: the exporter on 127.0.0.1, HTTP
functions, a text-format parser, and namespaces made by the test (found by the
PIDs it started, never by scanning for names: other workloads may run on the
same host).

Standard library only. Every process and namespace made here is removed
again by the context managers, also when a test fails.
"""

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77  # CTest SKIP_RETURN_CODE


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--exporter", required=True, help="the built linux_namespace_exporter")
    p.add_argument("--source", required=True, help="the repository root")
    return p.parse_args()


def require_root(what):
    if os.geteuid() != 0:
        print(f"SKIP: needs root ({what})")
        sys.exit(SKIP)


class Failures:
    """Collects failed checks; a test reports all of them, then exits 1."""

    def __init__(self):
        self.items = []

    def check(self, ok, what):
        if not ok:
            self.items.append(what)
            print(f"FAIL {what}", flush=True)
        return ok

    def equal(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")

    def finish(self, name):
        if self.items:
            print(f"\n{name}: {len(self.items)} failed check(s)")
            return 1
        print(f"{name}: all checks passed")
        return 0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, method="GET", headers=None, timeout=30):
    """Returns (status, headers, body bytes); HTTP errors are results."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


# --- the exporter -----------------------------------------------------------

class Exporter:
    """The binary listening on 127.0.0.1 with a kernel-chosen port."""

    def __init__(self, binary, *extra_args, argv=None):
        self.argv = argv or [binary, "--web.listen-address=127.0.0.1:0", *extra_args]
        self.proc = None
        self.port = None
        self.log = tempfile.TemporaryFile(mode="w+")

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=self.log)

        def port():
            if self.proc.poll() is not None:
                raise RuntimeError(f"exporter exited with {self.proc.returncode}: {self.stderr()}")
            m = re.search(r"msg=listening .*\bports=(\d+)", self.stderr())
            return int(m.group(1)) if m else None

        try:
            self.port = wait_until(port, 15)
            if not self.port:
                raise RuntimeError(f"no 'listening' log line: {self.stderr()}")
            if not wait_until(lambda: self._ready(), 15):
                raise RuntimeError("/-/ready never answered 200")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _ready(self):
        try:
            return http(self.url("/-/ready"), timeout=5)[0] == 200
        except OSError:
            return False

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, timeout=60):
        return http(self.url(path), timeout=timeout)

    def alive(self):
        return self.proc.poll() is None

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --- the text exposition format --------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def parse_metrics(text):
    """Returns (types {family: type}, samples [(name, {label: value}, float)])."""
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
            value = re.sub(r"\\(.)", lambda e: {"n": "\n"}.get(e.group(1), e.group(1)), lm.group(2))
            labels[lm.group(1)] = value
            pos = lm.end()
        samples.append((m.group(1), labels, float(m.group(4))))
    return types, samples


# --- what the kernel says ---------------------------------------------------

def ns_inode(pid, ns_type):
    target = os.readlink(f"/proc/{pid}/ns/{ns_type}")
    return int(target[target.index("[") + 1:-1])


def nstgid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("NStgid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return sorted(int(x) for x in f.read().split())
    except OSError:
        return []


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().rstrip("\n")


def chain_below(top, depth, leaf_comm):
    """[top, child, grandchild, ...] (depth+1 entries, one child each) once the
    last one runs leaf_comm; None until then."""
    chain = [top]
    for _ in range(depth):
        kids = children(chain[-1])
        if len(kids) != 1:
            return None
        chain.append(kids[0])
    try:
        return chain if comm(chain[-1]) == leaf_comm else None
    except OSError:
        return None


class Population:
    """Namespaces made with unshare(1) and ip-netns(8), removed on exit.

    pid_chain: [init of level 1, init of level 2, init of level 3] (host
    PIDs), pid_ns: their pid namespace inodes. user_outer/user_inner: user
    namespace inodes; the outer one holds the `unshare` process user_outer_pid,
    the inner one the `sleep` user_inner_pid. netns: names added with ip.
    """

    def __init__(self, pid_depth=3, user=True, netns=0):
        self.pid_depth = pid_depth
        self.want_user = user
        self.want_netns = netns
        self.started = []
        self.netns = []
        self.pid_chain, self.pid_ns = [], []
        self.user_outer = self.user_inner = None
        self.user_outer_pid = self.user_inner_pid = None

    def _start(self, argv):
        # A session of its own: the whole group can be killed by this PID.
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
        self.started.append(p)
        return p

    def __enter__(self):
        try:
            self._make()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _make(self):
        if self.pid_depth:
            argv = []
            for _ in range(self.pid_depth):
                argv += ["unshare", "--pid", "--fork", "--kill-child"]
            top = self._start(argv + ["sleep", "600"])
            chain = wait_until(lambda: chain_below(top.pid, self.pid_depth, "sleep"), 10)
            if not chain:
                raise RuntimeError(f"nested pid namespaces did not come up: {self._errors()}")
            self.pid_chain = chain[1:]
            self.pid_ns = [ns_inode(p, "pid") for p in self.pid_chain]
        if self.want_user:
            # The outer unshare forks and stays in the outer namespace; its
            # child makes the inner one and becomes `sleep`.
            top = self._start(["unshare", "--user", "--map-root-user", "--fork", "--kill-child",
                               "unshare", "--user", "--map-root-user", "sleep", "600"])
            chain = wait_until(lambda: chain_below(top.pid, 1, "sleep"), 10)
            if not chain:
                raise RuntimeError(f"nested user namespaces did not come up: {self._errors()}")
            self.user_outer_pid, self.user_inner_pid = chain
            self.user_outer = ns_inode(chain[0], "user")
            self.user_inner = ns_inode(chain[1], "user")
        for i in range(self.want_netns):
            name = f"nsexp-e2e-{os.getpid()}-{i}"
            subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
            self.netns.append(name)

    def _errors(self):
        out = []
        for p in self.started:
            if p.poll() is not None:
                out.append(f"pid {p.pid} exited {p.returncode}: {p.stderr.read().decode(errors='replace')}")
        return "; ".join(out) or "no process exited"

    def __exit__(self, *exc):
        for p in self.started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                p.kill()
        for p in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(10)
            if p.stderr:
                p.stderr.close()
        # --kill-child kills each level with its parent; wait until the
        # namespaces' processes are gone.
        wait_until(lambda: not any(os.path.exists(f"/proc/{q}") for q in self.pid_chain), 10)
        for name in self.netns:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.netns = []


# --- the tree view ------------------------------------------------------------

def walk_json(nodes, depth=0):
    for n in nodes:
        yield n, depth
        yield from walk_json(n.get("children", []), depth + 1)


def check_pid_tree_json(f, doc, pop, where):
    """The test's pid namespaces nested three deep, each member with the
    kernel's NStgid."""
    f.equal(doc.get("type"), "pid", f"{where}: type")
    found = {n["inode"]: (n, d) for n, d in walk_json(doc.get("roots", []))}
    for k, inode in enumerate(pop.pid_ns):
        if not f.check(inode in found, f"{where}: pid:[{inode}] (level {k + 1}) missing"):
            continue
        node, depth = found[inode]
        parent = pop.pid_ns[k - 1] if k else ns_inode(os.getpid(), "pid")
        f.equal(node.get("parent_inode"), parent, f"{where}: parent of level {k + 1}")
        if parent in found:
            f.equal(depth, found[parent][1] + 1, f"{where}: nesting of level {k + 1}")
            f.check(any(c["inode"] == inode for c in found[parent][0].get("children", [])),
                    f"{where}: level {k + 1} is not a child of its parent")
        f.equal(node.get("processes"), 1, f"{where}: processes of level {k + 1}")
        members = {m["pid"]: m for m in node.get("members", [])}
        pid = pop.pid_chain[k]
        if f.check(pid in members, f"{where}: member {pid} of level {k + 1} missing"):
            want = nstgid(pid)
            f.equal(members[pid]["nstgid"], want, f"{where}: NStgid of {pid}")
            f.equal(len(want), len(nstgid(os.getpid())) + k + 1, f"{where}: NStgid length of {pid}")
            f.equal(want[-1], 1, f"{where}: {pid} is init of its namespace")
            f.equal(members[pid]["command"], comm(pid), f"{where}: command of {pid}")


def check_pid_tree_text(f, text, pop, where):
    lines = text.splitlines()

    def header(inode):
        label = f"pid:[{inode}]"
        for i, line in enumerate(lines):
            s = line.lstrip(" ")
            if s == label or s.startswith(label + " "):
                return i, len(line) - len(s)
        return None, None

    prev = None
    for k, inode in enumerate(pop.pid_ns):
        i, indent = header(inode)
        if not f.check(i is not None, f"{where}: no line for pid:[{inode}]"):
            continue
        if prev is not None:
            f.equal(indent, prev + 4, f"{where}: indentation of level {k + 1}")
        prev = indent
        pid = pop.pid_chain[k]
        want = " " * (indent + 8) + "[" + " ".join(map(str, nstgid(pid))) + "]  " + comm(pid)
        f.equal(lines[i + 1] if i + 1 < len(lines) else None, want, f"{where}: member line of level {k + 1}")
        f.check(f"processes=1" in lines[i], f"{where}: processes=1 on {lines[i]!r}")


def check_user_tree_json(f, doc, pop, where):
    found = {n["inode"]: (n, d) for n, d in walk_json(doc.get("roots", []))}
    for inode in (pop.user_outer, pop.user_inner):
        f.check(inode in found, f"{where}: user:[{inode}] missing")
    if pop.user_outer in found and pop.user_inner in found:
        outer, od = found[pop.user_outer]
        inner, idp = found[pop.user_inner]
        f.equal(idp, od + 1, f"{where}: inner user namespace one level below the outer")
        f.equal(inner.get("parent_inode"), pop.user_outer, f"{where}: parent of inner")
        f.equal(outer.get("parent_inode"), ns_inode(os.getpid(), "user"), f"{where}: parent of outer")
        f.equal(outer.get("owner_uid"), 0, f"{where}: owner_uid of outer")
        f.equal([m["pid"] for m in outer.get("members", [])], [pop.user_outer_pid], f"{where}: outer members")
        f.equal([m["pid"] for m in inner.get("members", [])], [pop.user_inner_pid], f"{where}: inner members")


def run_tree(exporter, ns_type, fmt):
    r = subprocess.run([exporter, "tree", "--type", ns_type, "--format", fmt],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def load_json(f, text, where):
    try:
        return json.loads(text)
    except ValueError as e:
        f.check(False, f"{where}: not JSON: {e}")
        return {}
