#!/usr/bin/env python3
"""Web security of the built exporter, over real HTTP and HTTPS on 127.0.0.1.

Run: security_test.py BINARY SOURCE_DIR [unittest names, e.g. AuthTest]
Python 3 standard library only. Each test starts its own exporter on a free
port (port 0, read back from the "listening" log line) and stops it.
"""

import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
import unittest

import nsexp_harness as h

# Password "correct horse", bcrypt cost 10: the hash of the shipped example.
GOOD_USER = "prometheus"
GOOD_PASSWORD = "correct horse"
GOOD_HASH = "$2b$10$eMI1RJmbSRWaa1clubdNmulBwqjD8yNf3Hvi/Ushqv9aFbreNROz6"
# Password "s3cret", cost 10.
OTHER_HASH = "$2b$10$ptEN3jcIO5QzYDY9KHw6GOL9RV.6auP08L3Df.jqfa0k7fTo3WN6S"

AUTH_CONFIG = (f"basic_auth_users:\n  {GOOD_USER}: '{GOOD_HASH}'\n"
               f"  other: '{OTHER_HASH}'\n")
SOURCE_DIR = None


class Exporter(h.Exporter):
    """The binary on 127.0.0.1:<free port>; a context manager."""

    def __init__(self, *args):
        super().__init__(h.ExporterTestCase.binary, *args)

    def get(self, path, user=None, password=None, timeout=10):
        """(status, headers, body) of a GET, with basic authentication when
        user is given; never raises on HTTP errors."""
        headers = h.basic_auth(user, password) if user is not None else None
        return super().get(path, headers=headers, timeout=timeout)


class AuthTest(h.ExporterTestCase):
    def test_status_codes_and_challenge(self):
        web = self.write("web.yml", AUTH_CONFIG)
        with Exporter(f"--web.config.file={web}") as e:
            for path in ("/metrics", "/", "/tree", "/tree?format=html", "/-/ready", "/nope"):
                status, headers, _ = e.get(path)
                self.assertEqual(status, 401, path)
                self.assertEqual(
                    headers.get("WWW-Authenticate"),
                    'Basic realm="linux_namespace_exporter"')
            for user, password in ((GOOD_USER, "wrong"), ("nobody", "x"),
                                   (GOOD_USER, ""), ("other", GOOD_PASSWORD)):
                status, headers, _ = e.get("/metrics", user, password)
                self.assertEqual(status, 401, (user, password))
                self.assertIn("WWW-Authenticate", headers)
            status, _, body = e.get("/metrics", GOOD_USER, GOOD_PASSWORD)
            self.assertEqual(status, 200)
            self.assertIn(b"linux_namespace_exporter_build_info", body)
            self.assertEqual(e.get("/metrics", "other", "s3cret")[0], 200)
            self.assertEqual(e.get("/", GOOD_USER, GOOD_PASSWORD)[0], 200)
            status, headers, body = e.get("/tree?format=html", GOOD_USER, GOOD_PASSWORD)
            self.assertEqual(status, 200)
            self.assertTrue(headers.get("Content-Type", "").startswith("text/html"))
            self.assertIn(b"<details", body)
            self.assertEqual(e.get("/nope", GOOD_USER, GOOD_PASSWORD)[0], 404)

    def test_healthy_needs_no_credentials(self):
        web = self.write("web.yml", AUTH_CONFIG)
        with Exporter(f"--web.config.file={web}") as e:
            status, _, body = e.get("/-/healthy")
            self.assertEqual((status, body), (200, b"OK\n"))

    def test_no_web_config_means_open(self):
        with Exporter() as e:
            self.assertEqual(e.get("/metrics")[0], 200)

    def test_configured_headers_are_sent(self):
        web = self.write("web.yml", AUTH_CONFIG + (
            "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"))
        with Exporter(f"--web.config.file={web}") as e:
            for creds in ((), (GOOD_USER, GOOD_PASSWORD)):
                _, headers, _ = e.get("/", *creds)
                self.assertEqual(headers.get("X-Frame-Options"), "deny")


def timed_get(e, path, user, password):
    start = time.perf_counter()
    status = e.get(path, user, password)[0]
    return status, time.perf_counter() - start


class TimingTest(h.ExporterTestCase):
    """Statistical, with generous bounds: medians, not single samples."""

    def test_unknown_user_costs_as_much_as_wrong_password(self):
        web = self.write("web.yml", AUTH_CONFIG)
        with Exporter(f"--web.config.file={web}") as e:
            self.assertEqual(e.get("/-/ready", GOOD_USER, GOOD_PASSWORD)[0],
                             200)
            wrong, unknown, cached = [], [], []
            for _ in range(9):  # interleaved, so that load hits both alike
                status, t = timed_get(e, "/-/ready", GOOD_USER, "wrong")
                self.assertEqual(status, 401)
                wrong.append(t)
                status, t = timed_get(e, "/-/ready", "nobody", "wrong")
                self.assertEqual(status, 401)
                unknown.append(t)
            for _ in range(20):
                status, t = timed_get(e, "/-/ready", GOOD_USER, GOOD_PASSWORD)
                self.assertEqual(status, 200)
                cached.append(t)
            mw, mu, mc = (statistics.median(x)
                          for x in (wrong, unknown, cached))
            print(f"median wrong password {mw * 1000:.1f} ms, unknown user "
                  f"{mu * 1000:.1f} ms, cached good {mc * 1000:.2f} ms")
            self.assertLess(max(mw, mu) / min(mw, mu), 3.0)
            self.assertGreater(min(mw, mu), 5 * mc)

    def test_good_credentials_are_cached(self):
        web = self.write("web.yml", AUTH_CONFIG)
        with Exporter(f"--web.config.file={web}") as e:
            status, first = timed_get(e, "/-/ready", GOOD_USER, GOOD_PASSWORD)
            self.assertEqual(status, 200)
            later = []
            for _ in range(20):
                status, t = timed_get(e, "/-/ready", GOOD_USER, GOOD_PASSWORD)
                self.assertEqual(status, 200)
                later.append(t)
            wrong = []
            for _ in range(5):
                status, t = timed_get(e, "/-/ready", GOOD_USER, "wrong")
                self.assertEqual(status, 401)
                wrong.append(t)
            one_bcrypt = statistics.median(wrong)
            median = statistics.median(later)
            print(f"first good {first * 1000:.1f} ms, then median "
                  f"{median * 1000:.2f} ms; one bcrypt {one_bcrypt * 1000:.1f}"
                  " ms")
            self.assertLess(median, one_bcrypt / 5)


class ConfigTest(h.ExporterTestCase):
    def test_malformed_files_fail_with_position(self):
        cases = {
            "bad_yaml": ("basic_auth_users: {a: b\n", ":2:1: invalid YAML"),
            "unknown_key": ("basic_auth_users: {}\nbasic_auth: {}\n",
                            ':2:1: top level: unknown key "basic_auth"'),
            "wrong_type": ("basic_auth_users: [prometheus]\n",
                           ":1:19: basic_auth_users: found a list, want a "
                           "mapping"),
            "bad_hash": ("basic_auth_users:\n  prometheus: secret\n",
                         ":2:15: basic_auth_users.prometheus: not a bcrypt "
                         "hash"),
            "bad_header": ("http_server_config:\n  headers:\n    Server: x\n",
                           ":3:5: http_server_config.headers.Server: this "
                           "header cannot be configured"),
        }
        for name, (text, want) in cases.items():
            path = self.write(name + ".yml", text)
            for extra in ([], ["--config.check"]):
                r = self.run_binary(f"--web.config.file={path}",
                                    "--web.listen-address=127.0.0.1:0", *extra)
                self.assertEqual(r.returncode, 1, (name, extra, r.stderr))
                self.assertIn(path + want, r.stderr, name)
                self.assertEqual(r.stderr.count("\n"), 1, r.stderr)

    def test_config_check(self):
        good = os.path.join(SOURCE_DIR, "config", "examples",
                            "web-config.yml")
        r = self.run_binary("--config.check", f"--web.config.file={good}")
        self.assertEqual(r.returncode, 0, r.stderr)
        bad = self.write("bad.yml", "basic_auth_users: 1\n")
        r = self.run_binary("--config.check", f"--web.config.file={bad}")
        self.assertEqual(r.returncode, 1)
        missing = os.path.join(self.dir, "missing.yml")
        r = self.run_binary("--config.check", f"--web.config.file={missing}")
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.yml", r.stderr)


class PromtoolTest(h.ExporterTestCase):
    def test_examples_pass_promtool(self):
        examples = os.path.join(SOURCE_DIR, "config", "examples")
        files = sorted(f for f in os.listdir(examples)
                       if f.startswith("web-config") and f.endswith(".yml"))
        self.assertIn("web-config.yml", files)
        self.assertIn("web-config-tls.yml", files)
        self.assertIn("web-config-mtls.yml", files)
        # The TLS examples name server.crt, server.key and ca.crt beside
        # them: each example is checked, and served, from a copy beside
        # certificates of the names it uses.
        h.require_tool("openssl", "Debian package openssl")
        curl = h.require_tool("curl", "Debian package curl")
        make_pki(self.dir)
        for name in files:
            path = os.path.join(self.dir, name)
            shutil.copyfile(os.path.join(examples, name), path)
            r = h.promtool("check", "web-config", path)
            self.assertEqual(r.returncode, 0, (name, r.stdout, r.stderr))
            r = self.run_binary("--config.check", f"--web.config.file={path}")
            self.assertEqual(r.returncode, 0, (name, r.stderr))
            e = self.start([f"--web.config.file={path}"], ready_path=None)
            tls = "tls" in name
            r = subprocess.run(
                [curl, "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                 "--cacert", os.path.join(self.dir, "ca.crt"),
                 "--cert", os.path.join(self.dir, "client.crt"),
                 "--key", os.path.join(self.dir, "client.key"),
                 f"{'https' if tls else 'http'}://127.0.0.1:{e.port}/-/healthy"],
                capture_output=True, text=True, timeout=30)
            self.assertEqual((r.returncode, r.stdout), (0, "200"), (name, r.stderr))


make_pki = h.make_pki


class TlsTest(h.ExporterTestCase):
    """tls_server_config served: HTTPS with certificates made by openssl,
    checked with curl; plain HTTP to the TLS port; each client_auth_type;
    protocol versions; basic authentication over TLS; unusable files."""

    def setUp(self):
        super().setUp()
        h.require_tool("openssl", "Debian package openssl")
        self.curl_path = h.require_tool("curl", "Debian package curl")
        make_pki(self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def tls_config(self, extra="", name="web-tls.yml"):
        """A web configuration serving server.crt; extra lines are added
        to tls_server_config."""
        return self.write(name, (
            "tls_server_config:\n  cert_file: server.crt\n"
            "  key_file: server.key\n" + extra))

    def serve(self, config, host="127.0.0.1"):
        """An exporter serving HTTPS with this web configuration; ready once
        its port accepts TCP (its health check would speak plain HTTP)."""
        return self.start([f"--web.config.file={config}"], ready_path=None,
                          host=host)

    def curl(self, e, path="/metrics", *args, host=None):
        """(curl exit status, HTTP status, body) of a GET over HTTPS that
        trusts the test CA."""
        hp = h.host_port(host or e.host, e.port)
        r = subprocess.run(
            [self.curl_path, "-sS", "-g", "--max-time", "10", "--cacert",
             self.path("ca.crt"), "-o", "-", "-w", "\n%{http_code}", *args,
             f"https://{hp}{path}"], capture_output=True, text=True, timeout=30)
        body, _, code = r.stdout.rpartition("\n")
        return r.returncode, code, body

    def client(self, name):
        return ["--cert", self.path(f"{name}.crt"), "--key", self.path(f"{name}.key")]

    def assert_served(self, e, *args, host=None):
        rc, code, body = self.curl(e, "/metrics", *args, host=host)
        self.assertEqual((rc, code), (0, "200"), body)
        self.assertIn("linux_namespace_exporter_build_info", body)

    def assert_refused(self, e, *args):
        rc, code, body = self.curl(e, "/metrics", *args)
        self.assertNotEqual(rc, 0, (code, body))
        self.assertNotIn("linux_namespace_exporter_build_info", body)

    def test_tls_file_is_valid_for_promtool(self):
        path = self.tls_config("  client_auth_type: RequireAndVerifyClientCert\n"
                               "  client_ca_file: ca.crt\n  min_version: TLS12\n")
        r = h.promtool("check", "web-config", path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.run_binary("--config.check", f"--web.config.file={path}")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_https_served_with_ca(self):
        e = self.serve(self.tls_config())
        self.assert_served(e)
        rc, code, body = self.curl(e, "/tree?format=html")
        self.assertEqual((rc, code), (0, "200"), "the HTML tree over HTTPS")
        self.assertIn("<details", body)
        rc, code, _ = self.curl(e, "/-/healthy", host="localhost")
        self.assertEqual((rc, code), (0, "200"), "DNS name of the certificate")
        # Without the test CA, curl cannot trust the server.
        r = subprocess.run([self.curl_path, "-sS", "--max-time", "10",
                            f"https://127.0.0.1:{e.port}/metrics"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 60, r.stderr)  # peer certificate not trusted

    def test_plain_http_to_tls_port_fails_cleanly(self):
        e = self.serve(self.tls_config())
        with self.assertRaises(OSError):
            h.http(f"http://127.0.0.1:{e.port}/metrics", timeout=10)
        # A raw request gets no HTTP answer, and the connection is closed.
        with socket.create_connection(("127.0.0.1", e.port), timeout=10) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                reply = s.recv(1024)
            except ConnectionResetError:
                reply = b""
        self.assertFalse(reply.startswith(b"HTTP/"), reply)
        self.assertTrue(e.alive())
        self.assert_served(e)

    def test_silent_client_is_cut_off(self):
        # A client that opens a connection and never starts the handshake
        # holds a worker only until the request timeout (5 s).
        e = self.serve(self.tls_config())
        with socket.create_connection(("127.0.0.1", e.port), timeout=15) as s:
            start = time.monotonic()
            try:
                closed = s.recv(1) == b""
            except ConnectionResetError:
                closed = True
            took = time.monotonic() - start
        self.assertTrue(closed)
        self.assertLess(took, 10, "the silent connection was held too long")
        self.assert_served(e)

    def test_require_and_verify_client_cert(self):
        e = self.serve(self.tls_config(
            "  client_auth_type: RequireAndVerifyClientCert\n"
            "  client_ca_file: ca.crt\n"))
        self.assert_refused(e)
        self.assert_refused(e, *self.client("stranger"))
        self.assert_served(e, *self.client("client"))

    def test_verify_client_cert_if_given(self):
        e = self.serve(self.tls_config(
            "  client_auth_type: VerifyClientCertIfGiven\n"
            "  client_ca_file: ca.crt\n"))
        self.assert_served(e)
        self.assert_refused(e, *self.client("stranger"))
        self.assert_served(e, *self.client("client"))

    def test_require_any_client_cert(self):
        e = self.serve(self.tls_config("  client_auth_type: RequireAnyClientCert\n"))
        self.assert_refused(e)
        self.assert_served(e, *self.client("stranger"))

    def test_request_and_no_client_cert(self):
        for policy in ("RequestClientCert", "NoClientCert"):
            e = self.serve(self.tls_config(f"  client_auth_type: {policy}\n",
                                           name=f"{policy}.yml"))
            self.assert_served(e)
            self.assert_served(e, *self.client("stranger"))

    def test_protocol_versions(self):
        e = self.serve(self.tls_config("  min_version: TLS13\n"))
        self.assert_refused(e, "--tls-max", "1.2")
        self.assert_served(e, "--tlsv1.3")
        e = self.serve(self.tls_config("  max_version: TLS12\n", name="max.yml"))
        self.assert_refused(e, "--tlsv1.3")
        self.assert_served(e, "--tls-max", "1.2")
        # The default minimum is TLS 1.2, as exporter-toolkit's.
        e = self.serve(self.tls_config(name="default.yml"))
        self.assert_refused(e, "--tlsv1.1", "--tls-max", "1.1")

    def test_cipher_suites(self):
        e = self.serve(self.tls_config(
            "  max_version: TLS12\n"
            "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n"))
        self.assert_served(e, "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384")
        self.assert_refused(e, "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256")

    def test_basic_auth_over_tls(self):
        path = self.tls_config()
        with open(path, "a") as f:
            f.write(f"basic_auth_users:\n  {GOOD_USER}: '{GOOD_HASH}'\n")
        e = self.serve(path)
        rc, code, _ = self.curl(e)
        self.assertEqual((rc, code), (0, "401"))
        rc, code, _ = self.curl(e, "/metrics", "-u", f"{GOOD_USER}:wrong")
        self.assertEqual((rc, code), (0, "401"))
        self.assert_served(e, "-u", f"{GOOD_USER}:{GOOD_PASSWORD}")

    def test_tls_over_ipv6(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback here")
        e = self.serve(self.tls_config(), host="::1")
        self.assert_served(e)

    def test_unusable_files_fail_at_start_and_check(self):
        cases = {
            "mismatch": ("  cert_file: server.crt\n  key_file: client.key\n",
                         "does not match"),
            "missing": ("  cert_file: nope.crt\n  key_file: server.key\n",
                        "cert_file " + self.path("nope.crt")),
            "not_pem": ("  cert_file: web-not_pem.yml\n  key_file: server.key\n",
                        "cert_file " + self.path("web-not_pem.yml")),
            "bad_ca": ("  cert_file: server.crt\n  key_file: server.key\n"
                       "  client_auth_type: RequireAndVerifyClientCert\n"
                       "  client_ca_file: nope.crt\n",
                       "client_ca_file " + self.path("nope.crt")),
        }
        for name, (tls, want) in cases.items():
            path = self.write(f"web-{name}.yml", "tls_server_config:\n" + tls)
            r = self.run_binary("--web.listen-address=127.0.0.1:0",
                                f"--web.config.file={path}")
            self.assertEqual(r.returncode, 1, (name, r.stderr))
            self.assertIn(want, r.stderr, name)
            # --config.check loads the files as a start does: same line.
            c = self.run_binary("--config.check", f"--web.config.file={path}")
            self.assertEqual(c.returncode, 1, (name, c.stdout, c.stderr))
            self.assertEqual(c.stderr, r.stderr, name)

    def test_relative_files_are_relative_to_the_config(self):
        # self.tls_config() names server.crt without a directory; the
        # exporter runs from elsewhere.
        config = self.tls_config()
        e = Exporter(f"--web.config.file={config}")
        e.ready_path = None
        e.start()
        self.servers.append(e)
        self.assertNotEqual(os.getcwd(), self.dir)
        self.assert_served(e)


def served_certificate(host, port, cafile):
    """The DER certificate the server at host:port presents, from a fresh
    handshake (no session is resumed) that trusts cafile."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            return s.getpeercert(binary_form=True)


def file_certificate(path):
    """The DER form of the first certificate of a PEM file."""
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


class RotationTest(h.ExporterTestCase):
    """Certificates rotate without a restart: SIGHUP re-reads the web
    configuration file, and the TLS files are re-read when they change on
    disk; a replacement that cannot be used keeps the old certificate and
    sets linux_namespace_exporter_web_config_last_reload_successful to 0."""

    path, serve, curl = TlsTest.path, TlsTest.serve, TlsTest.curl

    def setUp(self):
        super().setUp()
        h.require_tool("openssl", "Debian package openssl")
        self.curl_path = h.require_tool("curl", "Debian package curl")
        make_pki(self.dir)
        # A second server certificate of the same CA: same names, another
        # key and serial.
        for name in ("server2",):
            subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                            f"{name}.key", "-out", f"{name}.csr", "-subj",
                            f"/CN=nsexp test {name}"],
                           check=True, capture_output=True, cwd=self.dir)
            subprocess.run(["openssl", "x509", "-req", "-in", f"{name}.csr",
                            "-CA", "ca.crt", "-CAkey", "ca.key",
                            "-CAcreateserial", "-out", f"{name}.crt", "-days",
                            "2", "-extfile", "server.ext"],
                           check=True, capture_output=True, cwd=self.dir)
        self.install("live", "server")

    def install(self, target, source):
        """Puts a copy of source.crt/.key at target.crt/.key, each by a
        rename over the old file, the key first."""
        for ext in ("key", "crt"):
            tmp = self.path(f".{target}.{ext}.tmp")
            shutil.copyfile(self.path(f"{source}.{ext}"), tmp)
            os.replace(tmp, self.path(f"{target}.{ext}"))

    def presented(self, e):
        return served_certificate("127.0.0.1", e.port, self.path("ca.crt"))

    def metric(self, e, name):
        rc, code, body = self.curl(e, "/metrics", *self.extra_curl)
        self.assertEqual((rc, code), (0, "200"), body)
        return h.value(h.parse_metrics(body), name)

    extra_curl = ()

    def web(self, cert="live"):
        return self.write("web-live.yml", (
            f"tls_server_config:\n  cert_file: {cert}.crt\n"
            f"  key_file: {cert}.key\n"))

    def test_sighup_rereads_web_config(self):
        e = self.serve(self.web())
        self.assertEqual(self.presented(e), file_certificate(self.path("server.crt")))
        # Another file named by the configuration: only SIGHUP can tell.
        self.web("server2")
        e.signal(signal.SIGHUP)
        e.wait_log("configuration reloaded")
        self.assertEqual(self.presented(e), file_certificate(self.path("server2.crt")))
        self.assertEqual(self.metric(e, "linux_namespace_exporter_web_config_last_reload_successful"), 1)
        self.assertEqual(self.metric(e, "linux_namespace_exporter_config_last_reload_successful"), 1)
        # Basic authentication switched on by the same reload.
        self.write("web-live.yml", "tls_server_config:\n  cert_file: server2.crt\n"
                   "  key_file: server2.key\n" + AUTH_CONFIG)
        e.signal(signal.SIGHUP)
        e.wait_log("configuration reloaded", count=2)
        rc, code, _ = self.curl(e)
        self.assertEqual((rc, code), (0, "401"))
        self.extra_curl = ("-u", f"{GOOD_USER}:{GOOD_PASSWORD}")
        # A configuration naming an unusable certificate: the old one stays.
        self.write("web-live.yml", "tls_server_config:\n  cert_file: nope.crt\n"
                   "  key_file: server2.key\n" + AUTH_CONFIG)
        e.signal(signal.SIGHUP)
        e.wait_log("web configuration reload failed")
        self.assertIn("nope.crt", e.log())
        self.assertEqual(self.presented(e), file_certificate(self.path("server2.crt")))
        self.assertEqual(self.metric(e, "linux_namespace_exporter_web_config_last_reload_successful"), 0)
        self.assertEqual(self.metric(e, "linux_namespace_exporter_config_last_reload_successful"), 0)

    def test_changed_files_are_reloaded_without_signal(self):
        e = self.serve(self.web())
        self.assertEqual(self.presented(e), file_certificate(self.path("server.crt")))
        self.install("live", "server2")
        self.assertEqual(self.presented(e), file_certificate(self.path("server2.crt")))
        e.wait_log("TLS certificate files changed: reloaded")
        self.assertEqual(self.metric(e, "linux_namespace_exporter_web_config_last_reload_successful"), 1)
        # Rewritten in place (same inode), back to the first pair.
        for ext in ("key", "crt"):
            with open(self.path(f"server.{ext}"), "rb") as src, \
                    open(self.path(f"live.{ext}"), "r+b") as dst:
                data = src.read()
                dst.truncate(0)
                dst.write(data)
        self.assertEqual(self.presented(e), file_certificate(self.path("server.crt")))

    def test_broken_replacement_keeps_old_certificate(self):
        e = self.serve(self.web())
        want = file_certificate(self.path("server.crt"))
        self.assertEqual(self.presented(e), want)
        # A certificate that is not PEM, then one whose key does not match.
        self.write("live.crt", "not a certificate\n")
        self.assertEqual(self.presented(e), want)
        self.assertEqual(self.metric(e, "linux_namespace_exporter_web_config_last_reload_successful"), 0)
        e.wait_log("cannot be used; keeping the previous certificate")
        shutil.copyfile(self.path("server2.crt"), self.path("live.crt"))
        self.assertEqual(self.presented(e), want)
        e.wait_log("does not match")
        self.assertEqual(self.metric(e, "linux_namespace_exporter_web_config_last_reload_successful"), 0)
        # The matching key arrives: the pair is taken.
        shutil.copyfile(self.path("server2.key"), self.path("live.key"))
        self.assertEqual(self.presented(e), file_certificate(self.path("server2.crt")))
        self.assertEqual(self.metric(e, "linux_namespace_exporter_web_config_last_reload_successful"), 1)


class SlowClient(threading.Thread):
    """Opens a connection and sends a request one byte a second."""

    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        self.connected = threading.Event()
        self.closed_after = None  # seconds until the server cut us off

    def run(self):
        request = (b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"X-Slow: " + b"a" * 4096)
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            self.connected.set()
            start = time.monotonic()
            for byte in request:
                if self.stop.is_set():
                    return
                try:
                    s.send(bytes([byte]))
                except OSError:
                    self.closed_after = time.monotonic() - start
                    return
                self.stop.wait(1.0)


class SlowClientTest(unittest.TestCase):
    # Mirrors the defaults of WebOptions in exporter/http/web_server.h.
    WORKERS = 32
    REQUEST_TIMEOUT = 5.0

    def scrape_while_slow(self, clients, seconds):
        with Exporter() as e:
            stop = threading.Event()
            slow = [SlowClient(e.port, stop) for _ in range(clients)]
            for c in slow:
                c.start()
            for c in slow:
                self.assertTrue(c.connected.wait(10))
            time.sleep(0.5)
            latencies, failures = [], []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                start = time.monotonic()
                try:
                    status = e.get("/metrics", timeout=15)[0]
                    if status != 200:
                        failures.append(status)
                except OSError as err:
                    failures.append(str(err))
                latencies.append(time.monotonic() - start)
                time.sleep(0.25)
            stop.set()
            for c in slow:
                c.join(5)
            cut = [c.closed_after for c in slow if c.closed_after is not None]
            return latencies, failures, cut

    def test_slow_clients_within_budget_do_not_delay_scrapes(self):
        clients = self.WORKERS - 8
        latencies, failures, cut = self.scrape_while_slow(clients, 9)
        print(f"{clients} slow clients: {len(latencies)} scrapes, max "
              f"{max(latencies):.3f} s; {len(cut)} slow clients cut off, "
              f"after {min(cut, default=0):.1f}-{max(cut, default=0):.1f} s")
        self.assertEqual(failures, [])
        # Scrapes never wait for a worker (a loaded CI machine still needs
        # some slack over the few milliseconds measured on a quiet one).
        self.assertLess(max(latencies), 3.0, latencies)
        # Each slow client is cut off once request_timeout_ms has passed
        # (the second send after the close notices it, up to 2 s later).
        self.assertEqual(len(cut), clients, cut)
        self.assertLess(max(cut), self.REQUEST_TIMEOUT + 4, cut)

    def test_slow_clients_beyond_budget_only_delay_scrapes(self):
        clients = self.WORKERS + 16
        latencies, failures, _ = self.scrape_while_slow(clients, 12)
        print(f"{clients} slow clients: {len(latencies)} scrapes, max "
              f"{max(latencies):.3f} s")
        self.assertEqual(failures, [])
        # Queued behind at most one round of slow clients (each round is
        # cut off after request_timeout_ms), with slack for a loaded machine.
        self.assertLess(max(latencies), self.REQUEST_TIMEOUT + 5, latencies)

    def test_oversized_request_is_refused(self):
        with Exporter() as e:
            with socket.create_connection(("127.0.0.1", e.port)) as s:
                s.settimeout(10)
                try:
                    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " +
                              b"a" * 65536 + b"\r\n\r\n")
                except OSError:
                    pass  # the server may close before reading it all
                reply = s.recv(64)
            self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1.") and
                            reply.split()[1].startswith(b"4"), reply)
            self.assertEqual(e.get("/-/healthy")[0], 200)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    h.ExporterTestCase.binary = os.path.abspath(sys.argv[1])
    SOURCE_DIR = os.path.abspath(sys.argv[2])
    h.run_unittest(argv=[sys.argv[0], *sys.argv[3:]])
