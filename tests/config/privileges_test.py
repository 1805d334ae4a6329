"""Capability trimming and no_new_privs as the kernel reports them for the
running exporter, and an unprivileged start: partial picture, one warning,
no per-process log lines.

The unprivileged exporter runs in a pid namespace of its own with a fresh
/proc, beside a known number of processes of another user that it must be
denied: the counts asserted are those the test made, whatever else runs on
the host.
"""

import glob
import os
import re
import shutil
import signal
import socket
import subprocess

from exporter_process import (KEPT_CAPS, KEPT_CAPS_SOCKETS, NOBODY, as_user,
                              reachable_copy)
from nsexp_harness import (ExporterTestCase, run_unittest, value, values,
                           wait_until)

NEEDED = int(KEPT_CAPS, 16)
# Owner of the processes the exporter is denied: neither root nor the
# exporter's own user.
OTHER_UID = 65533
# Processes of OTHER_UID beside the exporter in its pid namespace.
DENIED = 10
DENIED_METRIC = "linux_namespace_exporter_scrape_errors_total"


def status_fields(path):
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            fields[key] = rest.strip()
    return fields


def own_caps():
    return int(status_fields("/proc/self/status")["CapPrm"], 16)


class PrivilegesTest(ExporterTestCase):

    def test_running_exporter_keeps_only_the_two_capabilities(self):
        if os.geteuid() != 0 or own_caps() & NEEDED != NEEDED:
            self.skipTest("needs root with CAP_SYS_PTRACE and "
                          "CAP_DAC_READ_SEARCH")
        e = self.start()
        e.scrape()  # every worker thread has run by now
        # Capabilities are per thread: check the status file of each one
        # (the numbered entries of the per-thread directory of /proc/PID).
        statuses = glob.glob("/proc/%d/ta*/[0-9]*/status" % e.proc.pid)
        self.assertGreater(len(statuses), 1)
        for status in statuses:
            with self.subTest(thread=status):
                f = status_fields(status)
                self.assertEqual(f["CapEff"], KEPT_CAPS)
                self.assertEqual(f["CapPrm"], KEPT_CAPS)
                self.assertEqual(f["CapBnd"], KEPT_CAPS)
                self.assertEqual(f["CapInh"], "0000000000000000")
                self.assertEqual(f["CapAmb"], "0000000000000000")
                self.assertEqual(f["NoNewPrivs"], "1")
        line = [l for l in e.log_lines() if "privileges restricted" in l]
        self.assertEqual(len(line), 1, e.log())
        kept = re.search(r"kept_capabilities=(\S+)", line[0])
        self.assertIsNotNone(kept, line[0])
        self.assertEqual(sorted(kept.group(1).split(",")),
                         ["cap_dac_read_search", "cap_sys_ptrace"])
        self.assertIn("no_new_privs=true", line[0])
        self.assertNotIn("missing capabilities", e.log())

    def thread_statuses(self, e):
        statuses = glob.glob("/proc/%d/ta*/[0-9]*/status" % e.proc.pid)
        self.assertGreater(len(statuses), 1)
        return statuses

    def test_sockets_keep_cap_net_admin_too(self):
        if os.geteuid() != 0 or own_caps() & int(KEPT_CAPS_SOCKETS, 16) != \
                int(KEPT_CAPS_SOCKETS, 16):
            self.skipTest("needs root with CAP_SYS_PTRACE, "
                          "CAP_DAC_READ_SEARCH and CAP_NET_ADMIN")
        path = self.write("exporter.yml", "collection:\n  sockets: true\n")
        e = self.start(["--config.file=" + path, "--log.level=debug"])
        e.scrape()  # every worker thread has run by now
        for status in self.thread_statuses(e):
            with self.subTest(thread=status):
                f = status_fields(status)
                for key in ("CapEff", "CapPrm", "CapBnd"):
                    self.assertEqual(f[key], KEPT_CAPS_SOCKETS, key)
                self.assertEqual(f["CapInh"], "0000000000000000")
                self.assertEqual(f["NoNewPrivs"], "1")
        kept = re.search(r"kept_capabilities=(\S+)", e.log())
        self.assertIsNotNone(kept, e.log())
        self.assertEqual(sorted(kept.group(1).split(",")),
                         ["cap_dac_read_search", "cap_net_admin",
                          "cap_sys_ptrace"])
        # With the capability, no socket is refused SIOCGSKNS (a process
        # whose /proc/PID/fd the host hides may still be denied).
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM):
            e.scrape()
        line, _ = self.socket_summary(e)
        self.assertNotIn("SIOCGSKNS", line)

    def socket_summary(self, e):
        """The socket reader's last debug summary line, and its denials."""
        summary = [l for l in e.log_lines()
                   if "holder summary" in l and "holder=socket" in l]
        self.assertTrue(summary, e.log())
        denied = re.search(r"permission_denied=(\d+)", summary[-1])
        self.assertIsNotNone(denied, summary[-1])
        return summary[-1], int(denied.group(1))

    def test_sockets_switched_on_by_reload_warn_and_count_denied(self):
        if os.geteuid() != 0 or own_caps() & int(KEPT_CAPS_SOCKETS, 16) != \
                int(KEPT_CAPS_SOCKETS, 16):
            self.skipTest("needs root with CAP_SYS_PTRACE, "
                          "CAP_DAC_READ_SEARCH and CAP_NET_ADMIN")
        # The baseline: sockets on from the start, CAP_NET_ADMIN kept.
        on = self.write("on.yml", "collection:\n  sockets: true\n")
        started = self.start(["--config.file=" + on, "--log.level=debug"])
        path = self.write("exporter.yml", "collection:\n  sockets: false\n")
        e = self.start(["--config.file=" + path, "--log.level=debug"])
        e.scrape()
        for status in self.thread_statuses(e):
            self.assertEqual(status_fields(status)["CapEff"], KEPT_CAPS)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("collection:\n  sockets: true\n")
        os.replace(tmp, path)
        e.signal(signal.SIGHUP)
        e.wait_log(r"configuration reloaded")
        warning = [l for l in e.log_lines() if "CAP_NET_ADMIN" in l]
        self.assertEqual(len(warning), 1, e.log())
        self.assertIn("level=warn", warning[0])
        # A socket of this test's process: one process, at least, that the
        # reloaded exporter is refused SIOCGSKNS for and the baseline is not.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM):
            started.scrape()
            e.scrape()
        _, baseline = self.socket_summary(started)
        line, denied = self.socket_summary(e)
        self.assertGreater(denied, baseline, line)
        # Not regained by the reload.
        for status in self.thread_statuses(e):
            self.assertEqual(status_fields(status)["CapEff"], KEPT_CAPS)


def free_low_port():
    """A port below 1024 that 127.0.0.1 can bind now, or None."""
    for port in range(1023, 899, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return None


class LowPortTest(ExporterTestCase):
    """A port below 1024 is bound with CAP_NET_BIND_SERVICE, which no thread
    holds once the exporter serves."""

    def test_low_port_is_bound_then_the_capability_dropped(self):
        if os.geteuid() != 0 or own_caps() & NEEDED != NEEDED:
            self.skipTest("needs root with CAP_SYS_PTRACE and "
                          "CAP_DAC_READ_SEARCH")
        port = free_low_port()
        if port is None:
            self.skipTest("no free port below 1024 on 127.0.0.1")
        e = self.start(port=port)
        self.assertEqual(e.port, port)
        e.scrape()  # every worker thread has run by now
        statuses = glob.glob("/proc/%d/ta*/[0-9]*/status" % e.proc.pid)
        self.assertGreater(len(statuses), 1)
        for status in statuses:
            with self.subTest(thread=status):
                f = status_fields(status)
                for key in ("CapEff", "CapPrm", "CapBnd"):
                    self.assertEqual(f[key], KEPT_CAPS, key)
                self.assertEqual(f["NoNewPrivs"], "1")
        self.assertIn("kept_capabilities=", e.log())
        self.assertNotIn("could not drop", e.log())


class UnprivilegedTest(ExporterTestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to switch to an unprivileged user")
        self.setpriv = shutil.which("setpriv")
        self.unshare = shutil.which("unshare")
        if self.setpriv is None or self.unshare is None:
            self.skipTest("setpriv or unshare not installed (util-linux)")
        probe = subprocess.run([self.unshare, "--pid", "--fork", "--mount-proc",
                                "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            self.skipTest("cannot make a pid namespace with its own /proc: " +
                          probe.stderr.strip())
        self.binary_copy = reachable_copy(self.binary, self.dir)

    def start_nobody(self, extra):
        """The exporter as uid/gid 65534 with no capabilities, as PID 1 of a
        new pid namespace whose only other processes are DENIED sleepers of
        OTHER_UID. Killing the unshare process ends the whole namespace."""
        sleeper = " ".join(as_user(OTHER_UID, ["sleep", "600"], self.setpriv))
        script = ('i=0; while [ "$i" -lt %d ]; do %s & i=$((i+1)); done; '
                  'exec "$@"' % (DENIED, sleeper))
        exporter = as_user(NOBODY, [self.binary_copy,
                                    "--web.listen-address=127.0.0.1:0",
                                    *extra], self.setpriv)
        argv = [self.unshare, "--pid", "--fork", "--kill-child", "--mount-proc",
                "--", "sh", "-c", script, "sh", *exporter]
        e = self.start(argv=argv)
        e.pid = wait_until(lambda: self.only_child(e.proc.pid), 10)
        self.assertIsNotNone(e.pid, "no exporter below unshare")
        # The sleepers were forked before the exporter started; wait until
        # each has switched to OTHER_UID and runs sleep.
        self.assertTrue(wait_until(lambda: self.sleepers_ready(e.pid), 10),
                        self.children(e.pid))
        return e

    def sleepers_ready(self, pid):
        kids = self.children(pid)
        try:
            return len(kids) == DENIED and all(
                status_fields("/proc/%d/status" % k)["Uid"].split()[0] == str(OTHER_UID)
                and status_fields("/proc/%d/status" % k)["Name"] == "sleep"
                for k in kids)
        except OSError:
            return False

    @staticmethod
    def children(pid):
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def only_child(self, pid):
        kids = self.children(pid)
        return kids[0] if len(kids) == 1 else None

    def test_serves_without_capabilities_and_warns_once(self):
        e = self.start_nobody([])
        f = status_fields("/proc/%d/status" % e.pid)
        self.assertEqual(f["Uid"].split()[0], str(NOBODY))
        self.assertEqual(f["CapEff"], "0000000000000000")
        self.assertEqual(f["NoNewPrivs"], "1")

        first = e.scrape()
        warn_after_first = self.warnings(e)
        e.scrape()
        third = e.scrape()
        self.assertGreater(sum(values(third, "linux_namespaces")), 0)
        # Each scrape is denied exactly the test's processes of OTHER_UID.
        self.assertEqual(value(first, DENIED_METRIC, reason="permission_denied"),
                         DENIED)
        self.assertEqual(value(third, DENIED_METRIC, reason="permission_denied"),
                         3 * DENIED)
        self.assertEqual(value(third, "linux_namespace_exporter_processes_scanned"),
                         1 + DENIED)

        missing = [l for l in e.log_lines()
                   if "missing_capabilities=" in l]
        self.assertEqual(len(missing), 1, e.log())
        self.assertIn("level=warn", missing[0])
        self.assertIn("cap_sys_ptrace", missing[0])
        self.assertIn("cap_dac_read_search", missing[0])
        # Nothing new after the first scrape: not one warning per scrape.
        self.assertEqual(self.warnings(e), warn_after_first, e.log())
        self.assertLessEqual(len(self.warnings(e)), 2, e.log())

    def test_denied_processes_are_not_logged_one_line_each(self):
        e = self.start_nobody(["--log.level=info"])
        for _ in range(3):
            samples = e.scrape()
        self.assertEqual(value(samples, DENIED_METRIC, reason="permission_denied"),
                         3 * DENIED)
        lines = e.log_lines()
        self.assertLessEqual(len(self.warnings(e)), 2, e.log())
        # All lines: start-up, listening, the warnings; nothing per process.
        self.assertLess(len(lines), 8, e.log())
        self.assertFalse([l for l in lines if re.search(r"\bpid=\d+", l)],
                         e.log())

    def warnings(self, e):
        return [l for l in e.log_lines() if "level=warn" in l]


if __name__ == "__main__":
    run_unittest()
