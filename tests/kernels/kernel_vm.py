#!/usr/bin/env python3
"""Debian's own kernels for the kernel matrix: fetch them, boot them.

  kernel_vm.py fetch [SERIES...]
      Downloads Debian's generic kernel of each series (apt-get download),
      unpacks it (dpkg-deb -x) into the cache, extracts the uncompressed
      vmlinux from the vmlinuz and writes modules.dep (depmod). Never installs
      anything. Idempotent: a kernel already in the cache is not fetched again.
  kernel_vm.py run --series S --init INIT [-k DIR]... [-w DIR] -- CMD...
      Boots that kernel under QEMU with the host's root filesystem shared
      read-only over 9p and INIT (guest_init.c) as PID 1, runs CMD in it and
      exits with CMD's exit status. Exits 77 when QEMU cannot start at all.

The cache is $NSEXP_KERNEL_CACHE, else $XDG_CACHE_HOME (or ~/.cache)
/linux_namespace_exporter/kernels. QEMU uses KVM when a probe boot shows that
it runs these kernels, TCG otherwise; NSEXP_VM_ACCEL=tcg|kvm forces one.
Standard library only.
"""

import argparse
import lzma
import os
import re
import selectors
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zlib

SKIP = 77

# Series -> the Debian 12 meta package whose dependency names the kernel.
SERIES = {
    "6.1": "linux-image-amd64",
    "6.12": "linux-image-6.12-amd64",
}
# Reaching the host's root filesystem: 9p over virtio-pci.
MODULES = ["virtio_pci", "9pnet_virtio", "9p"]
EXIT_MARKER = re.compile(rb"NSEXP_GUEST_EXIT=(\d+)")


def cache_dir():
    d = os.environ.get("NSEXP_KERNEL_CACHE")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        d = os.path.join(base, "linux_namespace_exporter", "kernels")
    os.makedirs(d, exist_ok=True)
    return d


def log(msg):
    print(f"kernel_vm: {msg}", file=sys.stderr, flush=True)


def package_of(series):
    """The concrete image package the series' meta package depends on."""
    meta = SERIES[series]
    try:
        out = subprocess.run(["apt-cache", "depends", meta], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        out = ""
    for line in out.splitlines():
        m = re.match(r"\s*Depends:\s*(linux-image-\S+-amd64)\s*$", line)
        if m:
            return m.group(1)
    # No package lists (offline): fall back to what the cache holds.
    prefix = "linux-image-" + series + ("." if series == "6.12" else ".0-")
    cached = sorted(n for n in os.listdir(cache_dir())
                    if n.startswith(prefix) and
                    os.path.exists(os.path.join(cache_dir(), n, "ready")))
    if cached:
        return cached[-1]
    raise RuntimeError(f"cannot tell which package is {meta}'s kernel")


def extract_vmlinux(vmlinuz, out):
    """Finds the compressed payload in a bzImage and writes the ELF."""
    data = open(vmlinuz, "rb").read()
    candidates = []
    for magic, kind in ((b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"),
                        (b"\x1f\x8b\x08", "gzip")):
        start = 0
        while (i := data.find(magic, start)) >= 0:
            candidates.append((i, kind))
            start = i + 1
    for offset, kind in sorted(candidates):
        payload = data[offset:]
        try:
            if kind == "xz":
                elf = lzma.LZMADecompressor().decompress(payload)
            elif kind == "zstd":
                elf = subprocess.run(["zstd", "-dcq"], input=payload,
                                     capture_output=True).stdout
            else:
                elf = zlib.decompressobj(31).decompress(payload)
        except (lzma.LZMAError, zlib.error, OSError, ValueError):
            continue
        if elf[:4] == b"\x7fELF":
            with open(out + ".part", "wb") as f:
                f.write(elf)
            os.rename(out + ".part", out)
            return
    raise RuntimeError(f"no compressed ELF payload found in {vmlinuz}")


def fetch(series):
    pkg = package_of(series)
    root = os.path.join(cache_dir(), pkg)
    if os.path.exists(os.path.join(root, "ready")):
        return root
    log(f"fetching {pkg}")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    work = tempfile.mkdtemp(dir=cache_dir())
    try:
        # apt's download sandbox user may not write here; that is harmless.
        subprocess.run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", pkg], cwd=work, check=True,
                       stdout=subprocess.DEVNULL)
        deb = [f for f in os.listdir(work) if f.endswith(".deb")][0]
        tree = os.path.join(root, "tree")
        subprocess.run(["dpkg-deb", "-x", os.path.join(work, deb), tree],
                       check=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    boot = os.path.join(root, "tree", "boot")
    vmlinuz = [f for f in os.listdir(boot) if f.startswith("vmlinuz-")][0]
    release = vmlinuz[len("vmlinuz-"):]
    extract_vmlinux(os.path.join(boot, vmlinuz), os.path.join(root, "vmlinux"))
    subprocess.run(["depmod", "-b", os.path.join(root, "tree"), release],
                   check=True)
    with open(os.path.join(root, "release"), "w") as f:
        f.write(release + "\n")
    open(os.path.join(root, "ready"), "w").close()
    return root


# --- initramfs (newc cpio) -------------------------------------------------

def _cpio_entry(out, name, mode, data=b"", rdev=(0, 0)):
    out.append(b"070701")
    fields = [0, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(name) + 1, 0]
    out.append(b"".join(b"%08X" % v for v in fields))
    out.append(name.encode() + b"\0")
    pad = (4 - (110 + len(name) + 1) % 4) % 4
    out.append(b"\0" * pad)
    out.append(data)
    out.append(b"\0" * ((4 - len(data) % 4) % 4))


def make_initramfs(root, init, path):
    release = open(os.path.join(root, "release")).read().strip()
    moddir = None
    for cand in ("lib/modules", "usr/lib/modules"):
        if os.path.isdir(os.path.join(root, "tree", cand, release)):
            moddir = os.path.join(root, "tree", cand, release)
    dep = open(os.path.join(moddir, "modules.dep"), "rb").read()
    deps = {}
    for line in dep.decode().splitlines():
        target, _, rest = line.partition(":")
        deps[target] = rest.split()
    byname = {re.sub(r"\.ko(\..*)?$", "", os.path.basename(t)): t for t in deps}
    files = set()
    for name in MODULES:
        if name in byname:
            files.add(byname[name])
            files.update(deps[byname[name]])
    out = []
    dirs = {"dev", "lib", "lib/modules", f"lib/modules/{release}"}
    for f in files:
        parts = f.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add(f"lib/modules/{release}/" + "/".join(parts[:i]))
    for d in sorted(dirs):
        _cpio_entry(out, d, stat.S_IFDIR | 0o755)
    _cpio_entry(out, "dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    _cpio_entry(out, "init", stat.S_IFREG | 0o755, open(init, "rb").read())
    _cpio_entry(out, "modules", stat.S_IFREG | 0o644,
                ("\n".join(MODULES) + "\n").encode())
    _cpio_entry(out, f"lib/modules/{release}/modules.dep",
                stat.S_IFREG | 0o644, dep)
    for f in sorted(files):
        _cpio_entry(out, f"lib/modules/{release}/{f}", stat.S_IFREG | 0o644,
                    open(os.path.join(moddir, f), "rb").read())
    _cpio_entry(out, "TRAILER!!!", 0)
    with open(path, "wb") as f:
        f.write(b"".join(out))


# --- booting ---------------------------------------------------------------

def qemu_argv(root, initrd, accel, init_args):
    vmlinux = os.path.join(root, "vmlinux")
    accel_args = (["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else
                  ["-accel", "tcg,tb-size=256", "-cpu", "max"])
    append = ("console=ttyS0 panic=-1 quiet loglevel=3 "
              "-- " + " ".join(init_args))
    return ["qemu-system-x86_64", "-machine", "pc", *accel_args,
            "-m", "1024", "-smp", "1", "-nographic", "-no-reboot",
            "-nic", "none", "-kernel", vmlinux, "-initrd", initrd,
            "-append", append,
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,"
                       "readonly=on,multidevs=remap"]


def boot(root, init, accel, init_args, timeout, echo=True):
    """Runs one VM; returns (exit status or None, seconds to the command's
    start or None, output, whether QEMU itself failed before any guest
    output)."""
    with tempfile.TemporaryDirectory() as tmp:
        initrd = os.path.join(tmp, "initramfs.cpio")
        make_initramfs(root, init, initrd)
        argv = qemu_argv(root, initrd, accel, init_args)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        except OSError as e:
            return None, None, f"cannot start QEMU: {e}".encode(), True
        output = bytearray()
        started = None
        timed_out = False
        deadline = start + timeout
        os.set_blocking(proc.stdout.fileno(), False)
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                proc.wait()
                timed_out = True
                log(f"timed out after {timeout} s")
                break
            if sel.select(timeout=min(left, 1.0)):
                chunk = proc.stdout.read()
                if chunk:
                    if started is None and b"NSEXP_GUEST_START" in output + chunk:
                        started = time.monotonic() - start
                    output += chunk
                    if echo:
                        sys.stdout.buffer.write(chunk)
                        sys.stdout.buffer.flush()
                    continue
                if chunk == b"":
                    proc.wait()
                    break
            elif proc.poll() is not None:
                break
        sel.close()
        proc.wait()
        m = EXIT_MARKER.search(bytes(output))
        guest_spoke = any(w in output for w in (
            b"NSEXP_GUEST_START", b"guest-init", b"Kernel panic", b"Linux version"))
        qemu_failed = (not m and not timed_out and proc.returncode != 0
                       and not guest_spoke)
        return (int(m.group(1)) if m else None), started, bytes(output), qemu_failed


def choose_accel(root, init):
    forced = os.environ.get("NSEXP_VM_ACCEL")
    if forced in ("tcg", "kvm"):
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    # Some hosts offer a /dev/kvm that cannot run stock kernels (QEMU aborts,
    # or the guest dies on an emulation failure): probe once per host kernel.
    probe = os.path.join(cache_dir(), "kvm-probe-" + os.uname().release)
    if os.path.exists(probe):
        return open(probe).read().strip()
    status, _, _, _ = boot(root, init, "kvm", ["/bin/true"], timeout=30,
                        echo=False)
    accel = "kvm" if status == 0 else "tcg"
    with open(probe, "w") as f:
        f.write(accel + "\n")
    log(f"KVM {'works' if accel == 'kvm' else 'does not run these kernels'}"
        f"; using {accel}")
    return accel


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch")
    f.add_argument("series", nargs="*", default=list(SERIES))
    r = sub.add_parser("run")
    r.add_argument("--series", required=True, choices=list(SERIES))
    r.add_argument("--init", required=True)
    r.add_argument("-k", dest="keep", action="append", default=[])
    r.add_argument("-w", dest="workdir", default="/")
    r.add_argument("--timeout", type=float, default=540)
    r.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    if a.cmd == "fetch":
        for s in a.series:
            print(fetch(s))
        return 0
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        p.error("no command")
    if shutil.which("qemu-system-x86_64") is None:
        print("SKIP: qemu-system-x86_64 is not installed "
              "(scripts/install-deps.sh --test installs it)", file=sys.stderr)
        return SKIP
    try:
        root = fetch(a.series)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        print(f"SKIP: cannot fetch the {a.series} kernel: {e}", file=sys.stderr)
        return SKIP
    accel = choose_accel(root, a.init)
    init_args = []
    # Everything else of the host is visible as it is; /tmp and /run are
    # fresh tmpfs in the guest, so directories there are kept explicitly.
    for k in a.keep:
        k = os.path.realpath(k)
        if k.startswith(("/tmp/", "/run/")):
            init_args += ["-k", k]
    init_args += ["-w", a.workdir, *command]
    log(f"booting {os.path.basename(root)} ({accel})")
    status, started, output, qemu_failed = boot(root, a.init, accel, init_args,
                                                a.timeout)
    if status is None:
        if qemu_failed:
            print(f"SKIP: QEMU did not start a guest: "
                  f"{output[-2000:].decode(errors='replace')}", file=sys.stderr)
            return SKIP
        log("the guest did not report an exit status")
        return 1
    if started is not None:
        log(f"command started {started:.1f} s after QEMU")
    return status


if __name__ == "__main__":
    sys.exit(main())
