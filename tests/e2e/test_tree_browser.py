#!/usr/bin/env python3
"""The /tree HTML page in headless Chromium (Debian's `chromium`), over a
population this test makes: pid namespaces three deep, user namespaces two
deep, an `ip netns` namespace, a process with a command of its own in a pid
namespace, and a podman container (its root file system made here from
the host's sleep(1), so no image is needed) where podman runs. For pid, user and net it checks
the DOM as the browser built it (every namespace of the JSON view present
once, nested under its parent or owner, the population's namespaces among
them, the container's id and the netns bind mount shown), that the filter
narrows the tree to the namespaces of one command and of the container
(by its id), that the browser logged no console message (a CSP
violation or a script error would be one) and asked nothing of any host
but the exporter. The screenshot of the pid page is kept in
--artifacts/tree.png."""

import argparse
import contextlib
import html.parser
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

import e2e_lib as lib
import nsexp_harness as h

NEEDLE = "nsexptreeneedle"  # a comm (at most 15 bytes) no other process has
CONTAINER_COMM = "nsexptreectr"


class Dom(html.parser.HTMLParser):
    """The <details class="ns ..."> elements with their nearest enclosing
    one, in document order."""

    def __init__(self):
        super().__init__()
        self.stack = []  # open <details>: (node dict or None)
        self.nodes = []
        self.search_box = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("id") == "filter":
            self.search_box = a
        if tag != "details":
            return
        classes = (a.get("class") or "").split()
        node = None
        if "ns" in classes:
            enclosing = next((n for n in reversed(self.stack) if n is not None), None)
            node = {"type": a.get("data-type"), "inode": a.get("data-inode"),
                    "parent_attr": a.get("data-parent"), "group": "group" in classes,
                    "empty": "empty" in classes, "hidden": "hidden" in a,
                    "open": "open" in a, "enclosing": enclosing}
            node["hidden_any"] = node["hidden"] or bool(enclosing and enclosing["hidden_any"])
            self.nodes.append(node)
        self.stack.append(node)

    def handle_endtag(self, tag):
        if tag == "details" and self.stack:
            self.stack.pop()


class Browser:
    """One headless Chromium run per page, in a fresh profile."""

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
             "--hide-scrollbars", "--window-size=1280,860", "--enable-logging=stderr", "--v=0",
             "--disable-features=AutofillServerCommunication,OptimizationHints,Translate",
             # Nothing but the exporter on loopback resolves.
             "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]

    def __init__(self, chromium, workdir):
        self.chromium = chromium
        self.workdir = workdir
        self.runs = 0

    def run(self, url, *mode):
        self.runs += 1
        profile = os.path.join(self.workdir, f"profile-{self.runs}")
        netlog = os.path.join(self.workdir, f"netlog-{self.runs}.json")
        r = subprocess.run([self.chromium, *self.FLAGS, f"--user-data-dir={profile}",
                            f"--log-net-log={netlog}", *mode, url],
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        return r, netlog


def console_messages(stderr):
    """What the page logged to the console (Chromium writes it to stderr as
    INFO:CONSOLE lines with --enable-logging), CSP refusals included."""
    return [line for line in stderr.splitlines()
            if "CONSOLE" in line or "Refused to" in line or "Uncaught" in line]


def requests_started(netlog_path):
    """(url, initiator, request_type) of every request the browser started,
    from its net log (None when there is none)."""
    try:
        with open(netlog_path) as fh:
            text = fh.read()
    except OSError:
        return None
    try:
        log = json.loads(text)
    except ValueError:
        # The browser may exit before closing the event list.
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    out = []
    for e in log.get("events", []):
        params = e.get("params") or {}
        if e.get("type") == start and "url" in params:
            out.append((params["url"], params.get("initiator", ""), params.get("request_type", "")))
    return out


@contextlib.contextmanager
def needle_process():
    """A process with comm NEEDLE alone in a new pid namespace."""
    code = ("import sys, time\n"
            f"open('/proc/self/comm', 'w').write('{NEEDLE}')\n"
            "time.sleep(600)\n")
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", sys.executable, "-c", code],
                         start_new_session=True)
    try:
        pid = h.wait_until(lambda: next((c for c in lib.children(p.pid)
                                         if _comm(c) == NEEDLE), None), 10)
        if pid is None:
            raise RuntimeError("the needle process did not come up")
        yield lib.ns_inode(pid, "pid")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, 9)
        p.wait()


def _comm(pid):
    try:
        return lib.comm(pid)
    except OSError:
        return None


@contextlib.contextmanager
def podman_container(f, source):
    """The pid namespace inode of a podman container whose process has comm
    CONTAINER_COMM, or None (with a recorded skip) when podman cannot run
    here. The container's root file system is made here from the host's
    sleep(1) and C library, so no image is needed."""
    podman, why = h.podman_command(source)
    if podman is None:
        f.skip(f"{why}: no container in the population")
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="nsexp-tree-rootfs-") as rootfs:
        for src, dst in [("/bin/sleep", CONTAINER_COMM),
                         ("/lib/x86_64-linux-gnu/libc.so.6", None),
                         ("/lib64/ld-linux-x86-64.so.2", None)]:
            if not os.path.exists(src):
                f.skip(f"no {src} to build a container root from")
                yield None
                return
            target = os.path.join(rootfs, dst or src.lstrip("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(src, target)
        name = f"nsexp-tree-{os.getpid()}"
        # As tests/container/check_image.sh runs it: runc, cgroupfs, and
        # limits no higher than this shell's.
        hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        with open("/proc/sys/kernel/pid_max") as fh:
            pid_max = int(fh.read())
        nproc = pid_max if hard == resource.RLIM_INFINITY else min(hard, pid_max)
        nofile = "%d:%d" % resource.getrlimit(resource.RLIMIT_NOFILE)
        r = subprocess.run([*podman, "run", "-d", "--rm", "--name", name, "--runtime", "runc",
                            "--cgroup-manager=cgroupfs", "--network=none",
                            "--ulimit", f"nofile={nofile}", "--ulimit", f"nproc={nproc}:{nproc}",
                            "--rootfs", rootfs, "/" + CONTAINER_COMM, "600"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            f.check(False, f"podman run failed: {r.stderr.strip()}")
            yield None
            return
        cid = r.stdout.strip().splitlines()[-1]
        try:
            pid = h.wait_until(lambda: _container_pid(podman, name), 20)
            yield {"id": cid, "pid_ns": lib.ns_inode(pid, "pid") if pid else None}
        finally:
            subprocess.run([*podman, "rm", "-f", "-t", "0", name], capture_output=True, timeout=60)


def _container_pid(podman, name):
    r = subprocess.run([*podman, "inspect", "--format", "{{.State.Pid}}", name],
                       capture_output=True, text=True)
    try:
        pid = int(r.stdout.strip())
    except ValueError:
        return None
    return pid if pid > 0 and _comm(pid) == CONTAINER_COMM else None


def walk(nodes, parent=None):
    for n in nodes:
        yield n, parent
        yield from walk(n.get("owned", []), n)
        yield from walk(n.get("children", []), n)


def json_view(exp, ns_type):
    """(type, inode) -> ((type, inode) of the enclosing node or None,
    processes), from the JSON view."""
    _, _, body = exp.get(f"/tree?type={ns_type}&format=json")
    doc = json.loads(body)
    out = {}
    for n, parent in walk(doc["roots"] + doc.get("unowned", [])):
        out[(n["type"], str(n["inode"]))] = (
            (parent["type"], str(parent["inode"])) if parent else None, n["processes"])
    return out


def check_page(f, browser, exp, ns_type, want_inodes, want_text=()):
    """Loads the page of ns_type and checks it against the JSON view. Other
    workloads on the host may make and remove namespaces meanwhile: the
    namespaces compared are those the JSON view showed alike just before
    and just after the page was loaded."""
    before = json_view(exp, ns_type)
    base = exp.url("")
    r, netlog = browser.run(exp.url(f"/tree?type={ns_type}&format=html"), "--dump-dom")
    after = json_view(exp, ns_type)
    expect = {k: v for k, v in before.items() if after.get(k) == v}
    where = f"{ns_type} page"
    if not f.check(r.returncode == 0 and "</html>" in r.stdout,
                   f"{where}: chromium --dump-dom failed ({r.returncode}): {r.stderr[-800:]}"):
        return None
    dom = Dom()
    dom.feed(r.stdout)
    seen = {}
    for n in dom.nodes:
        if not n["type"]:
            continue  # the "owner not visible" heading
        key = (n["type"], n["inode"])
        seen[key] = seen.get(key, 0) + 1
        f.check(not n["hidden_any"], f"{where}: {key[0]}:[{key[1]}] hidden without a filter")
        if key not in expect:
            continue
        enc = n["enclosing"]
        got_parent = (enc["type"], enc["inode"]) if enc and enc["type"] else None
        parent, processes = expect[key]
        f.equal(got_parent, parent, f"{where}: {key[0]}:[{key[1]}] nested under")
        f.equal(n["empty"], not n["group"] and processes == 0,
                f"{where}: {key[0]}:[{key[1]}] marked processless")
    for key, count in seen.items():
        f.check(count == 1, f"{where}: {key[0]}:[{key[1]}] shown {count} times")
    for key in expect:
        f.check(key in seen, f"{where}: {key[0]}:[{key[1]}] missing")
    for inode in want_inodes:
        f.check((ns_type, str(inode)) in expect, f"{where}: the test's {ns_type}:[{inode}] "
                "not in the JSON view alike before and after")
    for text in want_text:
        f.check(text in r.stdout, f"{where}: the page shows {text!r}")
    check_quiet(f, r, netlog, base, where)
    return dom


def check_quiet(f, r, netlog, base, where):
    msgs = console_messages(r.stderr)
    f.check(not msgs, f"{where}: console messages: {msgs[:5]}")
    started = requests_started(netlog)
    if not f.check(started, f"{where}: no request in the net log {netlog}"):
        return
    origin = base.rstrip("/")
    # The page's own requests: its navigation, and whatever it (a script,
    # a style, an image) asked for, which carries the page as initiator.
    # The browser's own background traffic has no page initiator and is
    # kept off the network by --host-resolver-rules.
    page = [(u, t) for u, i, t in started if i == origin or t in ("main frame", "sub frame")]
    f.check(any(t == "main frame" and u.startswith(base) for u, t in page),
            f"{where}: the navigation to the exporter is in the net log")
    foreign = sorted(u for u, _ in page if not u.startswith(base) and not u.startswith("data:"))
    f.check(not foreign, f"{where}: the page asked hosts other than the exporter: {foreign[:5]}")


def check_filter(f, browser, exp, text, want_shown, where):
    """The pid page filtered by "text": exactly want_shown (inodes) remain
    visible among the namespaces that are not ancestors of them."""
    r, netlog = browser.run(exp.url(f"/tree?type=pid&format=html&filter={text}"), "--dump-dom")
    if not f.check(r.returncode == 0, f"{where}: chromium failed: {r.stderr[-500:]}"):
        return
    dom = Dom()
    dom.feed(r.stdout)
    f.equal((dom.search_box or {}).get("value"), text, f"{where}: the filter box holds the text")
    visible = {n["inode"] for n in dom.nodes if not n["hidden_any"]}
    total = {n["inode"] for n in dom.nodes}
    ancestors = set()
    for n in dom.nodes:
        if n["inode"] in {str(i) for i in want_shown}:
            e = n["enclosing"]
            while e:
                ancestors.add(e["inode"])
                e = e["enclosing"]
    f.equal(visible - ancestors, {str(i) for i in want_shown},
            f"{where}: namespaces left by the filter")
    f.check(len(visible) < len(total), f"{where}: the filter hid something ({len(visible)} of {len(total)})")
    shown_text = re.search(r'id="shown"[^>]*>([^<]*)<', r.stdout)
    f.check(shown_text and re.match(r"\d+ of \d+ shown", shown_text.group(1)),
            f"{where}: the count line says what is shown")
    check_quiet(f, r, netlog, exp.url(""), where)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--exporter", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--artifacts", required=True, help="where the screenshot is kept")
    args = p.parse_args()
    h.require_root("makes pid, user and net namespaces and a container")
    chromium = h.require_tool("chromium", "Debian package chromium; scripts/install-deps.sh --test")
    os.makedirs(args.artifacts, exist_ok=True)
    f = h.Failures()
    with tempfile.TemporaryDirectory(prefix="nsexp-chromium-") as work, \
            lib.Population(netns=1) as pop, needle_process() as needle_ns, \
            podman_container(f, args.source) as ctr, lib.Exporter(args.exporter) as exp:
        browser = Browser(chromium, work)
        netns = os.stat(f"/run/netns/{pop.netns[0]}").st_ino
        pid_want = list(pop.pid_ns) + [needle_ns] + ([ctr["pid_ns"]] if ctr else [])
        ctr_text = [f"podman://{ctr['id']}"] if ctr else []
        check_page(f, browser, exp, "pid", pid_want, ctr_text)
        check_page(f, browser, exp, "user", [pop.user_outer, pop.user_inner])
        check_page(f, browser, exp, "net", [netns],
                   [f"/run/netns/{pop.netns[0]}", f"(ip netns {pop.netns[0]})"])
        check_filter(f, browser, exp, NEEDLE, [needle_ns], "filter by command")
        if ctr and ctr["pid_ns"]:
            check_filter(f, browser, exp, CONTAINER_COMM, [ctr["pid_ns"]],
                         "filter by the container's command")
            check_filter(f, browser, exp, ctr["id"][:12], [ctr["pid_ns"]],
                         "filter to the container by its id")
        shot = os.path.join(args.artifacts, "tree.png")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(shot)
        r, netlog = browser.run(exp.url("/tree?type=pid&format=html"), f"--screenshot={shot}")
        ok = os.path.exists(shot) and os.path.getsize(shot) > 10000
        if f.check(ok, f"screenshot {shot} written ({r.stderr[-300:]})"):
            with open(shot, "rb") as fh:
                f.check(fh.read(8) == b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG")
            print(f"screenshot: {shot}")
        check_quiet(f, r, netlog, exp.url(""), "screenshot run")
    return f.finish("e2e tree browser")


if __name__ == "__main__":
    h.run_script(main)
