#!/usr/bin/env python3
"""A podman container (made here from a three-file root filesystem, no
image): the exporter attributes its namespaces to it, with container_id
podman://<the id podman inspect prints> and container_runtime podman, one
process in each of its namespaces; and no series lacks a container (host
processes make none). Skipped without podman or root, or when podman cannot
start a container here."""

import os
import resource
import shutil
import subprocess
import tempfile

import e2e_lib as lib
import nsexp_harness as h

PODMAN = shutil.which("podman")


def nproc_limit():
    # As tests/container/check_image.sh: limits at or below the shell's, so
    # that runc never has to raise one (no CAP_SYS_RESOURCE needed).
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    return pid_max if hard == resource.RLIM_INFINITY or hard > pid_max else hard


def main():
    args = lib.parse_args(__doc__)
    h.require_root("runs a podman container")
    if PODMAN is None:
        h.skip("no podman")
    f = h.Failures()
    with tempfile.TemporaryDirectory(prefix="nsexp-e2e-rootfs-") as rootfs:
        for src in ["/bin/sleep", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]:
            if not os.path.exists(src):
                h.skip(f"no {src} to build a root filesystem from")
            dst = os.path.join(rootfs, src.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        n = nproc_limit()
        run = subprocess.run(
            [PODMAN, "run", "-d", "--rm", "--cgroup-manager=cgroupfs",
             "--ulimit", f"nofile={soft}:{hard}", "--ulimit", f"nproc={n}:{n}",
             "--network=none", "--rootfs", rootfs, "/bin/sleep", "300"],
            capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            h.skip(f"podman run failed: {run.stderr.strip()[:300]}")
        cid = run.stdout.strip().splitlines()[-1]
        try:
            inspect = subprocess.run([PODMAN, "inspect", "--format", "{{.Id}} {{.State.Pid}}", cid],
                                     capture_output=True, text=True, timeout=60)
            f.equal(inspect.returncode, 0, "podman inspect")
            full_id, pid = inspect.stdout.split()
            pid = int(pid)
            with lib.Exporter(args.exporter) as exp:
                status, _, body = exp.get("/metrics")
                f.equal(status, 200, "GET /metrics")
                _, samples = h.parse_metrics(body.decode())
            series = [(l, v) for n, l, v in samples if n == "linux_namespace_container_processes"]
            mine = [(l, v) for l, v in series if l["container_id"] == "podman://" + full_id]
            by_type = {l["type"]: (l, v) for l, v in mine}
            for t in ("net", "pid", "mnt", "uts", "ipc"):
                if not f.check(t in by_type, f"{t} namespace attributed to the container"):
                    continue
                l, v = by_type[t]
                f.equal(l["inode"], str(lib.ns_inode(pid, t)), f"{t} inode is the container's")
                f.equal(l["container_runtime"], "podman", f"{t} runtime")
                f.equal(l["pod_uid"], "", f"{t} pod_uid outside Kubernetes")
                f.equal(v, 1.0, f"{t}: one process of the container")
            f.equal(len(mine), len(by_type), "one series per namespace of the container")
            f.check(all(l["container_id"] for l, _ in series), "no series without a container")
        finally:
            subprocess.run([PODMAN, "rm", "-f", "-t", "0", cid], capture_output=True, timeout=120)
    return f.finish("e2e containers")


if __name__ == "__main__":
    h.run_script(main)
