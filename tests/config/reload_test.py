"""SIGHUP reloads and min_interval, on the real binary over HTTP."""

import errno
import os
import signal
import threading
import time

from exporter_process import make_blocking_procfs, wait_for_reader
from nsexp_harness import (ExporterTestCase, parse_metrics, run_unittest,
                           value, values)

OK = "linux_namespace_exporter_config_last_reload_successful"
TS = "linux_namespace_exporter_config_last_reload_success_timestamp_seconds"
DURATION = "linux_namespace_exporter_scrape_duration_seconds"


class ReloadTest(ExporterTestCase):

    def replace(self, path, text):
        """Writes the file whole, so that a reload never sees half of it."""
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)

    def test_valid_reload_takes_effect_for_the_next_scrape(self):
        path = self.write("exporter.yml",
                          "metrics:\n  per_namespace_series: true\n")
        e = self.start(["--config.file=" + path])
        before = e.scrape()
        self.assertGreater(len(values(before, "linux_namespace_info")), 0)
        self.assertEqual(value(before, OK), 1)
        t0 = value(before, TS)
        self.assertGreater(t0, 1e9)

        time.sleep(0.05)
        self.replace(path, "metrics:\n  per_namespace_series: false\n")
        e.signal(signal.SIGHUP)
        e.wait_log(r"configuration reloaded")
        after = e.scrape()
        self.assertEqual(values(after, "linux_namespace_info"), [])
        self.assertEqual(values(after, "linux_namespace_processes"), [])
        self.assertGreater(sum(values(after, "linux_namespaces")), 0)
        self.assertTrue(values(after, "linux_namespaces_by_depth"))
        self.assertEqual(value(after, OK), 1)
        self.assertGreater(value(after, TS), t0)
        self.assertIsNone(e.proc.poll())

    def test_invalid_reload_keeps_the_running_configuration(self):
        good = "metrics:\n  per_namespace_series: true\n"
        path = self.write("exporter.yml", good)
        e = self.start(["--config.file=" + path])
        before = e.scrape()
        info_before = len(values(before, "linux_namespace_info"))
        self.assertGreater(info_before, 0)
        t0 = value(before, TS)

        # Valid up to line 4: a partly applied file would drop the series.
        self.replace(path, "metrics:\n  per_namespace_series: false\n"
                     "collection:\n  min_interval: forever\n")
        e.signal(signal.SIGHUP)
        e.wait_log(r"configuration reload failed")
        failed_line = [l for l in e.log_lines() if "reload failed" in l][0]
        self.assertIn("level=error", failed_line)
        self.assertIn(path + ":4:17: ", failed_line)
        self.assertIn("want a duration", failed_line)
        self.assertIn("keeping the running configuration", failed_line)

        after = e.scrape()
        self.assertGreater(len(values(after, "linux_namespace_info")), 0,
                           "the invalid file was partly applied")
        self.assertEqual(value(after, OK), 0)
        self.assertEqual(value(after, TS), t0)
        # Still 0 on the following scrapes, until a reload succeeds.
        self.assertEqual(value(e.scrape(), OK), 0)

        self.replace(path, good)
        e.signal(signal.SIGHUP)
        e.wait_log(r"configuration reloaded")
        fixed = e.scrape()
        self.assertEqual(value(fixed, OK), 1)
        self.assertGreater(value(fixed, TS), t0)

    def test_unreadable_file_on_reload_keeps_running(self):
        path = self.write("exporter.yml", "")
        e = self.start(["--config.file=" + path])
        e.scrape()
        os.unlink(path)
        e.signal(signal.SIGHUP)
        e.wait_log(r"configuration reload failed.*" + os.path.basename(path))
        self.assertEqual(value(e.scrape(), OK), 0)
        self.assertIsNone(e.proc.poll())

    def test_reload_applies_the_log_level(self):
        path = self.write("exporter.yml", "log:\n  level: info\n")
        e = self.start(["--config.file=" + path])
        e.scrape()
        self.assertNotIn("scan summary", e.log())
        self.replace(path, "log:\n  level: debug\n")
        e.signal(signal.SIGHUP)
        e.wait_log(r"configuration reloaded")
        e.scrape()
        e.wait_log(r"scan summary")

    def test_reload_of_the_listen_address_warns_and_keeps_listening(self):
        path = self.write("exporter.yml", "")
        e = self.start(["--config.file=" + path])
        self.replace(path, "web:\n  telemetry_path: /elsewhere\n")
        e.signal(signal.SIGHUP)
        e.wait_log(r"configuration reloaded")
        e.wait_log(r"level=warn.*next start")
        self.assertTrue(values(e.scrape(), "linux_namespaces"))


class MinIntervalTest(ExporterTestCase):

    def test_scrapes_within_min_interval_share_one_scan(self):
        # Every scan blocks on the pipe until a feeder answers, so a scrape
        # that returns without one provably did not scan.
        root, fifo = make_blocking_procfs(self.dir)
        path = self.write("exporter.yml", "collection:\n  min_interval: 1h\n")
        e = self.start(["--config.file=" + path, "--path.procfs=" + root])
        first = self.scrape_with_one_scan(e, fifo)
        second = self.scrape_without_scan(e, fifo)
        self.assertEqual(value(first, DURATION), value(second, DURATION))
        self.assertEqual(
            value(first, "linux_namespace_exporter_processes_scanned"),
            value(second, "linux_namespace_exporter_processes_scanned"))

        # A reload drops the shared result: the next scrape scans again,
        # and the one after it shares that scan.
        e.signal(signal.SIGHUP)
        e.wait_log(r"configuration reloaded")
        self.scrape_with_one_scan(e, fifo)
        self.scrape_without_scan(e, fifo)

    def scrape_with_one_scan(self, e, fifo):
        """A scrape during which exactly one scan reads the pipe."""
        fed = []
        feeder = threading.Thread(target=lambda: fed.append(self.feed(fifo)))
        feeder.start()
        try:
            parsed = e.scrape(timeout=30)
        finally:
            feeder.join(timeout=30)
        self.assertEqual(fed, [True], "the scrape did not scan")
        self.assert_no_scan_waiting(fifo)
        return parsed

    def scrape_without_scan(self, e, fifo):
        """A scrape that must not scan: a scan would wait on the pipe,
        which nobody answers, and the scrape would time out."""
        try:
            parsed = e.scrape(timeout=10)
        except OSError as err:
            self.release(fifo)
            self.fail("the scrape scanned instead of sharing: %r" % err)
        self.assert_no_scan_waiting(fifo)
        return parsed

    def assert_no_scan_waiting(self, fifo):
        """Nobody has the pipe open for reading: no scan is in flight."""
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError as err:
            self.assertEqual(err.errno, errno.ENXIO)
            return
        self.fail("a scan is waiting on the pipe")

    def release(self, fifo):
        """Unblocks a scan waiting on the pipe, if any."""
        writer = wait_for_reader(fifo, timeout=1)
        if writer is not None:
            os.write(writer, b"slowproc\n")
            os.close(writer)

    def test_reload_during_a_scan_is_not_lost_to_min_interval(self):
        root, fifo = make_blocking_procfs(self.dir)
        path = self.write("exporter.yml", "collection:\n  min_interval: 1h\n")
        e = self.start(["--config.file=" + path, "--path.procfs=" + root])
        result = {}

        def scrape():
            result["status"], _, result["body"] = e.get(timeout=30)

        scraper = threading.Thread(target=scrape)
        scraper.start()
        writer = wait_for_reader(fifo)
        try:
            self.assertIsNotNone(writer, "the scrape never started a scan")
            with open(path, "w") as f:
                f.write("collection:\n  min_interval: 1h\n"
                        "metrics:\n  per_namespace_series: false\n")
            e.signal(signal.SIGHUP)
            e.wait_log(r"configuration reloaded")
            os.write(writer, b"slowproc\n")
        finally:
            if writer is not None:
                os.close(writer)
        scraper.join(timeout=30)
        self.assertEqual(result.get("status"), 200)
        # That scan ran under the old options...
        self.assertTrue(values(parse_metrics(result["body"].decode()),
                               "linux_namespace_info"))
        # ...and must not stand for the new ones for the next hour.
        threading.Thread(target=self.feed, args=(fifo,), daemon=True).start()
        after = e.scrape()
        self.assertEqual(values(after, "linux_namespace_info"), [],
                         "the reload was lost to the min_interval cache")

    def feed(self, fifo):
        """Answers the next read of the pipe, if one comes; True if one
        came."""
        writer = wait_for_reader(fifo, timeout=20)
        if writer is None:
            return False
        os.write(writer, b"slowproc\n")
        os.close(writer)
        return True

    def test_without_min_interval_every_scrape_scans(self):
        e = self.start(["--log.level=debug"])
        e.scrape()
        e.scrape()
        e.scrape()
        e.wait_log(r"scan summary", count=3)


if __name__ == "__main__":
    run_unittest()
