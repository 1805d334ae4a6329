#!/usr/bin/env python3
"""Bad input to the binary gets a clear message and the documented exit
code: unknown flag (usage on stderr, 2), listen address in use (one line on
stderr, 1), missing --path.procfs (1), invalid flag values (2); --help (0,
every flag with its default) and --version (0, version and revision)."""

import os
import re
import socket
import subprocess
import tempfile

import e2e_lib as lib
import nsexp_harness as h

# flag -> default shown by --help (None: the flag has no default value).
FLAGS = {
    "--web.listen-address": ":19101",
    "--web.telemetry-path": "/metrics",
    "--web.config.file": None,
    "--config.file": None,
    "--path.procfs": "/proc",
    "--log.level": "info",
    "--log.format": "logfmt",
    "--version": None,
    "--help": None,
}


def run(exporter, *args, timeout=20):
    return subprocess.run([exporter, *args], capture_output=True, text=True, timeout=timeout)


def main():
    args = lib.parse_args(__doc__)
    exe = args.exporter
    f = h.Failures()

    r = run(exe, "--no.such-flag")
    f.equal(r.returncode, 2, "unknown flag: exit code")
    f.check("--no.such-flag" in r.stderr, f"unknown flag named on stderr: {r.stderr[:200]!r}")
    f.check("Usage:" in r.stderr, "unknown flag: usage on stderr")
    f.equal(r.stdout, "", "unknown flag: nothing on stdout")

    r = run(exe, "--log.level=loud")
    f.equal(r.returncode, 2, "invalid --log.level: exit code")
    r = run(exe, "tree", "--type", "bogus")
    f.equal(r.returncode, 2, "tree --type bogus: exit code")

    r = run(exe, "--help")
    f.equal(r.returncode, 0, "--help: exit code")
    for flag, default in FLAGS.items():
        line = next((l for l in r.stdout.splitlines() if re.search(re.escape(flag) + r"\b", l)), None)
        if not f.check(line is not None, f"--help lists {flag}"):
            continue
        if default is not None:
            f.check(f"={default}" in line, f"--help shows default {default} of {flag}: {line!r}")
    f.check("tree" in r.stdout, "--help lists the tree subcommand")
    r = run(exe, "tree", "--help")
    f.equal(r.returncode, 0, "tree --help: exit code")
    f.check(re.search(r"--type\b.*=pid", r.stdout), f"tree --help shows --type default pid")
    f.check(re.search(r"--format\b.*=text", r.stdout), f"tree --help shows --format default text")

    r = run(exe, "--version")
    f.equal(r.returncode, 0, "--version: exit code")
    m = re.search(r"version (\S+) \(revision (\S+)\)", r.stdout)
    f.check(m and m.group(1) and m.group(2), f"--version prints version and revision: {r.stdout!r}")

    with tempfile.TemporaryDirectory(prefix="nsexp-e2e-") as tmp:
        missing = os.path.join(tmp, "no-such-proc")
        r = run(exe, f"--path.procfs={missing}", "--web.listen-address=127.0.0.1:0")
        f.equal(r.returncode, 1, "missing --path.procfs: exit code")
        f.check("--path.procfs" in r.stderr and missing in r.stderr,
                f"missing --path.procfs: message names flag and path: {r.stderr!r}")
        f.equal(len([l for l in r.stderr.strip().splitlines() if not l.startswith("ts=")]), 1,
                "missing --path.procfs: one line")
        r = run(exe, f"--path.procfs={missing}", "tree")
        f.equal(r.returncode, 1, "tree with missing --path.procfs: exit code")

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = run(exe, f"--web.listen-address=127.0.0.1:{port}")
        f.equal(r.returncode, 1, "address in use: exit code")
        # Log lines of level info (start-up notes) may come first; the
        # failure itself is one plain line.
        lines = [l for l in r.stderr.strip().splitlines()
                 if not re.match(r'(ts=\S+ level=(debug|info)\b|\{"ts":)', l)]
        f.equal(len(lines), 1, f"address in use: one line on stderr ({r.stderr!r})")
        f.check(lines and f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0].lower(),
                f"address in use: line names the address and the cause: {lines}")

    r = run(exe, "--web.listen-address=127.0.0.1:99999")
    f.check(r.returncode != 0, "port out of range: non-zero exit")
    f.check(r.stderr.strip(), "port out of range: message on stderr")
    return f.finish("e2e bad input")


if __name__ == "__main__":
    h.run_script(main)
