"""SIGTERM and SIGINT: a scrape in flight completes with 200, then the
exporter exits 0 within 5 s and new connections are refused.

The scrape is held in flight deterministically: the exporter runs on a small
procfs tree whose only process has a named pipe as its "comm", so the
collection blocks reading it until the test writes a name into the pipe.
The test writes only after the exporter has logged that it is shutting
down, so a 200 answer naming the pipe's process proves that the scrape in
flight outlived the start of the shutdown; no sleep decides anything.
"""

import os
import signal
import threading
import time

from exporter_process import make_blocking_procfs, wait_for_reader
from nsexp_harness import (ExporterTestCase, connect_refused, parse_metrics,
                           run_unittest)


class ShutdownTest(ExporterTestCase):

    def stop_during_scrape(self, sig, name):
        root, fifo = make_blocking_procfs(self.dir)
        e = self.start(["--path.procfs=" + root])
        result = {}

        def scrape():
            try:
                result["status"], _, result["body"] = e.get(timeout=30)
            except Exception as err:  # reported by the assertions below
                result["error"] = repr(err)

        scraper = threading.Thread(target=scrape)
        scraper.start()
        writer = None
        try:
            writer = wait_for_reader(fifo)
            self.assertIsNotNone(writer, "the scrape never reached the "
                                 "collection")
            e.signal(sig)
            signalled = time.monotonic()
            e.wait_log(r"shutting down.*%s" % name)
            # The shutdown has begun and the collection still waits on the
            # pipe, so the scrape cannot have been answered yet; whether it
            # survives the shutdown is decided by its answer, which names
            # "slowproc" only if it was collected after this write.
            self.assertTrue(scraper.is_alive(),
                            "the scrape ended before the collection did: %r"
                            % result)
            self.assertIsNone(e.proc.poll(), "exited with a scrape in flight")
            os.write(writer, b"slowproc\n")
        finally:
            if writer is not None:
                os.close(writer)
            else:
                # Unblock the exporter whatever happened.
                try:
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass
        scraper.join(timeout=30)
        self.assertFalse(scraper.is_alive())
        self.assertNotIn("error", result, result.get("error"))
        self.assertEqual(result.get("status"), 200)
        samples = parse_metrics(result["body"].decode())
        self.assertIn({"type": "net", "inode": "4026531838", "ns_id": "",
                       "parent_inode": "", "owner_inode": "", "owner_uid": "",
                       "pid": "100", "command": "slowproc"},
                      [s.labels for s in samples.samples
                       if s.name == "linux_namespace_info"])

        remaining = 5 - (time.monotonic() - signalled)
        try:
            code = e.proc.wait(timeout=max(remaining, 0.1))
        except Exception:
            self.fail("still running 5 s after %s: %s" % (name, e.log()))
        self.assertEqual(code, 0, e.log())
        self.assertTrue(connect_refused(e.port))
        self.assertRegex(e.log(), r"msg=stopped")

    def test_sigterm_completes_the_scrape_in_flight(self):
        self.stop_during_scrape(signal.SIGTERM, "SIGTERM")

    def test_sigint_completes_the_scrape_in_flight(self):
        self.stop_during_scrape(signal.SIGINT, "SIGINT")

    def test_idle_exporter_exits_promptly(self):
        for sig, name in ((signal.SIGTERM, "SIGTERM"),
                          (signal.SIGINT, "SIGINT")):
            with self.subTest(signal=name):
                e = self.start([])
                e.scrape()
                start = time.monotonic()
                e.signal(sig)
                self.assertEqual(e.proc.wait(timeout=5), 0, e.log())
                self.assertLess(time.monotonic() - start, 5)
                self.assertTrue(connect_refused(e.port))
                self.assertRegex(e.log(), r"shutting down.*signal=" + name)


if __name__ == "__main__":
    run_unittest()
