"""Capability trimming and no_new_privs as the kernel reports them for the
running exporter, and an unprivileged start: partial picture, one warning,
no per-process log lines."""

import glob
import os
import re
import shutil
import unittest

from exporter_process import (BINARY, KEPT_CAPS, ExporterTestCase, free_port,
                              value, values)

NEEDED = int(KEPT_CAPS, 16)
NOBODY = 65534


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
        e = self.start([])
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


class UnprivilegedTest(ExporterTestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to switch to an unprivileged user")
        self.setpriv = shutil.which("setpriv")
        if self.setpriv is None:
            self.skipTest("setpriv not installed")
        # A copy the unprivileged user can reach whatever the build
        # directory's permissions are.
        os.chmod(self.dir, 0o755)
        self.binary = os.path.join(self.dir, "linux_namespace_exporter")
        shutil.copy(BINARY, self.binary)
        os.chmod(self.binary, 0o755)

    def start_nobody(self, extra):
        """The exporter as uid/gid 65534 with no capabilities at all."""
        port = free_port()
        argv = ["--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                "--clear-groups", "--inh-caps=-all", self.binary,
                "--web.listen-address=127.0.0.1:%d" % port] + extra
        return self.start(argv, port=port, listen_flag=False,
                          binary=self.setpriv)

    def test_serves_without_capabilities_and_warns_once(self):
        e = self.start_nobody([])
        f = status_fields("/proc/%d/status" % e.proc.pid)
        self.assertEqual(f["Uid"].split()[0], str(NOBODY))
        self.assertEqual(f["CapEff"], "0000000000000000")
        self.assertEqual(f["NoNewPrivs"], "1")

        first = e.scrape()
        warn_after_first = self.warnings(e)
        e.scrape()
        third = e.scrape()
        self.assertGreater(sum(values(third, "linux_namespaces")), 0)
        denied = value(third, "linux_namespace_exporter_scrape_errors_total",
                       reason="permission_denied")
        self.assertGreater(denied, value(
            first, "linux_namespace_exporter_scrape_errors_total",
            reason="permission_denied"))
        self.assertGreaterEqual(denied, 3 * 10,
                                "expected many denied processes")

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
        denied = value(samples, "linux_namespace_exporter_scrape_errors_total",
                       reason="permission_denied")
        self.assertGreaterEqual(denied, 30)
        lines = e.log_lines()
        self.assertLessEqual(len(self.warnings(e)), 2, e.log())
        # All lines: start-up, listening, the warnings; nothing per process.
        self.assertLess(len(lines), 8, e.log())
        self.assertFalse([l for l in lines if re.search(r"\bpid=\d+", l)],
                         e.log())

    def warnings(self, e):
        return [l for l in e.log_lines() if "level=warn" in l]


if __name__ == "__main__":
    unittest.main()
