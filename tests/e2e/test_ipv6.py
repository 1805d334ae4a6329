#!/usr/bin/env python3
"""IPv6: the built exporter listening on [::1] (IPv6 loopback only), on
[::] and on ":port" (every address, IPv6 and IPv4 on one dual-stack socket,
as node_exporter listens), and on 127.0.0.1 (IPv4 only), scraped over both
loopbacks. Skips where the host has no IPv6 loopback."""

import socket

import e2e_lib as lib
import nsexp_harness as h


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def reachable(host, port):
    """True when a TCP connection to host:port is accepted."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def scrape(f, exporter, host, where):
    """Scrapes /metrics over host; checks for a 200 with exporter metrics."""
    status, _, body = h.http(f"http://{h.host_port(host, exporter.port)}/metrics")
    if not f.equal(status, 200, f"{where}: status of /metrics over {host}"):
        return
    text = body.decode("utf-8")
    f.check(h.values(h.parse_metrics(text), "linux_namespace_exporter_build_info"),
            f"{where}: build_info in the scrape over {host}")


def main():
    args = lib.parse_args(__doc__)
    if not ipv6_loopback():
        h.skip("no IPv6 loopback here (::1 cannot be bound)")
    f = h.Failures()

    # (listen host, host the harness waits on, reachable over ::1, over 127.0.0.1)
    cases = [
        ("::1", "::1", True, False),
        ("::", "::1", True, True),
        ("", "127.0.0.1", True, True),
        ("127.0.0.1", "127.0.0.1", False, True),
    ]
    for listen, wait_host, v6, v4 in cases:
        address = f"{h.host_port(listen, 0)}"
        where = f"--web.listen-address={address}"
        exporter = h.Exporter(args.exporter, argv=[args.exporter, where],
                              host=wait_host, ready_path="/-/ready")
        with exporter:
            if v6:
                scrape(f, exporter, "::1", where)
            else:
                f.check(not reachable("::1", exporter.port), f"{where}: not on ::1")
            if v4:
                scrape(f, exporter, "127.0.0.1", where)
            else:
                f.check(not reachable("127.0.0.1", exporter.port),
                        f"{where}: not on 127.0.0.1")
            f.check(f"address={address}" in exporter.log(),
                    f"{where}: the listening log line names the address")
    return f.finish("e2e IPv6")


if __name__ == "__main__":
    h.run_script(main)
