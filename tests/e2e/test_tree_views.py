#!/usr/bin/env python3
"""/tree in its three formats: the JSON of every type, over HTTP and from
the `tree` subcommand, validated against docs/tree.schema.json (with the
test's own pid, user and ip-netns namespaces in it when run as root); a
command with a quote and a backslash escaped exactly once; and the HTML
page chosen by `Accept: text/html` or `?format=html`, with its
Content-Security-Policy nonce on the inline style and script."""

import contextlib
import json
import os
import re
import subprocess
import sys

import e2e_lib as lib
import json_schema
import nsexp_harness as h

TYPES = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"]
# Set with /proc/self/comm by the child below: a quote, a backslash and a
# less-than sign, each of which some format has to escape.
HOSTILE_COMM = 'q"b\\s<x>'


@contextlib.contextmanager
def hostile_process():
    code = ("import sys, time\n"
            "open('/proc/self/comm', 'w').write(sys.argv[1])\n"
            "print('ready', flush=True)\n"
            "time.sleep(600)\n")
    p = subprocess.Popen([sys.executable, "-c", code, HOSTILE_COMM], stdout=subprocess.PIPE,
                         text=True)
    try:
        p.stdout.readline()
        yield p.pid
    finally:
        p.kill()
        p.wait()


def walk(nodes):
    for n in nodes:
        yield n
        yield from walk(n.get("owned", []))
        yield from walk(n.get("children", []))


def check_doc(f, doc, schema, ns_type, where):
    errors = json_schema.validate(doc, schema)
    f.check(not errors, f"{where}: not valid against the schema: {errors[:5]}")
    f.equal(doc.get("type"), ns_type, f"{where}: type")
    inodes = [n["inode"] for n in walk(doc.get("roots", []) + doc.get("unowned", []))
              if n.get("type") == ns_type]
    f.check(inodes, f"{where}: no {ns_type} namespace")
    f.equal(len(inodes), len(set(inodes)), f"{where}: a namespace appears twice")


def members(doc):
    for n in walk(doc.get("roots", []) + doc.get("unowned", [])):
        for m in n.get("members", []):
            yield m


def main():
    args = lib.parse_args(__doc__)
    with open(os.path.join(args.source, "docs", "tree.schema.json")) as fh:
        schema = json.load(fh)
    f = h.Failures()
    root = os.geteuid() == 0
    if not root:
        f.skip("not root: the pid, user and net namespaces of the test are not made")
    pop_ctx = lib.Population(netns=1) if root else contextlib.nullcontext()
    with pop_ctx as pop, hostile_process() as hostile, lib.Exporter(args.exporter) as exp:
        for t in TYPES:
            status, headers, body = exp.get(f"/tree?type={t}&format=json")
            f.equal(status, 200, f"GET /tree?type={t}&format=json")
            f.check(headers.get("Content-Type", "").startswith("application/json"),
                    f"{t}: JSON content type")
            doc = lib.load_json(f, body.decode("utf-8"), f"/tree?type={t}")
            check_doc(f, doc, schema, t, f"/tree?type={t}&format=json")
            if t == "pid":
                got = [m["command"] for m in members(doc) if m["pid"] == hostile]
                f.equal(got, [HOSTILE_COMM], "the hostile command decodes to itself")
                f.check(b'"q\\"b\\\\s<x>"' in body, "the hostile command is escaped once")
                if pop:
                    lib.check_pid_tree_json(f, doc, pop, "/tree json")
            if t == "user" and pop:
                lib.check_user_tree_json(f, doc, pop, "/tree?type=user")
            if t == "net" and pop:
                netns = os.stat(f"/run/netns/{pop.netns[0]}").st_ino
                node = next((n for n in walk(doc["roots"] + doc.get("unowned", []))
                             if n["type"] == "net" and n["inode"] == netns), None)
                if f.check(node, f"net:[{netns}] of ip netns is in the net tree"):
                    f.equal(node["holders"]["bind_mount"] >= 1, True, "netns: bind_mount holder")
                    f.check(any(b["name"] == pop.netns[0] and b["path"].endswith("/" + pop.netns[0])
                                for b in node["bind_mounts"]),
                            f"netns: its bind mount named: {node['bind_mounts']}")
                    f.equal(node["processes"], 0, "netns: no process")
            rc, out, err = lib.run_tree(args.exporter, t, "json")
            f.equal(rc, 0, f"tree --type {t} --format json exit ({err.strip()})")
            check_doc(f, lib.load_json(f, out, f"tree --type {t}"), schema, t,
                      f"tree --type {t} --format json")

        # Content negotiation.
        status, headers, body = exp.get("/tree", headers={"Accept": "text/html,*/*;q=0.8"})
        f.equal(status, 200, "GET /tree as a browser")
        f.check(headers.get("Content-Type", "").startswith("text/html"),
                f"Accept: text/html gets HTML ({headers.get('Content-Type')})")
        f.equal(headers.get("Vary"), "Accept", "Vary: Accept")
        csp = headers.get("Content-Security-Policy", "")
        m = re.search(r"script-src 'nonce-([A-Za-z0-9+/=]+)'", csp)
        if f.check(m, f"CSP has a script nonce: {csp!r}"):
            nonce = m.group(1)
            f.check(f"style-src 'nonce-{nonce}'" in csp, "CSP style nonce")
            f.check("default-src 'none'" in csp, "CSP default-src 'none'")
            page = body.decode("utf-8")
            f.equal(page.count(f'nonce="{nonce}"'), 2, "the style and the script carry the nonce")
            f.equal(page.count("<script"), 1, "one script")
            f.check(not re.search(r"(src|href)=\"(https?:)?//", page), "no external asset")
            f.check("q&quot;b\\s&lt;x&gt;" in page, "the hostile command is HTML-escaped once")
        status2, headers2, _ = exp.get("/tree", headers={"Accept": "text/html"})
        f.check(headers.get("Content-Security-Policy") != headers2.get("Content-Security-Policy"),
                "a fresh nonce for each page")
        status, headers, _ = exp.get("/tree?format=html&type=net")
        f.check(headers.get("Content-Type", "").startswith("text/html"), "?format=html gets HTML")
        status, headers, _ = exp.get("/tree?format=text", headers={"Accept": "text/html"})
        f.check(headers.get("Content-Type", "").startswith("text/plain"),
                "?format=text wins over Accept")
        status, headers, _ = exp.get("/tree")
        f.check(headers.get("Content-Type", "").startswith("text/plain"),
                "without Accept: text/html, /tree stays text")
        f.equal(exp.get("/tree?format=xml")[0], 400, "GET /tree?format=xml")
        _, _, landing = exp.get("/")
        f.check(b'href="/tree?format=html"' in landing, "the landing page links the HTML tree")
    return f.finish("e2e tree views")


if __name__ == "__main__":
    h.run_script(main)
