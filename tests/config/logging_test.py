"""--log.format=json (from the flag or the file): every stderr line of a
running exporter is one JSON object with ts, level and msg."""

import os
import re
import shutil
import signal

from exporter_process import NOBODY, as_user, json_lines, reachable_copy
from nsexp_harness import ExporterTestCase, run_unittest, values

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


class JsonLogTest(ExporterTestCase):

    def check_json(self, text):
        self.assertTrue(text.strip(), "nothing was logged")
        try:
            objects = json_lines(text)
        except ValueError as err:
            self.fail("not JSON (%s):\n%s" % (err, text))
        for obj in objects:
            self.assertIsInstance(obj, dict, obj)
            for key in ("ts", "level", "msg"):
                self.assertIn(key, obj)
                self.assertIsInstance(obj[key], str)
            self.assertRegex(obj["ts"], TS)
            self.assertIn(obj["level"], ("debug", "info", "warn", "error"))
            self.assertTrue(obj["msg"])
        return objects

    def test_every_line_is_json_through_a_whole_life(self):
        path = self.write("exporter.yml", "log:\n  level: debug\n")
        e = self.start(["--config.file=" + path, "--log.format=json"])
        e.scrape()
        e.scrape()
        e.signal(signal.SIGHUP)
        e.wait_log(r'"configuration reloaded"')
        with open(path, "w") as f:
            f.write("log:\n  level: \"debug\"\n  colour: true\n")
        e.signal(signal.SIGHUP)
        e.wait_log(r'"configuration reload failed')
        e.scrape()
        e.signal(signal.SIGTERM)
        self.assertEqual(e.proc.wait(timeout=10), 0)
        objects = self.check_json(e.log())
        levels = {o["level"] for o in objects}
        self.assertTrue({"debug", "info", "error"} <= levels, levels)
        msgs = [o["msg"] for o in objects]
        for want in ("listening", "scan summary", "configuration reloaded",
                     "shutting down", "stopped"):
            self.assertIn(want, msgs)
        failed = [o for o in objects if o["msg"].startswith(
            "configuration reload failed")][0]
        # The reason, with its position, survives JSON escaping intact.
        self.assertIn(path + ":3:3: ", failed.get("err", ""))
        self.assertIn('unknown key "colour"', failed.get("err", ""))

    def test_format_from_the_file(self):
        path = self.write("exporter.yml", "log:\n  format: json\n")
        e = self.start(["--config.file=" + path])
        self.assertTrue(values(e.scrape(), "linux_namespaces"))
        objects = self.check_json(e.log())
        self.assertIn("listening", [o["msg"] for o in objects])

    def test_flag_wins_over_the_file_format(self):
        path = self.write("exporter.yml", "log:\n  format: json\n")
        e = self.start(["--config.file=" + path, "--log.format=logfmt"])
        e.scrape()
        for line in e.log_lines():
            self.assertTrue(line.startswith("ts="), line)

    def test_warnings_of_an_unprivileged_start_are_json(self):
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or setpriv is None:
            self.skipTest("needs root and setpriv")
        binary = reachable_copy(self.binary, self.dir)
        e = self.start(argv=as_user(NOBODY, [
            binary, "--web.listen-address=127.0.0.1:0", "--log.format=json"],
            setpriv))
        for _ in range(3):
            e.scrape()
        objects = self.check_json(e.log())
        warns = [o for o in objects if o["level"] == "warn"]
        self.assertGreaterEqual(len(warns), 1, e.log())
        self.assertLessEqual(len(warns), 2, e.log())
        self.assertEqual(
            len([o for o in objects if "missing_capabilities" in o]), 1)


if __name__ == "__main__":
    run_unittest()
