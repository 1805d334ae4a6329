"""What the configuration tests add to the common harness (nsexp_harness):
the shipped examples, the capabilities the exporter keeps, a procfs tree
that holds a collection in flight, and JSON log lines.

The binary comes from NSEXP_BINARY and the shipped examples from
NSEXP_EXAMPLES_DIR, both set by CMake.
"""

import errno
import json
import os
import shutil
import time

EXAMPLES_DIR = os.environ.get("NSEXP_EXAMPLES_DIR", "")

# CAP_DAC_READ_SEARCH (2) and CAP_SYS_PTRACE (19).
KEPT_CAPS = "0000000000080004"
# With collection.sockets also CAP_NET_ADMIN (12), for SIOCGSKNS.
KEPT_CAPS_SOCKETS = "0000000000081004"

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


NOBODY = 65534


def reachable_copy(binary, directory):
    """A copy of the binary, in `directory` made world-readable, that an
    unprivileged user can run whatever the build directory's permissions
    are; returns its path."""
    os.chmod(directory, 0o755)
    copy = os.path.join(directory, os.path.basename(binary))
    shutil.copy(binary, copy)
    os.chmod(copy, 0o755)
    return copy


def as_user(uid, argv, setpriv="setpriv"):
    """argv run by setpriv as uid/gid `uid`, without supplementary groups
    or capabilities."""
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", *argv]
