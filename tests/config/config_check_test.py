"""--config.check on the shipped examples and on broken files, and flags
overriding the file, on the real binary."""

import glob
import os
import re

from exporter_process import EXAMPLES_DIR
from nsexp_harness import (ExporterTestCase, connect_refused, free_port,
                           run_unittest, values)

# (file name, content, line:column, words expected after the position)
INVALID = [
    ("unknown-key.yml", "web:\n  listen_address: \"127.0.0.1:1\"\nwebb: {}\n",
     "3:1", ["unknown key \"webb\""]),
    ("unknown-nested-key.yml", "collection:\n  min_intervall: 5s\n", "2:3",
     ["unknown key \"min_intervall\"", "collection"]),
    ("list-for-mapping.yml", "metrics:\n  - per_namespace_series\n", "2:3",
     ["metrics", "want a mapping"]),
    ("mapping-for-bool.yml", "metrics:\n  per_namespace_series: {a: 1}\n",
     "2:25", ["want true or false"]),
    ("maybe-for-bool.yml", "collection:\n  exclude_kernel_threads: maybe\n",
     "2:27", ["found \"maybe\", want true or false"]),
    ("duplicate-key.yml", "log:\n  level: info\n  level: debug\n", "3:3",
     ["log: duplicate key \"level\""]),
    ("bad-port.yml", "web:\n  listen_address: \":65536\"\n", "2:19",
     ["web.listen_address", "port must be a number 0-65535"]),
    ("bad-duration.yml", "collection:\n  min_interval: soon\n", "2:17",
     ["found \"soon\", want a duration"]),
    ("negative-duration.yml", "collection:\n  min_interval: -10s\n", "2:17",
     ["found \"-10s\", want a duration"]),
    ("bad-regex.yml", "filters:\n  exclude_commands:\n    - \"a(b\"\n", "3:7",
     ["invalid regular expression"]),
    ("unknown-type.yml", "collection:\n  types: [pid, cgroups]\n", "2:16",
     ["unknown namespace type \"cgroups\""]),
    ("empty-types.yml", "collection:\n  types: []\n", "2:10",
     ["at least one type"]),
    ("bad-level.yml", "log:\n  level: trace\n", "2:10",
     ["log.level", "\"trace\""]),
    ("bad-format.yml", "log:\n  format: text\n", "2:11",
     ["log.format", "\"text\""]),
    ("syntax.yml", "web:\n  - a\n  b: c\n", "3:3", ["invalid YAML"]),
]


class ConfigCheckTest(ExporterTestCase):

    def test_every_example_is_valid(self):
        examples = [
            p for p in sorted(glob.glob(os.path.join(EXAMPLES_DIR, "*.yml")))
            if not os.path.basename(p).startswith("web-config")
        ]
        self.assertGreaterEqual(len(examples), 3, EXAMPLES_DIR)
        for path in examples:
            with self.subTest(example=os.path.basename(path)):
                r = self.run_binary("--config.file=" + path, "--config.check")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("configuration is valid", r.stdout)
                self.assertEqual(r.stderr, "")

    def test_empty_file_is_valid(self):
        path = self.write("empty.yml", "")
        r = self.run_binary("--config.file=" + path, "--config.check")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_each_kind_of_invalid_file_exits_one_with_its_position(self):
        for name, text, position, words in INVALID:
            with self.subTest(file=name):
                path = self.write(name, text)
                r = self.run_binary("--config.file=" + path,
                                    "--config.check")
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertNotIn("configuration is valid", r.stdout)
                prefix = "%s:%s: " % (path, position)
                self.assertIn(prefix, r.stderr)
                after = r.stderr.split(prefix, 1)[1]
                for w in words:
                    self.assertIn(w, after)
                # One clear line, not a dump.
                self.assertEqual(len(r.stderr.strip().splitlines()), 1,
                                 r.stderr)

    def test_invalid_file_also_stops_a_normal_start(self):
        path = self.write("bad.yml", "log:\n  level: loud\n")
        r = self.run_binary("--config.file=" + path,
                            "--web.listen-address=127.0.0.1:%d" % free_port())
        self.assertEqual(r.returncode, 1)
        self.assertIn(path + ":2:10: ", r.stderr)

    def test_yaml_1_1_booleans_are_accepted_as_in_the_web_config(self):
        path = self.write("yes.yml", "collection:\n  exclude_kernel_threads: "
                          "yes\n  bind_mounts: off\n")
        r = self.run_binary("--config.file=" + path, "--config.check")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration is valid", r.stdout)

    def test_check_refuses_the_listen_addresses_the_server_refuses(self):
        # Each is refused by --config.check, from a flag or from the file,
        # and a start with it fails with the same message.
        for address, why in [(":65536", "port must be a number 0-65535"),
                             ("127.0.0.1", "want [host]:port"),
                             ("::1:9", "put an IPv6 host in brackets"),
                             ("a b:9", "malformed host"),
                             (":http", "port must be a number 0-65535")]:
            with self.subTest(address=address):
                path = self.write("web.yml", "web:\n  listen_address: "
                                  "\"%s\"\n" % address)
                for argv in (["--web.listen-address=" + address],
                             ["--config.file=" + path]):
                    check = self.run_binary(*argv, "--config.check")
                    self.assertEqual(check.returncode, 1, check.stdout)
                    self.assertNotIn("configuration is valid", check.stdout)
                    self.assertIn('listen address "%s": %s' % (address, why),
                                  check.stderr)
                    start = self.run_binary(*argv, timeout=10)
                    self.assertEqual(start.returncode, 1, start.stderr)
                    self.assertEqual(start.stderr, check.stderr)

    def test_unreadable_files_exit_one_with_the_path(self):
        missing = os.path.join(self.dir, "absent.yml")
        for path in (missing, self.dir):
            with self.subTest(path=path):
                r = self.run_binary("--config.file=" + path,
                                    "--config.check")
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn(path, r.stderr)
                self.assertNotIn("configuration is valid", r.stdout)

    def test_unknown_flag_exits_two(self):
        r = self.run_binary("--config.chek")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Usage:", r.stderr)


class FlagOverridesFileTest(ExporterTestCase):

    def test_file_address_is_used_without_the_flag(self):
        file_port = free_port()
        path = self.write("web.yml", "web:\n  listen_address: "
                          "\"127.0.0.1:%d\"\n" % file_port)
        e = self.start(["--config.file=" + path], port=file_port,
                       listen_flag=False)
        self.assertTrue(values(e.scrape(), "linux_namespaces"))

    def test_listen_address_flag_wins_over_the_file(self):
        file_port, flag_port = free_port(), free_port()
        while flag_port == file_port:
            flag_port = free_port()
        path = self.write("web.yml", "web:\n  listen_address: "
                          "\"127.0.0.1:%d\"\n" % file_port)
        e = self.start(["--config.file=" + path], port=flag_port)
        self.assertIn("--web.listen-address=127.0.0.1:%d" % flag_port, e.argv)
        self.assertTrue(values(e.scrape(), "linux_namespaces"))
        self.assertTrue(connect_refused(file_port),
                        "also listening on the file's address")
        self.assertRegex(e.log(), r"address=127\.0\.0\.1:%d" % flag_port)

    def test_telemetry_path_from_file_and_flag(self):
        path = self.write("web.yml", "web:\n  telemetry_path: /from-file\n")
        e = self.start(["--config.file=" + path])
        status, _, body = e.get("/from-file")
        self.assertEqual(status, 200)
        self.assertIn(b"linux_namespaces{", body)

        e2 = self.start(["--config.file=" + path,
                         "--web.telemetry-path=/from-flag"])
        status, _, body = e2.get("/from-flag")
        self.assertIn(b"linux_namespaces{", body)
        self.assertEqual(e2.get("/from-file")[0], 404)

    def test_log_level_flag_wins_over_the_file(self):
        path = self.write("log.yml", "log:\n  level: debug\n")
        e = self.start(["--config.file=" + path])
        e.scrape()
        e.wait_log(r"scan summary")
        # No "listening" line at this level to read a kernel-chosen port from.
        quiet = self.start(["--config.file=" + path, "--log.level=warn"],
                           port=free_port())
        quiet.scrape()
        quiet.scrape()
        self.assertFalse(re.search(r"level=(debug|info)", quiet.log()),
                         quiet.log())


if __name__ == "__main__":
    run_unittest()
