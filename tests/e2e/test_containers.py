#!/usr/bin/env python3
"""A podman container (made here from a three-file root filesystem, no
image): the exporter attributes its namespaces to it, with container_id
podman://<the id podman inspect prints> and container_runtime podman, one
process in each of its namespaces; and no series lacks a container (host
processes make none). Then, where /usr/bin/prometheus exists, a real
Prometheus scrapes the exporter and a static kube-state-metrics fixture
whose kube_pod_container_info names that container id, and the README's
join query returns the fixture's namespace, pod and container for the
container's net namespace. Skipped without podman or root, or when podman
cannot start a container here."""

import os
import resource
import shutil
import subprocess
import tempfile

import e2e_lib as lib
import nsexp_harness as h

PROMETHEUS = h.PROMETHEUS
# The README's join, verbatim.
JOIN = """linux_namespace_container_processes
  * on(container_id) group_left(namespace, pod, container)
    max by (container_id, namespace, pod, container) (kube_pod_container_info{container_id!=""})"""
# The README's join by pod UID, verbatim: valid PromQL (a podman container
# has no pod, so it returns nothing here).
POD_JOIN = """count by (pod_uid) (linux_namespace_container_processes{type="net"})
  * on(pod_uid) group_left(namespace, pod)
    label_replace(kube_pod_info, "pod_uid", "$1", "uid", "(.+)")"""
POD_UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def ksm_fixture(container_id):
    """What kube-state-metrics would serve for one pod with one container."""
    return (
        "# TYPE kube_pod_info gauge\n"
        f'kube_pod_info{{namespace="team-a",pod="web-0",uid="{POD_UID}",node="n1"}} 1\n'
        "# TYPE kube_pod_container_info gauge\n"
        f'kube_pod_container_info{{namespace="team-a",pod="web-0",uid="{POD_UID}",'
        f'container="web",container_id="{container_id}",image="web:1"}} 1\n'
        # Another pod's container that is not on this host.
        f'kube_pod_container_info{{namespace="team-b",pod="db-0",uid="{POD_UID[::-1]}",'
        f'container="db",container_id="containerd://{"ab" * 32}",image="db:1"}} 1\n')


def check_join(f, exp, container_id, net_inode):
    with tempfile.TemporaryDirectory(prefix="nsexp-e2e-join-") as tmp:
        ksm, ksm_port = h.serve_text(ksm_fixture(container_id))
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as c:
            c.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: linux_namespace_exporter
    static_configs:
      - targets: ["127.0.0.1:{exp.port}"]
  - job_name: kube-state-metrics
    static_configs:
      - targets: ["127.0.0.1:{ksm_port}"]
""")
        prom, base = h.prometheus_server(config, tmp)
        try:
            prom.start()
            def both_up():
                r = h.prometheus_query(base, "up == 1")
                return r is not None and len(r) == 2
            f.check(h.wait_until(both_up, 30, 0.5), "Prometheus scraped the exporter and the fixture")
            rows = []
            def joined():
                rows[:] = h.prometheus_query(base, JOIN) or []
                return any(r["metric"].get("type") == "net" for r in rows)
            f.check(h.wait_until(joined, 15, 0.5), f"the README join returns a net series: {rows}")
            net = [r["metric"] for r in rows if r["metric"].get("type") == "net"]
            if f.check(len(net) == 1, f"one joined net series: {net}"):
                m = net[0]
                f.equal(m.get("inode"), str(net_inode), "joined series is the container's net namespace")
                f.equal((m.get("namespace"), m.get("pod"), m.get("container")),
                        ("team-a", "web-0", "web"), "namespace, pod and container from the fixture")
            f.check(all(r["metric"].get("pod") != "db-0" for r in rows),
                    "the fixture's other pod joins nothing")
            f.equal(h.prometheus_query(base, POD_JOIN), [], "the README's pod UID join runs (no pod here)")
        finally:
            prom.stop(timeout=20)
            ksm.shutdown()


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
    podman, why = h.podman_command(args.source)
    if podman is None:
        h.skip(why)
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
            [*podman, "run", "-d", "--rm", "--cgroup-manager=cgroupfs",
             "--ulimit", f"nofile={soft}:{hard}", "--ulimit", f"nproc={n}:{n}",
             "--network=none", "--rootfs", rootfs, "/bin/sleep", "300"],
            capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            h.skip(f"podman run failed: {run.stderr.strip()[:300]}")
        cid = run.stdout.strip().splitlines()[-1]
        try:
            inspect = subprocess.run([*podman, "inspect", "--format", "{{.Id}} {{.State.Pid}}", cid],
                                     capture_output=True, text=True, timeout=60)
            f.equal(inspect.returncode, 0, "podman inspect")
            full_id, pid = inspect.stdout.split()
            pid = int(pid)
            with lib.Exporter(args.exporter) as exp:
                status, _, body = exp.get("/metrics")
                f.equal(status, 200, "GET /metrics")
                _, samples = h.parse_metrics(body.decode())
                if os.access(PROMETHEUS, os.X_OK):
                    check_join(f, exp, "podman://" + full_id, lib.ns_inode(pid, "net"))
                else:
                    print("no prometheus binary: the join query is not checked")
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
            subprocess.run([*podman, "rm", "-f", "-t", "0", cid], capture_output=True, timeout=120)
    return f.finish("e2e containers")


if __name__ == "__main__":
    h.run_script(main)
