#!/usr/bin/env python3
"""End-to-end scrape on the running kernel: namespaces made with unshare(1)
and ip-netns(8), the built binary scraped over HTTP, and every series of
linux_namespace_info checked against lsns(8) and against fresh nsfs ioctls
(readlink, fstat, NS_GET_PARENT, NS_GET_USERNS, NS_GET_OWNER_UID); depth and
children against the parents the kernel gives. Meant for the quiet guests of
the kernel matrix (guest_tests.sh), where nothing else makes namespaces.
Root only; exits 77 otherwise.
"""

import fcntl
import json
import os
import struct
import subprocess
import sys

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(_TESTS, "e2e"), os.path.join(_TESTS, "harness")]
import e2e_lib  # noqa: E402
import nsexp_harness as h  # noqa: E402

NS_GET_USERNS = 0xB701
NS_GET_PARENT = 0xB702
NS_GET_OWNER_UID = 0xB704
HIERARCHICAL = ("pid", "user")


def ioctl_fd(fd, request):
    """The inode of the namespace an fd-returning nsfs ioctl gives, or None
    (EPERM: top of the visible tree)."""
    try:
        new = fcntl.ioctl(fd, request)
    except PermissionError:
        return None
    try:
        return os.fstat(new).st_ino
    finally:
        os.close(new)


def fresh(pid, ns_type):
    """What the kernel says now about /proc/PID/ns/TYPE: (inode, parent,
    owner, owner uid)."""
    fd = os.open(f"/proc/{pid}/ns/{ns_type}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        inode = os.fstat(fd).st_ino
        parent = ioctl_fd(fd, NS_GET_PARENT) if ns_type in HIERARCHICAL else None
        owner = ioctl_fd(fd, NS_GET_USERNS)
        uid = None
        if ns_type == "user":
            uid = struct.unpack("I", fcntl.ioctl(fd, NS_GET_OWNER_UID, b"\0" * 4))[0]
        return inode, parent, owner, uid
    finally:
        os.close(fd)


def lsns():
    out = subprocess.run(["lsns", "-J", "-o", "NS,TYPE,NPROCS,PNS,ONS"],
                         check=True, capture_output=True, text=True).stdout
    rows = {}
    for r in json.loads(out)["namespaces"]:
        rows[(r["type"], int(r["ns"]))] = r
    return rows


def opt(v):
    return int(v) if v not in ("", None) else None


def main():
    args = e2e_lib.parse_args(__doc__.split("\n")[0])
    h.require_root("makes namespaces and reads every process's ns links")
    f = h.Failures()
    print(f"kernel {os.uname().release}")
    with e2e_lib.Population(pid_depth=3, user=True, netns=1) as pop, \
            e2e_lib.Exporter(args.exporter) as exp:
        status, _, body = exp.get("/metrics")
        f.equal(status, 200, "GET /metrics")
        _, samples = h.parse_metrics(body.decode())
        table = lsns()

    info, depth, children, count = {}, {}, {}, {}
    for name, labels, value in samples:
        if name == "linux_namespace_info":
            info[(labels["type"], int(labels["inode"]))] = labels
        elif name == "linux_namespace_depth":
            depth[(labels["type"], int(labels["inode"]))] = int(value)
        elif name == "linux_namespace_children":
            children[(labels["type"], int(labels["inode"]))] = int(value)
        elif name == "linux_namespaces":
            count[labels["type"]] = int(value)
    f.check(len(info) > 0, "linux_namespace_info has series")

    # Every namespace lsns lists is exported, with the same parent and owner.
    for (t, inode), row in sorted(table.items()):
        key = (t, inode)
        if not f.check(key in info, f"lsns lists {t}:[{inode}], the exporter does not"):
            continue
        if t in HIERARCHICAL and row.get("pns"):
            f.equal(opt(info[key]["parent_inode"]), int(row["pns"]), f"{t}:[{inode}] parent vs lsns")
        if row.get("ons"):
            f.equal(opt(info[key]["owner_inode"]), int(row["ons"]), f"{t}:[{inode}] owner vs lsns")

    # Every series agrees with fresh ioctls on its lowest member.
    for (t, inode), labels in sorted(info.items()):
        if not labels.get("pid"):
            continue  # held without processes (an ancestor, a bind mount)
        try:
            got = fresh(int(labels["pid"]), t)
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited since the scrape
        f.equal(got[0], inode, f"{t}:[{inode}] is what pid {labels['pid']} is in")
        if t in HIERARCHICAL:
            f.equal(opt(labels["parent_inode"]), got[1], f"{t}:[{inode}] parent vs NS_GET_PARENT")
        f.equal(opt(labels["owner_inode"]), got[2], f"{t}:[{inode}] owner vs NS_GET_USERNS")
        if t == "user":
            f.equal(opt(labels["owner_uid"]), got[3], f"{t}:[{inode}] owner uid vs NS_GET_OWNER_UID")

    # No namespace is exported whose parent is missing; depth and children
    # follow from the parents.
    for t in HIERARCHICAL:
        keys = [k for k in info if k[0] == t]
        f.equal(count.get(t), len(keys), f"linux_namespaces{{type={t!r}}}")
        for k in keys:
            d, cur = 0, k
            while opt(info[cur]["parent_inode"]) is not None and d < 40:
                nxt = (t, opt(info[cur]["parent_inode"]))
                if not f.check(nxt in info, f"{t}:[{cur[1]}] has parent {nxt[1]}, not exported"):
                    break
                cur, d = nxt, d + 1
            f.equal(depth.get(k), d, f"{t}:[{k[1]}] depth")
            kids = sum(1 for o in keys if opt(info[o]["parent_inode"]) == k[1])
            f.equal(children.get(k), kids, f"{t}:[{k[1]}] children")

    # What the test made is there, as deep as it was made.
    for level, inode in enumerate(pop.pid_ns, start=1):
        f.equal(depth.get(("pid", inode)), level, f"pid namespace made at depth {level}")
    f.equal(depth.get(("user", pop.user_inner)), 2, "inner user namespace depth")
    return f.finish("guest_scrape")


if __name__ == "__main__":
    sys.exit(main())
