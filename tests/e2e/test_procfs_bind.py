#!/usr/bin/env python3
"""--path.procfs pointing at a bind mount of /proc (as a container sees the
host's /proc under another path): the exporter still finds every namespace
type and the nested pid namespaces this test made. The bind mount is made
inside a private mount namespace of the exporter's own, so it disappears
with the process whatever happens; the test checks that none is left."""

import os
import subprocess
import tempfile

import e2e_lib as lib
import nsexp_harness as h

TYPES = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}


def main():
    args = lib.parse_args(__doc__)
    h.require_root("bind-mounts /proc and makes pid namespaces")
    f = h.Failures()
    with tempfile.TemporaryDirectory(prefix="nsexp-e2e-procfs-") as tmp:
        target = os.path.join(tmp, "hostproc")
        os.mkdir(target)
        # unshare(1) execs the shell, which execs the exporter: one PID, and
        # the mount namespace (with the bind mount) ends with it.
        argv = ["unshare", "--mount", "--propagation", "private", "--",
                "sh", "-c", 'mount --bind /proc "$1" && exec "$2" --path.procfs="$1" '
                            '--web.listen-address=127.0.0.1:0',
                "sh", target, os.path.abspath(args.exporter)]
        with lib.Population(user=False) as pop, lib.Exporter(args.exporter, argv=argv) as exp:
            f.check(not lib.mounted_at(target), "the bind mount stays out of the test's mount namespace")
            f.check(f"procfs={target}" in exp.log(), "the exporter logs the procfs root it uses")
            status, _, body = exp.get("/metrics")
            f.equal(status, 200, "GET /metrics")
            _, samples = h.parse_metrics(body.decode())
            counts = {l["type"]: v for n, l, v in samples if n == "linux_namespaces"}
            f.equal(set(counts), TYPES, "linux_namespaces types")
            f.check(all(v >= 1 for v in counts.values()), f"every type has a namespace: {counts}")
            scanned = [v for n, _, v in samples if n == "linux_namespace_exporter_processes_scanned"]
            f.check(scanned and scanned[0] > 0, "processes scanned through the bind mount")
            info = {(l["type"], l["inode"]): l for n, l, _ in samples if n == "linux_namespace_info"}
            for k, inode in enumerate(pop.pid_ns):
                l = info.get(("pid", str(inode)))
                if f.check(l is not None, f"pid:[{inode}] (level {k + 1}) reported"):
                    f.equal(l["pid"], str(pop.pid_chain[k]), f"pid label of level {k + 1}")
            status, _, body = exp.get("/tree?format=json")
            f.equal(status, 200, "GET /tree?format=json")
            lib.check_pid_tree_json(f, lib.load_json(f, body.decode(), "tree"), pop, "/tree via bind mount")
            r = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                                'mount --bind /proc "$1" && exec "$2" --path.procfs="$1" tree --format json',
                                "sh", target, os.path.abspath(args.exporter)],
                               capture_output=True, text=True, timeout=60)
            f.equal(r.returncode, 0, f"tree via bind mount exit ({r.stderr.strip()[:300]})")
            lib.check_pid_tree_json(f, lib.load_json(f, r.stdout, "tree cmd"), pop, "tree via bind mount")
        f.check(not lib.mounted_at(target), "no mount left behind")
    return f.finish("e2e procfs bind mount")


if __name__ == "__main__":
    h.run_script(main)
