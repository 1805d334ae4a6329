#!/usr/bin/env python3
"""The `tree` subcommand on the fixture procfs trees, compared with golden
files (tests/e2e/golden/tree_<fixture>.txt): every type, text without
colour, plus one coloured rendering. `--color=never` and the default on a
pipe write no escape sequence; `--color=always` does. The golden files are
rewritten only with --update-golden.

Fixtures cannot answer the nsfs ioctls, so the binary sees no parents or
owners there: every namespace is a root, which is what the golden files
show (the nesting itself is checked by the unit tests and e2e.http)."""

import argparse
import difflib
import os
import subprocess
import sys

import nsexp_harness as h

FIXTURES = ["basic", "nested", "bind_mounts", "holders"]
TYPES = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"]
ESC = "\x1b"


def run(exe, fixture_dir, *args):
    r = subprocess.run([exe, f"--path.procfs={fixture_dir}", "tree", *args],
                       capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
    return r.returncode, r.stdout, r.stderr


def render(exe, fixture_dir, f, where):
    """The golden text of one fixture: each type's output under a heading."""
    out = []
    for t in TYPES:
        rc, text, err = run(exe, fixture_dir, "--type", t, "--color=never")
        f.equal(rc, 0, f"{where}: tree --type {t} exit ({err.strip()})")
        f.check(ESC not in text, f"{where}: --color=never --type {t} writes no escape")
        out.append(f"== tree --type {t} --color=never\n{text}")
    rc, text, _ = run(exe, fixture_dir, "--type", "net", "--color=always")
    f.check(ESC in text, f"{where}: --color=always writes escape sequences")
    out.append("== tree --type net --color=always (ESC shown as \\e)\n" + text.replace(ESC, "\\e"))
    rc, text, _ = run(exe, fixture_dir, "--type", "net")
    f.check(ESC not in text, f"{where}: the default (auto) writes no escape to a pipe")
    return "".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--exporter", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--update-golden", action="store_true",
                   help="rewrite the golden files instead of comparing")
    args = p.parse_args()
    f = h.Failures()
    for fixture in FIXTURES:
        fixture_dir = os.path.join(args.source, "tests", "fixtures", "proc", fixture)
        golden = os.path.join(args.source, "tests", "e2e", "golden", f"tree_{fixture}.txt")
        got = render(args.exporter, fixture_dir, f, fixture)
        if args.update_golden:
            with open(golden, "w") as fh:
                fh.write(got)
            print(f"wrote {golden}")
            continue
        with open(golden) as fh:
            want = fh.read()
        if not f.check(got == want, f"{fixture}: output differs from {golden} "
                       "(rerun with --update-golden if the change is intended)"):
            sys.stdout.writelines(difflib.unified_diff(
                want.splitlines(True), got.splitlines(True), "golden", "got"))
    r = subprocess.run([args.exporter, "tree", "--color=sometimes"], capture_output=True, text=True)
    f.equal(r.returncode, 2, "tree --color=sometimes: exit code")
    return f.finish("e2e tree cli")


if __name__ == "__main__":
    h.run_script(main)
