#!/usr/bin/env python3
"""Turns docker's default seccomp profile into src/confine/profile.rs, the const table
tinyctr compiles its default filter from, so that the table can be made again.

    python3 tools/seccomp-profile.py           # writes src/confine/profile.rs
    python3 tools/seccomp-profile.py --stdout  # prints it (the unit test compares)

Inputs:
  * tests/fixtures/seccomp-default.json: moby/profiles seccomp/default.json, as is;
  * x86_64 syscall numbers from <asm/unistd_64.h> (Debian's linux-libc-dev) and, for the
    names newer than that header, linux-raw-sys's x86_64 `general::__NR_*` constants (the
    crate tinyctr builds with, found through Cargo.lock); where both know a name
    they must agree;
  * capability numbers from <linux/capability.h>.

The profile is judged for amd64, as moby does (its `includes.arches`/`excludes.arches`
compare against the daemon's GOARCH, not against each call's ABI): rules for other
architectures are dropped, and names with no x86_64 syscall (i386-only calls such as
`socketcall` or `chown32`, other architectures' calls) are listed in NOT_X86_64 below. A
name that is neither known nor listed stops the generator, so a new syscall in a newer
profile cannot go missing silently.

The table keeps what the compiler needs and nothing else: rule 0 and the other
unconditional, ungated allow rules become one bitmap; every other rule keeps its syscall
numbers, action, the one capability it needs (`includes.caps`) or must not have
(`excludes.caps`), its `minKernel`, and its argument conditions. Several single-condition
rules for the same syscalls with the same gate (socket's families, personality's values)
become one entry whose conditions are alternatives. Shapes the table cannot hold (two
capabilities in one list, several conditions in one rule, `excludes.minKernel`, an action
other than ALLOW or ERRNO, rules that could disagree) stop the generator.
"""

import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = "tests/fixtures/seccomp-default.json"
# Where the fixture was copied from (moby/profiles, seccomp/default.json).
SOURCE = "moby/profiles seccomp/default.json at 02e898b137ae"
OUTPUT = "src/confine/profile.rs"
UNISTD = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
CAPABILITY = "/usr/include/linux/capability.h"
ARCH = "amd64"

# Names in the profile that have no x86_64 syscall: i386 calls (the 32-bit time and
# uid variants, socketcall, ipc's siblings), other architectures' calls, and `umount`
# (x86_64 has only umount2).
NOT_X86_64 = {
    "_llseek", "_newselect", "chown32", "clock_adjtime64", "clock_getres_time64",
    "clock_gettime64", "clock_nanosleep_time64", "clock_settime64", "fadvise64_64",
    "fchown32", "fcntl64", "fstat64", "fstatat64", "fstatfs64", "ftruncate64",
    "futex_time64", "getegid32", "geteuid32", "getgid32", "getgroups32", "getresgid32",
    "getresuid32", "getuid32", "io_pgetevents_time64", "ipc", "lchown32", "lstat64",
    "mmap2", "mq_timedreceive_time64", "mq_timedsend_time64", "ppoll_time64",
    "pselect6_time64", "recv", "recvmmsg_time64", "riscv_hwprobe",
    "rt_sigtimedwait_time64", "sched_rr_get_interval_time64", "semtimedop_time64", "send",
    "sendfile64", "setfsgid32", "setfsuid32", "setgid32", "setgroups32", "setregid32",
    "setresgid32", "setresuid32", "setreuid32", "setuid32", "sigprocmask", "sigreturn",
    "socketcall", "stat64", "statfs64", "stime", "timer_gettime64", "timer_settime64",
    "timerfd_gettime64", "timerfd_settime64", "truncate64", "ugetrlimit", "umount",
    "utimensat_time64", "waitpid",
    # Rules for other architectures name these; they are dropped before lookup, but a
    # complete list keeps the check above simple.
    "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush",
    "riscv_flush_icache", "s390_pci_mmio_read", "s390_pci_mmio_write",
    "s390_runtime_instr", "set_tls", "swapcontext", "sync_file_range2",
}

OPS = {
    "SCMP_CMP_NE": "Ne", "SCMP_CMP_LT": "Lt", "SCMP_CMP_LE": "Le", "SCMP_CMP_EQ": "Eq",
    "SCMP_CMP_GE": "Ge", "SCMP_CMP_GT": "Gt", "SCMP_CMP_MASKED_EQ": "MaskedEq",
}


def die(msg):
    sys.exit("seccomp-profile.py: " + msg)


def header_numbers():
    nums = {}
    with open(UNISTD) as f:
        for m in re.finditer(r"^#define __NR_(\w+) (\d+)$", f.read(), re.M):
            nums[m.group(1)] = int(m.group(2))
    if not nums:
        die(f"no syscall numbers in {UNISTD}")
    return nums


def linux_raw_sys():
    """The x86_64 general.rs of the linux-raw-sys tinyctr builds with (its version from
    Cargo.lock, its source where cargo unpacked it), and that version."""
    with open("Cargo.lock") as f:
        lock = f.read()
    versions = re.findall(r'\[\[package\]\]\nname = "linux-raw-sys"\nversion = "([^"]+)"', lock)
    wanted = re.search(r'linux-raw-sys = \{ version = "([^"]+)"', open("Cargo.toml").read()).group(1)
    versions = [v for v in versions if v == wanted or v.startswith(wanted + ".")]
    if len(versions) != 1:
        die(f"Cargo.lock has linux-raw-sys {versions} for the {wanted} tinyctr asks for")
    home = os.environ.get("CARGO_HOME") or os.path.expanduser("~/.cargo")
    for src in sorted(glob.glob(os.path.join(home, "registry", "src", "*", f"linux-raw-sys-{versions[0]}"))):
        return os.path.join(src, "src", "x86_64", "general.rs"), versions[0]
    die(f"no source of linux-raw-sys {versions[0]} under {home}/registry: run cargo fetch")


def crate_numbers(path):
    nums = {}
    with open(path) as f:
        for m in re.finditer(r"^pub const __NR_(\w+): u32 = (\d+);$", f.read(), re.M):
            nums[m.group(1)] = int(m.group(2))
    if not nums:
        die(f"no syscall numbers in {path}")
    return nums


def cap_numbers():
    caps = {}
    with open(CAPABILITY) as f:
        for m in re.finditer(r"^#define (CAP_\w+)\s+(\d+)$", f.read(), re.M):
            caps[m.group(1)] = int(m.group(2))
    return caps


def kernel_version(s):
    m = re.fullmatch(r"(\d+)\.(\d+)", s)
    if not m or int(m.group(2)) > 255:
        die(f"minKernel {s!r} is not MAJOR.MINOR")
    return int(m.group(1)), int(m.group(2))


def main():
    os.chdir(ROOT)
    with open(FIXTURE) as f:
        profile = json.load(f)
    hdr = header_numbers()
    crate_path, crate_version = linux_raw_sys()
    crate = crate_numbers(crate_path)
    for name in hdr.keys() & crate.keys():
        if hdr[name] != crate[name]:
            die(f"{name}: {hdr[name]} in {UNISTD}, {crate[name]} in linux-raw-sys")
    nums = {**crate, **hdr}
    caps = cap_numbers()

    if profile.get("defaultAction") != "SCMP_ACT_ERRNO":
        die("defaultAction is not SCMP_ACT_ERRNO")
    default_errno = profile.get("defaultErrnoRet", 1)

    always = set()   # allowed with no gate and no condition
    gated = []       # [nrs, action, cap, not_cap, min_kernel, conds]
    named = set()    # every x86_64 number an amd64 rule names
    for i, rule in enumerate(profile["syscalls"]):
        where = f"rule {i} ({', '.join(rule['names'][:3])})"
        extra = rule.keys() - {"names", "action", "errnoRet", "args", "comment", "includes", "excludes"}
        if extra:
            die(f"{where}: unknown keys {sorted(extra)}")
        inc, exc = rule.get("includes", {}), rule.get("excludes", {})
        for part in (inc, exc):
            if part.keys() - {"arches", "caps", "minKernel"}:
                die(f"{where}: unknown keys in includes/excludes")
        if inc.get("arches") and ARCH not in inc["arches"]:
            continue
        if ARCH in exc.get("arches", []):
            continue
        if "minKernel" in exc:
            die(f"{where}: excludes.minKernel is not supported")
        nrs = []
        for name in rule["names"]:
            if name in nums:
                if name in NOT_X86_64:
                    die(f"{name} has an x86_64 number now: take it out of NOT_X86_64")
                nrs.append(nums[name])
            elif name not in NOT_X86_64:
                die(f"{where}: no x86_64 number for {name!r}, and it is not in NOT_X86_64")
        if not nrs:
            continue
        named.update(nrs)
        action = rule["action"]
        if action == "SCMP_ACT_ALLOW":
            act = "Action::Allow"
        elif action == "SCMP_ACT_ERRNO":
            act = f"Action::Errno({rule.get('errnoRet', default_errno)})"
        else:
            die(f"{where}: action {action} is not supported")
        cap_in, cap_out = inc.get("caps", []), exc.get("caps", [])
        if len(cap_in) > 1 or len(cap_out) > 1:
            die(f"{where}: the table holds one capability per list")
        cap = caps[cap_in[0]] if cap_in else None
        not_cap = caps[cap_out[0]] if cap_out else None
        mink = kernel_version(inc["minKernel"]) if "minKernel" in inc else None
        args = rule.get("args") or []
        if len(args) > 1:
            die(f"{where}: the table holds one condition per rule")
        conds = []
        for a in args:
            op = OPS[a["op"]]
            if not 0 <= a["index"] < 6:
                die(f"{where}: argument index {a['index']}")
            conds.append((a["index"], op, a["value"], a.get("valueTwo", 0)))
        if act == "Action::Allow" and cap is None and not_cap is None and mink is None and not conds:
            always.update(nrs)
            continue
        key = (tuple(nrs), act, cap, not_cap, mink)
        prev = gated[-1] if gated else None
        if conds and prev and prev[5] and tuple(prev[:5]) == key:
            prev[5].extend(conds)   # one more alternative for the same syscalls and gate
        else:
            gated.append([tuple(nrs), act, cap, not_cap, mink, conds])
    check_conflicts(always, gated)
    max_nr = max(named)
    text = render(always, gated, max_nr, default_errno, nums, caps, crate_version)
    if "--stdout" in sys.argv[1:]:
        sys.stdout.write(text)
    else:
        with open(OUTPUT, "w") as f:
            f.write(text)


def exclusive(a, b):
    """Whether gated entries a and b can never apply together (one needs the capability
    the other must not have)."""
    return (a[2] is not None and a[2] == b[3]) or (b[2] is not None and b[2] == a[3])


def check_conflicts(always, gated):
    # compile_default lets an unconditional entry win and otherwise takes the one
    # conditional entry that applies: that is the profile's meaning only if entries that
    # can apply together agree on the action, and at most one of them has conditions.
    for i, a in enumerate(gated):
        for b in gated[i + 1:]:
            shared = set(a[0]) & set(b[0])
            if not shared or exclusive(a, b):
                continue
            if a[1] != b[1]:
                die(f"syscalls {sorted(shared)}: entries with different actions can apply together")
            if a[5] and b[5]:
                die(f"syscalls {sorted(shared)}: two conditional entries can apply together")
        if always & set(a[0]) and a[1] != "Action::Allow":
            die(f"syscalls {sorted(always & set(a[0]))}: always allowed, and also {a[1]}")


def render(always, gated, max_nr, default_errno, nums, caps, crate_version):
    names = {}
    for name, nr in nums.items():
        names.setdefault(nr, name)
    bitmap_len = max_nr // 8 + 1
    out = []
    w = out.append
    w("//! docker's default seccomp profile for x86_64, as the const table `compile_default`")
    w("//! turns into a BPF program for a container's capabilities and this kernel.")
    w("//!")
    w(f"//! GENERATED by tools/seccomp-profile.py from {FIXTURE}")
    w(f"//! ({SOURCE}), with the x86_64 syscall numbers of")
    w(f"//! <asm/unistd_64.h> and linux-raw-sys {crate_version}. Do not edit: change the fixture or the")
    w("//! generator and run it again (a unit test checks that this file is what it makes).")
    w("//!")
    w("//! Judged for amd64, as moby judges `includes.arches`/`excludes.arches`: rules for other")
    w("//! architectures are gone, and names with no x86_64 syscall are left out.")
    w("")
    w("use super::seccomp::{Action, Gated, Op, SmallCond, NO_CAP};")
    w("")
    w(f"/// The highest x86_64 syscall number the profile names ({names[max_nr]}): above it, tinyctr")
    w("/// answers ENOSYS, as runc does, so that a libc can fall back from a syscall newer than the profile.")
    w(f"pub const MAX_NR: u16 = {max_nr};")
    w("")
    w("/// The profile's `defaultAction` and `defaultErrnoRet`: what a syscall no rule allows gets.")
    w(f"pub const DEFAULT: Action = Action::Errno({default_errno});")
    w("")
    w(f"/// Allowed whatever the capabilities, kernel and arguments ({len(always)} syscalls): bit N % 8 of")
    w("/// byte N / 8. Each line names the syscalls of its eight that are not in the set.")
    w("#[rustfmt::skip]")
    w(f"pub const ALWAYS: [u8; {bitmap_len}] = [")
    for byte in range(bitmap_len):
        span = range(byte * 8, byte * 8 + 8)
        v = sum(1 << (n - byte * 8) for n in span if n in always)
        missing = [f"{n} {names[n]}" for n in span if n not in always and n in names]
        comment = f"{span[0]}..={span[-1]}"
        if missing:
            comment += ", not: " + ", ".join(missing)
        elif not any(n in names for n in span):
            comment += ": no x86_64 syscalls"
        w(f"    0x{v:02x}, // {comment}")
    w("];")
    w("")
    cap_names = {v: k for k, v in caps.items()}
    nrs_all, conds_all, entries = [], [], []
    n_count = 0
    for nrs, act, cap, not_cap, mink, conds in gated:
        nrs = sorted(nrs)
        why = []
        if cap is not None:
            why.append(f"with {cap_names[cap]}")
        if not_cap is not None:
            why.append(f"without {cap_names[not_cap]}")
        if mink:
            why.append(f"on Linux {mink[0]}.{mink[1]} or later")
        if conds:
            why.append("for some arguments")
        names_of = " ".join(names[n] for n in nrs)
        entries.append((f"{names_of}{': ' if why else ''}{', '.join(why)}",
                        (n_count, n_count + len(nrs)), act, cap, not_cap, mink,
                        (len(conds_all), len(conds_all) + len(conds))))
        nrs_all.append((nrs, names_of))
        n_count += len(nrs)
        for idx, op, value, two in conds:
            if max(value, two) > 0xffffffff:
                die(f"a condition of {names_of} does not fit SmallCond's 32-bit values")
            if op == "MaskedEq":
                conds_all.append((f"SmallCond::masked({idx}, {value:#x}, {two:#x})", names_of))
            else:
                conds_all.append((f"SmallCond::cmp({idx}, Op::{op}, {value if value < 256 else hex(value)})", names_of))
    if n_count > 255 or len(conds_all) > 255:
        die("the table's u8 indexes overflow")
    w("/// The rules that depend on capabilities, the kernel or the arguments, in the profile's order;")
    w("/// `nrs` and `any` index [`NRS`] and [`CONDS`].")
    w("#[rustfmt::skip]")
    w(f"pub const GATED: [Gated; {len(entries)}] = [")
    for why, (n0, n1), act, cap, not_cap, mink, (c0, c1) in entries:
        w(f"    // {why}")
        w(f"    Gated {{ nrs: {n0}..{n1}, action: {act}, cap: {cap if cap is not None else 'NO_CAP'}, "
          f"not_cap: {not_cap if not_cap is not None else 'NO_CAP'}, "
          f"min_kernel: {f'({mink[0]} << 8) | {mink[1]}' if mink else 0}, any: {c0}..{c1} }},")
    w("];")
    w("")
    w("/// The syscall numbers of [`GATED`].")
    w("#[rustfmt::skip]")
    w(f"pub const NRS: [u16; {sum(len(n) for n, _ in nrs_all)}] = [")
    for nrs, names_of in nrs_all:
        w(f"    {', '.join(str(n) for n in nrs)}, // {names_of}")
    w("];")
    w("")
    w("/// The argument conditions of [`GATED`].")
    w("#[rustfmt::skip]")
    w(f"pub const CONDS: [SmallCond; {len(conds_all)}] = [")
    prev = None
    for text, names_of in conds_all:
        w(f"    {text},{f' // {names_of}' if names_of != prev else ''}")
        prev = names_of
    w("];")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
