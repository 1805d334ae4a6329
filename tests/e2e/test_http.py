#!/usr/bin/env python3
"""The built exporter on 127.0.0.1, scraped over HTTP: every metric family
of the design with its label names, series of all eight namespace types,
promtool check metrics, the landing and health endpoints, 404 for unknown
paths, and /tree plus the `tree` subcommand showing the namespaces this
test made (three nested pid namespaces, two nested user namespaces), in
text and JSON, with the kernel's NStgid lists."""

import os
import re
import unittest

import e2e_lib as lib
import nsexp_harness as h

TYPES = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}
NS_LABELS = {"type", "inode"}
# family -> (type, label names), as DESIGN.md lists them.
FAMILIES = {
    "linux_namespace_info": ("gauge", {"type", "inode", "ns_id", "parent_inode", "owner_inode",
                                       "owner_uid", "pid", "command"}),
    "linux_namespace_processes": ("gauge", NS_LABELS),
    "linux_namespace_depth": ("gauge", NS_LABELS),
    "linux_namespace_children": ("gauge", NS_LABELS),
    "linux_namespaces": ("gauge", {"type"}),
    "linux_namespace_limit": ("gauge", {"type"}),
    "linux_namespace_exporter_build_info": ("gauge", {"version", "revision"}),
    "linux_namespace_exporter_scrape_duration_seconds": ("gauge", set()),
    "linux_namespace_exporter_processes_scanned": ("gauge", set()),
    "linux_namespace_exporter_mount_namespaces_unscanned": ("gauge", set()),
    "linux_namespace_exporter_scrape_errors_total": ("counter", {"reason"}),
    "process_cpu_seconds_total": ("counter", set()),
    "process_resident_memory_bytes": ("gauge", set()),
    "process_open_fds": ("gauge", set()),
    "process_max_fds": ("gauge", set()),
    "process_start_time_seconds": ("gauge", set()),
}


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_total", "_count", "_sum", "_bucket"):
        if name.endswith(suffix) and name[: -len(suffix)] in types:
            return name[: -len(suffix)]
    return name


def check_metrics(f, text, pop):
    types, samples = h.parse_metrics(text)
    by_family = {}
    for name, labels, value in samples:
        by_family.setdefault(family_of(name, types), []).append((labels, value))
    for family, (mtype, label_names) in FAMILIES.items():
        # prometheus-cpp names the counter family with or without _total.
        declared = types.get(family) or types.get(family[: -len("_total")] if family.endswith("_total") else "")
        f.equal(declared, mtype, f"# TYPE of {family}")
        series = by_family.get(family) or by_family.get(family[: -len("_total")], [])
        if not f.check(series, f"{family}: no series"):
            continue
        for labels, _ in series:
            if not f.equal(set(labels), label_names, f"{family}: label names"):
                break

    def series_of(family):
        return by_family.get(family, [])

    for family in ("linux_namespace_info", "linux_namespace_processes", "linux_namespaces",
                   "linux_namespace_limit"):
        f.equal({l["type"] for l, _ in series_of(family)}, TYPES, f"{family}: types")
    for family in ("linux_namespace_depth", "linux_namespace_children"):
        f.equal({l["type"] for l, _ in series_of(family)}, {"pid", "user"}, f"{family}: types")
    reasons = {l["reason"] for l, _ in series_of("linux_namespace_exporter_scrape_errors_total")}
    f.equal(reasons, {"vanished", "permission_denied", "other"}, "scrape error reasons")
    for labels, value in series_of("linux_namespace_exporter_build_info"):
        f.check(labels["version"] and labels["revision"], f"build_info labels {labels}")
        f.equal(value, 1.0, "build_info value")
    f.check(all(v > 0 for _, v in series_of("linux_namespace_exporter_processes_scanned")),
            "processes_scanned > 0")

    # The namespaces this test made, exactly as the kernel says.
    info = {(l["type"], int(l["inode"])): l for l, _ in series_of("linux_namespace_info")}
    procs = {(l["type"], int(l["inode"])): v for l, v in series_of("linux_namespace_processes")}
    depth = {(l["type"], int(l["inode"])): v for l, v in series_of("linux_namespace_depth")}
    kids = {(l["type"], int(l["inode"])): v for l, v in series_of("linux_namespace_children")}
    self_pid, self_user = lib.ns_inode(os.getpid(), "pid"), lib.ns_inode(os.getpid(), "user")
    chain = [self_pid] + pop.pid_ns
    for k in range(1, len(chain)):
        key = ("pid", chain[k])
        if not f.check(key in info, f"linux_namespace_info for pid:[{chain[k]}]"):
            continue
        f.equal(info[key]["parent_inode"], str(chain[k - 1]), f"parent_inode of pid level {k}")
        f.equal(info[key]["owner_inode"], str(self_user), f"owner_inode of pid level {k}")
        f.equal(info[key]["pid"], str(pop.pid_chain[k - 1]), f"pid label of pid level {k}")
        f.equal(info[key]["command"], lib.comm(pop.pid_chain[k - 1]), f"command of pid level {k}")
        f.equal(procs.get(key), 1.0, f"processes of pid level {k}")
        f.equal(depth.get(key), depth.get(("pid", self_pid), -99) + k, f"depth of pid level {k}")
        f.equal(kids.get(key), 1.0 if k < len(chain) - 1 else 0.0, f"children of pid level {k}")
    for inode, parent, pid in ((pop.user_outer, self_user, pop.user_outer_pid),
                               (pop.user_inner, pop.user_outer, pop.user_inner_pid)):
        key = ("user", inode)
        if not f.check(key in info, f"linux_namespace_info for user:[{inode}]"):
            continue
        f.equal(info[key]["parent_inode"], str(parent), f"parent_inode of user:[{inode}]")
        f.equal(info[key]["owner_inode"], str(parent), f"owner_inode of user:[{inode}]")
        f.equal(info[key]["owner_uid"], "0", f"owner_uid of user:[{inode}]")
        f.equal(info[key]["pid"], str(pid), f"pid label of user:[{inode}]")
        f.equal(procs.get(key), 1.0, f"processes of user:[{inode}]")
    f.equal(depth.get(("user", pop.user_inner)), depth.get(("user", self_user), -99) + 2,
            "depth of the inner user namespace")
    f.equal(kids.get(("user", pop.user_outer)), 1.0, "children of the outer user namespace")


def main():
    args = lib.parse_args(__doc__)
    h.require_root("makes pid and user namespaces and reads every process's ns links")
    f = h.Failures()
    with lib.Population() as pop, lib.Exporter(args.exporter) as exp:
        status, headers, body = exp.get("/metrics")
        f.equal(status, 200, "GET /metrics")
        f.check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
                f"/metrics Content-Type {headers.get('Content-Type')}")
        text = body.decode("utf-8")
        check_metrics(f, text, pop)
        try:
            pt = h.promtool("check", "metrics", input=text)
            f.check(pt.returncode == 0, f"promtool check metrics: {pt.stdout}{pt.stderr}")
        except unittest.SkipTest as e:
            f.skip(f"promtool check metrics: {e}")

        for path in ("/", "/-/healthy", "/-/ready"):
            f.equal(exp.get(path)[0], 200, f"GET {path}")
        status, _, landing = exp.get("/")
        f.check(b'href="/metrics"' in landing, "landing page links /metrics")
        f.equal(exp.get("/no/such/path")[0], 404, "GET /no/such/path")
        f.equal(exp.get("/metricsx")[0], 404, "GET /metricsx")
        status, _, body = exp.get("/tree?type=bogus")
        f.equal(status, 400, "GET /tree?type=bogus")
        f.check(b"cgroup, ipc, mnt, net, pid, time, user or uts" in body,
                "400 for /tree names every namespace type")

        status, headers, body = exp.get("/tree?format=json")
        f.equal(status, 200, "GET /tree?format=json")
        f.check(headers.get("Content-Type", "").startswith("application/json"), "JSON content type")
        lib.check_pid_tree_json(f, lib.load_json(f, body.decode(), "/tree json"), pop, "/tree json")
        status, _, body = exp.get("/tree")
        f.equal(status, 200, "GET /tree")
        lib.check_pid_tree_text(f, body.decode(), pop, "/tree text")
        status, _, body = exp.get("/tree?type=pid&format=text")
        lib.check_pid_tree_text(f, body.decode(), pop, "/tree?type=pid&format=text")
        status, _, body = exp.get("/tree?type=user&format=json")
        f.equal(status, 200, "GET /tree?type=user&format=json")
        lib.check_user_tree_json(f, lib.load_json(f, body.decode(), "user json"), pop, "/tree?type=user")
        status, _, body = exp.get("/tree?type=user")
        text = body.decode()
        for inode in (pop.user_outer, pop.user_inner):
            f.check(f"user:[{inode}]" in text, f"/tree?type=user text lists user:[{inode}]")

        rc, out, err = lib.run_tree(args.exporter, "pid", "json")
        f.equal(rc, 0, f"tree --type pid --format json exit ({err.strip()})")
        lib.check_pid_tree_json(f, lib.load_json(f, out, "tree json"), pop, "tree subcommand json")
        rc, out, err = lib.run_tree(args.exporter, "pid", "text")
        f.equal(rc, 0, "tree --type pid --format text exit")
        lib.check_pid_tree_text(f, out, pop, "tree subcommand text")
        # A partial picture (PID 1 may be protected) is worded for its count.
        for line in err.splitlines():
            if "could not be inspected" in line:
                f.check(re.search(r": (1 process|([02-9]|\d\d+) processes) could not", line)
                        is not None, f"tree stderr counts in words: {line}")
        rc, out, err = lib.run_tree(args.exporter, "user", "json")
        f.equal(rc, 0, "tree --type user --format json exit")
        lib.check_user_tree_json(f, lib.load_json(f, out, "tree user json"), pop, "tree --type user")
        f.check(exp.alive(), "exporter still running")
    return f.finish("e2e http")


if __name__ == "__main__":
    h.run_script(main)
