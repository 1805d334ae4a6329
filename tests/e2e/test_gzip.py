#!/usr/bin/env python3
"""gzip on /metrics: a client that sends Accept-Encoding: gzip (curl
--compressed, Python) gets a gzip body with Content-Encoding: gzip, every
other client the identity body; both carry Vary: Accept-Encoding. Over a
fixture /proc the decompressed body equals the identity body byte for byte,
but for the values of the exporter's own samples that change from one scrape
to the next. Concurrent scrapers of one collection share one compression
(the exporter's debug log names each compressed collection once)."""

import gzip
import re
import shutil
import subprocess
import threading

import e2e_lib as lib
import nsexp_harness as h

# Samples whose value changes between two scrapes of the same fixture.
VOLATILE = re.compile(
    r"^((?:linux_namespace_exporter_scrape_duration_seconds|"
    r"linux_namespace_exporter_scrape_errors_total|"
    r"linux_namespace_exporter_holder_errors_total|process_[a-z_]+)"
    r"(?:\{[^}]*\})?) \S+$", re.M)


def masked(text):
    return VOLATILE.sub(r"\1 X", text)


def get(e, encoding=None):
    headers = {"Accept-Encoding": encoding} if encoding is not None else {}
    return h.http(e.url("/metrics"), headers=headers)


def main():
    args = lib.parse_args(__doc__)
    f = h.Failures()
    fixture = f"{args.source}/tests/fixtures/proc/basic"

    with h.Exporter(args.exporter, f"--path.procfs={fixture}",
                    ready_path="/-/ready") as e:
        status, hdr, identity = get(e)
        f.equal(status, 200, "identity: status")
        f.equal(hdr.get("Content-Encoding"), None, "identity: Content-Encoding")
        f.equal(hdr.get("Vary"), "Accept-Encoding", "identity: Vary")
        identity = identity.decode("utf-8")
        f.check("linux_namespace_info{" in identity, "identity: namespace samples")

        status, hdr, body = get(e, "gzip")
        f.equal(status, 200, "gzip: status")
        f.equal(hdr.get("Content-Encoding"), "gzip", "gzip: Content-Encoding")
        f.equal(hdr.get("Vary"), "Accept-Encoding", "gzip: Vary")
        f.equal(int(hdr.get("Content-Length", -1)), len(body), "gzip: Content-Length")
        f.check(body[:2] == b"\x1f\x8b", "gzip: body starts with the gzip magic")
        text = gzip.decompress(body).decode("utf-8")
        f.check(len(body) < len(text), f"gzip: {len(body)} bytes for {len(text)}")
        f.equal(masked(text), masked(identity), "gzip: decompressed body")

        for refusal in ("identity", "gzip;q=0", "br, deflate"):
            status, hdr, body = get(e, refusal)
            f.equal(hdr.get("Content-Encoding"), None, f"{refusal!r}: Content-Encoding")
            f.equal(masked(body.decode("utf-8")), masked(identity), f"{refusal!r}: body")

        curl = shutil.which("curl")
        if curl is None:
            f.skip("curl not installed (Debian package curl): curl --compressed not checked")
        else:
            r = subprocess.run([curl, "-sS", "--compressed", "-D", "-", "-o", "/dev/null",
                                e.url("/metrics")], capture_output=True, text=True, timeout=30)
            f.check(re.search(r"(?im)^content-encoding: gzip\r?$", r.stdout),
                    f"curl --compressed: gzip sent: {r.stdout!r}")
            r = subprocess.run([curl, "-sS", "--compressed", e.url("/metrics")],
                               capture_output=True, text=True, timeout=30)
            f.equal(r.returncode, 0, "curl --compressed: exit status")
            f.equal(masked(r.stdout), masked(identity), "curl --compressed: body")

    # The host's /proc, debug log: eight scrapers at once, some sharing a
    # collection; no collection is compressed twice.
    with h.Exporter(args.exporter, "--log.level=debug", ready_path="/-/ready") as e:
        results = []

        def scrape():
            status, hdr, body = get(e, "gzip")
            results.append((status, hdr.get("Content-Encoding"), body))

        for _ in range(3):
            threads = [threading.Thread(target=scrape) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        f.equal(len(results), 24, "concurrent: responses")
        for status, encoding, body in results:
            f.equal((status, encoding), (200, "gzip"), "concurrent: status and encoding")
            try:
                h.parse_metrics(gzip.decompress(body).decode("utf-8"))
            except (OSError, ValueError) as err:
                f.check(False, f"concurrent: body unreadable: {err}")
        generations = re.findall(r'msg="compressed the metrics body" generation=(\d+)',
                                 e.log())
        f.check(generations, "concurrent: compressions logged")
        f.equal(len(generations), len(set(generations)),
                f"concurrent: each collection compressed once ({generations})")
    return f.finish("e2e gzip")


if __name__ == "__main__":
    h.run_script(main)
