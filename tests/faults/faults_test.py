#!/usr/bin/env python3
"""Faults: each gives a counted error (scrape_errors_total) and a log line,
never a crash, a leaked fd or a stuck scrape.

- a mountinfo over the size limit (16 MiB): an error, not a silent
  truncation that loses the bind mounts of its tail;
- an unreadable sys/user (the namespace limits);
- RLIMIT_NOFILE at 32 on the real /proc;
- a fixture /proc whose entries go away during the walk.

The fixture trees are fed with --path.procfs. Run by CTest (NSEXP_BINARY
set), or by hand:

    PYTHONPATH=tests/harness NSEXP_BINARY=build/linux_namespace_exporter \\
        python3 tests/faults/faults_test.py
"""

import os
import shutil
import subprocess
import sys
import threading

import nsexp_harness as h

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "config"))
from exporter_process import wait_for_reader  # noqa: E402

NS_TYPES = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"]
ERRORS = "linux_namespace_exporter_scrape_errors_total"
MOUNTINFO_LIMIT = 16 * 1024 * 1024
NSFS_LINE = ("{id} 1 0:4 net:[{inode}] /run/netns/n{id} rw shared:1 - "
             "nsfs nsfs rw\n")
OTHER_LINE = "{id} 1 0:{id} / /mnt/m{id} rw,relatime shared:2 - tmpfs tmpfs rw\n"


def fixture(root, pids=(100,), first_inode=4026531835):
    """A procfs tree: each pid with its eight ns links (distinct inodes per
    pid), a comm and a stat, and sys/user with every limit."""
    for k, pid in enumerate(pids):
        d = os.path.join(root, str(pid))
        os.makedirs(os.path.join(d, "ns"))
        for i, t in enumerate(NS_TYPES):
            os.symlink("%s:[%d]" % (t, first_inode + 8 * k + i),
                       os.path.join(d, "ns", t))
        with open(os.path.join(d, "comm"), "w") as f:
            f.write("fixture\n")
        with open(os.path.join(d, "stat"), "w") as f:
            f.write(f"{pid} (fixture) S 1 {pid} {pid} 0 -1 4194560 0\n")
        with open(os.path.join(d, "mountinfo"), "w") as f:
            f.write(OTHER_LINE.format(id=20))
    user = os.path.join(root, "sys", "user")
    os.makedirs(user)
    for t in NS_TYPES:
        with open(os.path.join(user, f"max_{t}_namespaces"), "w") as f:
            f.write("1000\n")
    return root


def errors(exp):
    e = exp.scrape()
    return {r: h.value(e, ERRORS, reason=r)
            for r in ("vanished", "permission_denied", "other")}, e


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class FaultsTest(h.ExporterTestCase):

    def scrape_twice_same_fds(self, exp):
        """More scrapes leave the exporter with no more fds than before
        them, once the closed connections are gone."""
        exp.scrape()
        h.wait_until(lambda: False, 0.3)
        before = open_fds(exp.proc.pid)
        for _ in range(5):
            exp.scrape()
        settled = h.wait_until(lambda: open_fds(exp.proc.pid) <= before, 5)
        self.assertTrue(settled, f"fds after scrapes: {before} -> "
                        f"{open_fds(exp.proc.pid)}")

    def test_mountinfo_over_the_limit_is_a_counted_error(self):
        root = fixture(os.path.join(self.dir, "proc"))
        exp = self.start(["--path.procfs=" + root])
        small, _ = errors(exp)
        self.assertEqual(small["other"], 0, "a small mountinfo is no error")
        # Over the limit, with the nsfs bind mount in the tail it would lose.
        with open(os.path.join(root, "100", "mountinfo"), "w") as f:
            line, n = OTHER_LINE, 0
            while f.tell() <= MOUNTINFO_LIMIT:
                f.write(line.format(id=1000 + n) * 1000)
                n += 1000
            f.write(NSFS_LINE.format(id=7, inode=4026532999))
        big, _ = errors(exp)
        self.assertGreater(big["other"], 0, "mountinfo over the limit counted")
        self.assertIn("larger than", exp.log(), "the error is logged")
        self.assertIn("errors reading procfs", exp.log())
        self.scrape_twice_same_fds(exp)
        self.assertTrue(exp.alive())

    def test_unreadable_sys_user_is_a_counted_error(self):
        root = fixture(os.path.join(self.dir, "proc"))
        for t in NS_TYPES:
            os.chmod(os.path.join(root, "sys", "user",
                                  f"max_{t}_namespaces"), 0)
        argv = None
        if os.geteuid() == 0:
            # Root reads mode 000 files with CAP_DAC_OVERRIDE; without any
            # capability it is denied like everyone else.
            setpriv = h.require_tool("setpriv", "Debian package util-linux")
            argv = [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--",
                    self.binary, "--web.listen-address=127.0.0.1:0",
                    "--path.procfs=" + root]
        exp = self.start(["--path.procfs=" + root], argv=argv)
        got, e = errors(exp)
        self.assertGreaterEqual(got["permission_denied"], len(NS_TYPES),
                                "each unreadable limit counted")
        self.assertEqual(h.values(e, "linux_namespace_limit"), [],
                         "no limit is reported")
        exp.wait_log("cannot read the namespace limits")
        again, _ = errors(exp)
        self.assertGreater(again["permission_denied"], got["permission_denied"])
        self.assertEqual(
            exp.log().count("cannot read the namespace limits"), 1,
            "logged once while it lasts, not on every scrape")
        self.scrape_twice_same_fds(exp)

    def test_nofile_limit_of_32(self):
        h.require_root("reads every process of the real /proc")
        prlimit = h.require_tool("prlimit", "Debian package util-linux")
        argv = [prlimit, "--nofile=32:32", "--", self.binary,
                "--web.listen-address=127.0.0.1:0"]
        exp = self.start(argv=argv)
        with open(f"/proc/{exp.proc.pid}/limits") as f:
            self.assertRegex(f.read(), r"Max open files\s+32\s+32")
        results = []

        def client(path):
            for _ in range(5):
                status, _, _ = exp.get(path, timeout=30)
                results.append((path, status))

        threads = [threading.Thread(target=client, args=(p,))
                   for p in ("/metrics", "/metrics", "/tree", "/tree?format=json")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), "a stuck scrape")
        bad = [r for r in results if r[1] not in (200, 503)]
        self.assertEqual(bad, [], "every request answered 200 or 503")
        got, _ = errors(exp)
        if got["other"] > 0:
            self.assertIn("errors reading procfs", exp.log(),
                          "counted errors are logged")
        self.assertLessEqual(open_fds(exp.proc.pid), 32)
        self.scrape_twice_same_fds(exp)
        self.assertTrue(exp.alive())
        print(f"RLIMIT_NOFILE=32: errors {got}", file=sys.stderr)

    def test_entries_removed_during_the_walk(self):
        # Pid 100's comm is a pipe: the walk blocks on it with 200 and 300
        # listed; the test then removes 200, truncates 300's stat and
        # releases the walk.
        root = fixture(os.path.join(self.dir, "proc"), pids=(100, 200, 300))
        comm = os.path.join(root, "100", "comm")
        os.unlink(comm)
        os.mkfifo(comm)
        exp = self.start(["--path.procfs=" + root])
        out = []
        t = threading.Thread(target=lambda: out.append(exp.get("/metrics")))
        t.start()
        writer = wait_for_reader(comm, timeout=20)
        self.assertIsNotNone(writer, "the walk reads the pipe")
        shutil.rmtree(os.path.join(root, "200"))
        with open(os.path.join(root, "300", "stat"), "w"):
            pass
        os.write(writer, b"fixture\n")
        os.close(writer)
        t.join(30)
        self.assertFalse(t.is_alive(), "the scrape finished")
        self.assertEqual(out[0][0], 200)
        self.assertTrue(exp.alive())


if __name__ == "__main__":
    h.run_unittest()
