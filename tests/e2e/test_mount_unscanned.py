#!/usr/bin/env python3
"""A mount namespace that no process is in, held only by a bind mount of
its nsfs file (`unshare --mount=FILE true`): the exporter cannot read the
bind mounts inside it and says so, linux_namespace_exporter_mount_namespaces_unscanned
is one more than on the same host without it, and the namespace itself is
reported (linux_namespace_info with an empty pid, one bind_mount holder).
Everything is made inside a private mount namespace of the exporter's own
(unshare(1) execs the shell, which execs the exporter), so it ends with
the exporter; the test checks that nothing is left in its own."""

import os
import tempfile

import e2e_lib as lib
import nsexp_harness as h

UNSCANNED = "linux_namespace_exporter_mount_namespaces_unscanned"
# $1: a directory; $2: the exporter; $3: 1 to make the held mount namespace.
SCRIPT = r'''
set -e
mount -t tmpfs -o size=1m nsexp-e2e "$1"
if [ "$3" = 1 ]; then
    touch "$1/mnt"
    unshare --mount="$1/mnt" true
fi
exec "$2" --web.listen-address=127.0.0.1:0
'''


def scrape(f, exp, what):
    status, _, body = exp.get("/metrics")
    f.equal(status, 200, f"GET /metrics ({what})")
    return h.parse_metrics(body.decode())[1]


def main():
    args = lib.parse_args(__doc__)
    h.require_root("mounts a tmpfs and bind-mounts a mount namespace")
    h.require_tool("unshare", "makes mount namespaces (util-linux)")
    h.require_tool("taskset", "keeps the mount namespaces on one CPU (util-linux)")
    f = h.Failures()
    counts = {}
    with tempfile.TemporaryDirectory(prefix="nsexp-e2e-mnt-") as tmp:
        for held in (0, 1):
            # Linux refuses (EINVAL) to bind-mount a mount namespace into one
            # that is not older (the loop check compares their ids). On
            # 6.18 the ids of mount namespaces made on different CPUs are not
            # in creation order: without the pin, about half of the runs
            # failed here; pinned, none did.
            argv = ["taskset", "-c", "0",
                    "unshare", "--mount", "--propagation", "private", "--",
                    "sh", "-c", SCRIPT, "sh", tmp, os.path.abspath(args.exporter), str(held)]
            with lib.Exporter(args.exporter, argv=argv) as exp:
                samples = scrape(f, exp, f"held={held}")
                values = [v for n, _, v in samples if n == UNSCANNED]
                if not f.check(len(values) == 1, f"one {UNSCANNED} sample (held={held}): {values}"):
                    continue
                counts[held] = values[0]
                if held:
                    with open(f"/proc/{exp.proc.pid}/mountinfo") as m:
                        nsfs = [line.split() for line in m if " - nsfs " in line]
                    mine = [fields for fields in nsfs if fields[4] == f"{tmp}/mnt"]
                    if f.check(len(mine) == 1, f"the exporter's mount namespace lists {tmp}/mnt: {nsfs}"):
                        inode = mine[0][3][len("mnt:["):-1]
                        info = [l for n, l, _ in samples
                                if n == "linux_namespace_info" and l["type"] == "mnt" and l["inode"] == inode]
                        f.check(len(info) == 1 and info[0]["pid"] == "",
                                f"mnt:[{inode}] reported without a process: {info}")
                        holders = [(l, v) for n, l, v in samples if n == "linux_namespace_holders"
                                   and l["type"] == "mnt" and l["inode"] == inode]
                        f.check(any(l["holder"] == "bind_mount" and v >= 1 for l, v in holders),
                                f"mnt:[{inode}] held by a bind mount: {holders}")
            f.check(not lib.mounted_at(tmp), f"no mount left in the test's mount namespace (held={held})")
    if 0 in counts and 1 in counts:
        f.equal(counts[1], counts[0] + 1, f"{UNSCANNED} with the held mount namespace vs without")
    return f.finish("e2e mount namespaces unscanned")


if __name__ == "__main__":
    h.run_script(main)
