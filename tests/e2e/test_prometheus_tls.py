#!/usr/bin/env python3
"""A real Prometheus scrapes the exporter over HTTPS with mutual TLS: the
exporter serves certificates made here by openssl and requires a client
certificate of the test CA (RequireAndVerifyClientCert); Prometheus's
tls_config names the CA and the client certificate. One exporter listens
on 127.0.0.1, one on the IPv6 loopback [::1]. The targets API must show
health "up" for both, and "down" for a job that offers no client
certificate (the exporter refuses it)."""

import json
import os
import socket
import tempfile

import e2e_lib as lib
import nsexp_harness as h

PROMETHEUS = h.PROMETHEUS


def targets(base):
    status, _, body = h.http(f"{base}/api/v1/targets", timeout=20)
    if status != 200:
        return []
    return json.loads(body)["data"]["activeTargets"]


def main():
    args = lib.parse_args(__doc__)
    if not os.access(PROMETHEUS, os.X_OK):
        h.skip("no prometheus binary (Debian package prometheus)")
    h.require_tool("openssl", "Debian package openssl")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        h.skip("no IPv6 loopback here")
    f = h.Failures()
    with tempfile.TemporaryDirectory(prefix="nsexp-e2e-prom-tls-") as tmp:
        h.make_pki(tmp)
        web = os.path.join(tmp, "web.yml")
        with open(web, "w") as w:
            w.write("tls_server_config:\n  cert_file: server.crt\n"
                    "  key_file: server.key\n"
                    "  client_auth_type: RequireAndVerifyClientCert\n"
                    "  client_ca_file: ca.crt\n  min_version: TLS12\n")
        exporters = []
        try:
            for host in ("127.0.0.1", "::1"):
                e = h.Exporter(args.exporter, f"--web.config.file={web}", host=host,
                               ready_path=None,
                               log_path=os.path.join(tmp, f"exporter-{len(exporters)}.log"))
                exporters.append(e)
                e.start()
            hosts = [h.host_port(e.host, e.port) for e in exporters]
            config = os.path.join(tmp, "prometheus.yml")
            tls = (f"    tls_config:\n      ca_file: {json.dumps(os.path.join(tmp, 'ca.crt'))}\n")
            with open(config, "w") as c:
                c.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mtls
    scheme: https
{tls}      cert_file: {json.dumps(os.path.join(tmp, 'client.crt'))}
      key_file: {json.dumps(os.path.join(tmp, 'client.key'))}
    static_configs:
      - targets: {json.dumps(hosts)}
  - job_name: no_client_cert
    scheme: https
{tls}    static_configs:
      - targets: {json.dumps(hosts[:1])}
""")
            prom, base = h.prometheus_server(config, tmp)
            try:
                prom.start()
            except RuntimeError as err:
                f.check(False, f"Prometheus became ready: {err}")
                return f.finish("e2e prometheus tls")
            try:
                def settled():
                    t = targets(base)
                    return len(t) == 3 and all(x["health"] != "unknown" for x in t) and t

                def healthy():
                    t = targets(base)
                    mtls = [x for x in t if x["labels"]["job"] == "mtls"]
                    return len(mtls) == 2 and all(x["health"] == "up" for x in mtls) and t

                # Both: the mTLS targets up and every target scraped once
                # (the refused one is down only after its first scrape).
                found = h.wait_until(lambda: healthy() and settled(), 30, 0.5) or []
                for x in found:
                    print(x["labels"]["job"], x["scrapeUrl"], x["health"], x.get("lastError", ""))
                mtls = {x["scrapeUrl"]: x for x in found if x["labels"]["job"] == "mtls"}
                for hp in hosts:
                    url = f"https://{hp}/metrics"
                    x = mtls.get(url)
                    f.check(x is not None and x["health"] == "up",
                            f"{url} health up with CA and client certificate: {x}")
                refused = [x for x in found if x["labels"]["job"] == "no_client_cert"]
                f.check(len(refused) == 1 and refused[0]["health"] == "down",
                        f"a scrape without a client certificate is refused: {refused}")
                status, _, body = h.http(
                    f"{base}/api/v1/query?query=linux_namespace_exporter_build_info", timeout=20)
                series = json.loads(body)["data"]["result"] if status == 200 else []
                f.equal(len([s for s in series if s["metric"]["job"] == "mtls"]), 2,
                        "build_info scraped from both exporters")
                f.check(all(e.alive() for e in exporters), "exporters still running")
            finally:
                prom.stop(timeout=20)
        finally:
            for e in exporters:
                e.stop()
    return f.finish("e2e prometheus tls")


if __name__ == "__main__":
    h.run_script(main)
