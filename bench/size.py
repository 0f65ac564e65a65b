#!/usr/bin/env python3
"""What each part of tinyctr costs in the static binary, in bytes.

Builds the release binary again with its symbols kept (the shipped one is stripped; the
code is the same, only the symbol table differs), then adds up the sizes of the linked
symbols by the part of the code they come from (`nm -S -C`): tinyctr's modules grouped
into features, rustix/core, and musl libc's start files and routines. What no symbol
names (string literals, jump tables, padding, the ELF headers) is shown as such.

With LTO, code that is inlined is counted where it was inlined to: `main` holds the
argv parser and the dispatch, `spawn::launch` much of the run's parent side. The
figures are therefore per linked function, which is what a reader can check with nm.

    bench/size.py            # table on stdout
    bench/size.py --symbols  # also the 40 largest symbols
    bench/size.py --oci      # the build with the OCI runtime (--features oci)
"""
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# `--oci`: the build with the OCI runtime (`--features oci`), in target/size-oci.
OCI = "--oci" in sys.argv
TARGET = os.path.join(ROOT, "target", "size-oci" if OCI else "size")
BIN = os.path.join(TARGET, "x86_64-unknown-linux-musl", "release", "tinyctr")
SHIPPED = os.path.join(ROOT, "target", "oci" if OCI else "", "x86_64-unknown-linux-musl", "release", "tinyctr")

# tinyctr module (first path component after `tinyctr::`) -> feature.
FEATURES = [
    ("argv parser, help, errors", ["cli", "error", "out", "buf", "main"]),
    ("run: clone, handshake, child, exec, supervise", ["spawn", "trampoline", "exec", "env", "init", "supervise",
                                                        "sys", "fdio", "net", "mount", "fault"]),
    ("cgroup limits", ["cgroup", "limits", "mountinfo", "namelock"]),
    ("--rootfs", ["rootfs"]),
    ("confinement", ["confine"]),
    ("volumes, tmpfs, overlay", ["volume"]),
    ("OCI runtime", ["oci"]),
    ("tinyctr check", ["check"]),
]


def build():
    env = dict(os.environ, CARGO_PROFILE_RELEASE_STRIP="false")
    features = ["--features", "oci"] if OCI else []
    subprocess.run(["cargo", "build", "--release", "--quiet", "--target-dir", TARGET] + features, cwd=ROOT, env=env,
                   check=True)


def feature_of(name):
    if name == "main":
        return FEATURES[0][0]
    m = re.match(r"^<?(?:<)?(?:tinyctr)::(\w+)", name.lstrip("<"))
    if not m:
        inner = re.search(r"tinyctr::(\w+)", name)
        if inner and not name.startswith(("rustix", "core", "<rustix", "<core")):
            m = inner
    if m:
        mod = m.group(1)
        if mod == "rootfs" and ("volume" in name or "overlay" in name or "resolve" in name):
            return "volumes, tmpfs, overlay"
        for feat, mods in FEATURES:
            if mod in mods:
                return feat
        return "tinyctr (other)"
    if re.match(r"^<?(rustix|linux_raw_sys|sc|bitflags)::", name):
        return "rustix (syscall wrappers)"
    if re.match(r"^<?(core|alloc)::", name) or name.startswith("<&") or name.startswith("<["):
        return "core (formatting, slices, memchr)"
    return "musl libc (start files, memcpy, ...)"


def main():
    build()
    out = subprocess.run(["nm", "-S", "--size-sort", "-C", BIN], capture_output=True, text=True, check=True).stdout
    by = collections.Counter()
    syms = []
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 4 or parts[2] in "bBU":  # .bss takes no file space
            continue
        size = int(parts[1], 16)
        by[feature_of(parts[3])] += size
        syms.append((size, parts[3]))
    sections = subprocess.run(["size", "-A", BIN], capture_output=True, text=True, check=True).stdout
    loaded = sum(int(l.split()[1]) for l in sections.splitlines()[2:]
                 if l.split() and l.split()[0] in (".init", ".text", ".fini", ".rodata", ".eh_frame_hdr", ".eh_frame",
                                                  ".init_array", ".fini_array", ".got", ".got.plt", ".data"))
    shipped = os.path.getsize(SHIPPED) if os.path.exists(SHIPPED) else None
    named = sum(by.values())
    print(f"{'part':50} {'bytes':>8}")
    for feat, n in by.most_common():
        print(f"{feat:50} {n:8,}")
    print(f"{'unnamed (string literals, tables, padding)':50} {loaded - named:8,}")
    print(f"{'ELF headers and section alignment':50} {(shipped or loaded) - loaded:8,}")
    print(f"{'total (the stripped binary)':50} {(shipped or loaded):8,}")
    if "--symbols" in sys.argv:
        for size, name in sorted(syms, reverse=True)[:40]:
            print(f"{size:8,}  {name[:110]}")


if __name__ == "__main__":
    main()
