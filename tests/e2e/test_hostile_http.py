#!/usr/bin/env python3
"""Unfriendly HTTP against the exporter: other methods get 405, a request
with a 100 KB header gets an error status and does not take the process
down, a request cut off mid-header and a garbage request line are survived,
and 50 sequential plus 8 concurrent scrapes all succeed afterwards."""

import http.client
import socket
import threading

import e2e_lib as lib
import nsexp_harness as h


def raw_request(port, data, timeout=30):
    """Sends raw bytes; returns the status line received ('' if none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may refuse before reading everything
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        reply = b""
        try:
            while b"\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    return reply.split(b"\r\n", 1)[0].decode("latin-1")


def scrape_ok(exp):
    status, _, body = exp.get("/metrics", timeout=60)
    return status == 200 and b"linux_namespace_exporter_build_info{" in body


def main():
    args = lib.parse_args(__doc__)
    f = h.Failures()
    with lib.Exporter(args.exporter) as exp:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            status, headers, _ = h.http(exp.url("/metrics"), method=method)
            f.equal(status, 405, f"{method} /metrics")
        status, headers, _ = h.http(exp.url("/"), method="POST")
        f.equal(status, 405, "POST /")
        status, headers, body = h.http(exp.url("/metrics"), method="HEAD")
        f.equal((status, body), (200, b""), "HEAD /metrics")

        big = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
        line = raw_request(exp.port, big)
        f.check(line.startswith("HTTP/1.") and len(line.split()) > 1 and line.split()[1][0] in "45",
                f"100 KB header gets an error status, got {line!r}")
        f.check(exp.alive(), "alive after a 100 KB header")
        f.equal(exp.get("/-/healthy")[0], 200, "/-/healthy after a 100 KB header")

        many = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(
            b"X-H%d: v\r\n" % i for i in range(2000)) + b"\r\n"
        line = raw_request(exp.port, many)
        f.check(line == "" or line.split()[1][0] in "45", f"2000 headers: {line!r}")
        raw_request(exp.port, b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Cut: ab")
        raw_request(exp.port, b"\x00\xff garbage \r\n\r\n")
        f.check(exp.alive(), "alive after truncated and garbage requests")

        sequential = sum(1 for _ in range(50) if scrape_ok(exp))
        f.equal(sequential, 50, "sequential scrapes that succeeded")

        results = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def worker():
            barrier.wait()
            ok = False
            try:
                ok = scrape_ok(exp)
            except OSError as e:
                print(f"concurrent scrape: {e}")
            with lock:
                results.append(ok)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        f.equal(results.count(True), 8, "concurrent scrapes that succeeded")

        # Keep-alive: several requests on one connection.
        conn = http.client.HTTPConnection("127.0.0.1", exp.port, timeout=60)
        codes = []
        for path in ("/-/healthy", "/metrics", "/-/ready", "/nope"):
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            codes.append(r.status)
        conn.close()
        f.equal(codes, [200, 200, 200, 404], "requests on one keep-alive connection")
        f.check(exp.alive(), "exporter still running at the end")
    return f.finish("e2e hostile http")


if __name__ == "__main__":
    h.run_script(main)
