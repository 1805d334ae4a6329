"""Shared pieces of the end-to-end tests, beside the common harness
(nsexp_harness: the exporter process, HTTP, the text-format parser, skips):
their command line, collected checks, and namespaces made by the test (found
by the PIDs it started, never by scanning for names: other workloads may run
on the same host), with the checks of the tree view against the kernel.

Standard library only. Every process and namespace made here is removed
again by the context managers, also when a test fails.
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess

import nsexp_harness
from nsexp_harness import wait_until


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--exporter", required=True, help="the built linux_namespace_exporter")
    p.add_argument("--source", required=True, help="the repository root")
    return p.parse_args()


def Exporter(binary, *extra_args, argv=None):
    """The exporter on 127.0.0.1 with a kernel-chosen port, started once
    /-/ready answers 200 (a context manager)."""
    return nsexp_harness.Exporter(binary, *extra_args, argv=argv, ready_path="/-/ready")


# --- what the kernel says ---------------------------------------------------

def mounted_at(path):
    """Whether something is mounted at path in this process's mount
    namespace."""
    with open("/proc/self/mountinfo") as m:
        return any(line.split()[4] == path for line in m)


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
