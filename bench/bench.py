#!/usr/bin/env python3
"""bench.py: times tinyctr against the C floor, unshare, bwrap, crun and runc.

Started by bench/run (which installs packages and builds everything); python3
standard library only. Two halves:

  outer (default)  creates a private cgroup "tcbench-<pid>" below our own
                   cgroup in every v1 hierarchy, moves a child into it, and has that
                   child enter a private mount + cgroup namespace (cgns.sh) where only
                   the v1 hierarchies are mounted, rooted at that private cgroup; runs
                   the inner half there; afterwards removes whatever is left below
                   the private cgroup and the cgroup itself.
  inner (--inner)  the measurements, all inside that namespace, so every runtime sees
                   the same v1-only layout (crun 1.8 refuses the host's hybrid one) and
                   every cgroup any of them creates or writes is one we created.

The inner half prints a markdown report and writes report.md and results.json to
--work. Exit status: 0 if every tool ran, 1 if one failed, 2 on a setup error.
"""

import argparse
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Not "tinyctr-*": tinyctr sweeps sibling cgroups of that name it finds unlocked (a
# dead run's) and SIGKILLs their processes; any tinyctr started on this machine
# (tests, other users) would kill the benchmark that way.
BENCH_CG = "tcbench-%d" % os.getpid()
ID_PREFIX = "tcb-"  # crun/runc container ids, so leftovers are recognisable


# --------------------------------------------------------------------------
# cgroup v1 layout (outer half)


def v1_hierarchies():
    """[(mountpoint, mount_root, frozenset(controllers))] of the cgroup v1 mounts."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            rf = right.split()
            if not rf or rf[0] != "cgroup":
                continue
            lf = left.split()
            ctrls = frozenset(o for o in rf[2].split(",") if o not in ("rw", "ro", "relatime")
                              and not o.startswith("release_agent") and o not in ("noprefix", "clone_children", "xattr"))
            mnt = lf[4].encode().decode("unicode_escape")
            out.append((mnt, lf[3], ctrls))
    return out


def own_cgroup_dirs():
    """{mountpoint: directory of our own cgroup in that hierarchy}."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrls:
                own[frozenset(ctrls.split(","))] = path
    dirs = {}
    for mnt, root, ctrls in v1_hierarchies():
        path = own.get(ctrls)
        if path is None or not (path + "/").startswith(root.rstrip("/") + "/"):
            continue
        rel = path[len(root.rstrip("/")):]
        dirs[mnt] = mnt + rel
    return dirs


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


def remove_tree(top):
    """rmdir a cgroup tree bottom-up, SIGKILLing any process still inside.
    Returns the leftover directories found below top (relative names)."""
    left = []
    for dirpath, dirnames, _ in os.walk(top, topdown=False):
        if dirpath != top:
            left.append(os.path.relpath(dirpath, top))
        for attempt in range(50):
            try:
                pids = [int(p) for p in read(os.path.join(dirpath, "cgroup.procs")).split()]
            except OSError:
                pids = []
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
    return left


def wait_quiet(limit_s, below=1.0):
    """Wait (at most limit_s) until the 1-minute load average drops below `below`."""
    t0 = time.time()
    while time.time() - t0 < limit_s:
        load = float(read("/proc/loadavg").split()[0])
        if load < below:
            return
        print("bench: load average %.2f, waiting for a quieter machine (%d s left)"
              % (load, limit_s - (time.time() - t0)), file=sys.stderr, flush=True)
        time.sleep(15)


def outer(args, rest):
    if args.wait_quiet:
        wait_quiet(args.wait_quiet)
    dirs = own_cgroup_dirs()
    if not any(os.path.basename(m) == "memory" for m in dirs):
        print("bench: no cgroup v1 memory hierarchy mounted; this benchmark needs one", file=sys.stderr)
        return 2
    made = []
    try:
        for mnt, own in sorted(dirs.items()):
            d = os.path.join(own, BENCH_CG)
            os.mkdir(d)
            made.append(d)
            if os.path.exists(os.path.join(d, "cpuset.cpus")):
                # a new cpuset is empty and takes no task until given cpus and mems
                write(os.path.join(d, "cpuset.cpus"), read(os.path.join(own, "cpuset.cpus")).strip() or "0")
                write(os.path.join(d, "cpuset.mems"), read(os.path.join(own, "cpuset.mems")).strip() or "0")

        def enter():
            if args.nice:
                os.setpriority(os.PRIO_PROCESS, 0, args.nice)
            for d in made:
                write(os.path.join(d, "cgroup.procs"), str(os.getpid()))

        cmd = ["unshare", "--mount", "--cgroup", "--propagation", "private",
               os.path.join(HERE, "cgns.sh"), sys.executable, os.path.abspath(__file__), "--inner"] + rest
        status = subprocess.call(cmd, preexec_fn=enter)
        if status < 0:
            print("bench: the measuring process was killed by signal %d" % -status, file=sys.stderr)
            status = 2
    finally:
        leftovers = []
        for d in made:
            leftovers += [os.path.join(d, x) for x in remove_tree(d)]
        for d in made:
            if os.path.exists(d):
                print("bench: could not remove cgroup %s" % d, file=sys.stderr)
                status = 2
        leftovers = [x for x in leftovers if os.path.basename(x) != "driver"]
        if leftovers:
            print("bench: removed leftover cgroups below our bench cgroup: %s" % ", ".join(leftovers), file=sys.stderr)
            if status == 0:
                status = 1
    return status


# --------------------------------------------------------------------------
# tools


def which(name):
    p = shutil.which(name)
    if not p:
        raise SystemExit("bench: %s not found (bench/run installs it)" % name)
    return os.path.realpath(p)


class Tool:
    def __init__(self, key, label, argv, payload_at, binary, idle_argv=None, detached=None):
        self.key = key            # short name used in options and json
        self.label = label        # what the report shows
        self.argv = argv          # runs /bin/true
        self.payload_at = payload_at  # index in argv of the payload path (swapped for rss/idle)
        self.binary = binary
        self.idle_argv = idle_argv  # runs sleep 1000 (foreground) or None
        self.detached = detached    # for crun/runc: function(id) -> argv starting a detached sleeper


def make_tools(args):
    w = args.work
    tc = args.tinyctr
    floor = os.path.join(w, "bin", "floor")
    tiny = os.path.join(w, "bin", "tiny-true")
    oci = os.path.join(w, "oci")
    crun, runc = which("crun"), which("runc")
    unshare, bwrap = which("unshare"), which("bwrap")
    true, sleep = which("true"), which("sleep")
    uns = [unshare, "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "--mount-proc"]
    bw = [bwrap, "--unshare-pid", "--unshare-uts", "--unshare-ipc", "--unshare-net",
          "--dev-bind", "/", "/", "--proc", "/proc"]
    tools = [
        Tool("tinyctr", "tinyctr run", [tc, "run", true], 2, tc),
        Tool("tinyctr-m", "tinyctr run -m 64m", [tc, "run", "-m", "64m", true], 4, tc),
        Tool("floor", "C floor", [floor, true], 1, floor),
        Tool("floor-m", "C floor + 64 MiB memory cgroup", [floor, "-m", "67108864", true], 3, floor),
        Tool("floor-s", "C floor + 64 MiB memory cgroup, self-join", [floor, "-S", "67108864", true], 3, floor),
        Tool("unshare", "unshare (util-linux)", uns + [true], len(uns), unshare),
        Tool("bwrap", "bwrap", bw + [true], len(bw), bwrap),
        Tool("crun", "crun run", [crun, "--cgroup-manager=cgroupfs", "run", "--bundle", oci + "/true", ID_PREFIX + "crun"],
             None, crun),
        Tool("runc", "runc run", [runc, "run", "--bundle", oci + "/true", ID_PREFIX + "runc"], None, runc),
        Tool("base", "baseline: static true, no isolation", [tiny], 0, tiny),
    ]
    for t in tools:
        if t.payload_at is not None:
            t.tiny_argv = t.argv[:t.payload_at] + [tiny]
            t.idle_argv = t.argv[:t.payload_at] + [sleep, "1000"]
    crun_t, runc_t = [next(t for t in tools if t.key == k) for k in ("crun", "runc")]
    crun_t.tiny_argv = [crun, "--cgroup-manager=cgroupfs", "run", "--bundle", oci + "/tiny", ID_PREFIX + "crun-rss"]
    runc_t.tiny_argv = [runc, "run", "--bundle", oci + "/tiny", ID_PREFIX + "runc-rss"]
    crun_t.detached = lambda i: [crun, "--cgroup-manager=cgroupfs", "run", "-d", "--bundle", oci + "/sleep", i]
    runc_t.detached = lambda i: [runc, "run", "-d", "--bundle", oci + "/sleep", i]
    crun_t.delete = lambda i: [crun, "delete", "-f", i]
    runc_t.delete = lambda i: [runc, "delete", "-f", i]
    crun_t.with_id = lambda i: crun_t.argv[:-1] + [i]
    runc_t.with_id = lambda i: runc_t.argv[:-1] + [i]
    return tools


def argv_with_id(tool, n):
    """argv for one of several simultaneous runs (crun/runc need distinct ids)."""
    if hasattr(tool, "with_id"):
        return tool.with_id("%s%s-%d" % (ID_PREFIX, tool.key, n))
    return tool.argv


# --------------------------------------------------------------------------
# running things


DEVNULL_ACTIONS = [
    (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
    (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
    (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0),
]


def spawn(argv):
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=DEVNULL_ACTIONS)


def wait_status(pid):
    while True:
        try:
            _, st = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(st)
        except InterruptedError:
            continue


def timed_run(argv):
    """Wall time (seconds) from spawn to reaped exit, and the exit code."""
    t0 = time.perf_counter()
    pid = spawn(argv)
    code = wait_status(pid)
    return time.perf_counter() - t0, code


def explain_failure(argv):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    msg = (r.stderr or r.stdout).strip().splitlines()
    return "exit %d: %s" % (r.returncode, msg[-1] if msg else "(no output)")


def stats(times):
    ms = sorted(t * 1000 for t in times)
    return {"n": len(ms), "median": statistics.median(ms), "min": ms[0], "max": ms[-1],
            "mean": statistics.fmean(ms), "stdev": statistics.stdev(ms) if len(ms) > 1 else 0.0}


class Failures:
    def __init__(self):
        self.items = []

    def add(self, tool, where, why):
        self.items.append((tool.key, where, why))
        print("FAILED: %s in %s: %s" % (tool.label, where, why), flush=True)

    def tools(self):
        return {k for k, _, _ in self.items}


# --------------------------------------------------------------------------
# sections


def section_smoke(tools, fails):
    ok = []
    for t in tools:
        _, code = timed_run(t.argv)
        if code != 0:
            fails.add(t, "smoke run", explain_failure(t.argv))
        else:
            ok.append(t)
    return ok


def section_sizes(tools):
    rows, seen = [], set()
    for t in tools:
        if t.binary in seen:
            continue
        seen.add(t.binary)
        size = os.path.getsize(t.binary)
        desc = subprocess.run(["file", "-b", "-L", t.binary], capture_output=True, text=True).stdout.strip()
        if "statically linked" in desc or "static-pie" in desc:
            link = "static"
        elif "dynamically linked" in desc:
            libs = subprocess.run(["ldd", t.binary], capture_output=True, text=True).stdout
            n = len([ln for ln in libs.splitlines() if "=>" in ln])
            link = "dynamic, %d shared libraries" % n
        else:
            link = desc.split(",")[0]
        rows.append({"tool": t.key, "path": t.binary, "bytes": size, "linkage": link, "file": desc})
    return rows


def parse_rss(out):
    images, root, status = [], None, None
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "root":
            root = int(f[1])
        elif f and f[0] == "image":
            images.append({"tgid": int(f[1]), "ppid": int(f[2]), "name": f[3],
                           "peak": int(f[4].split("=")[1]), "end": f[5].split("=")[1]})
        elif f and f[0] == "status":
            status = int(f[1])
    return root, images, status


def section_rss(tools, args, fails):
    """Peak RSS per process image with a tiny static payload (bench/rss.c)."""
    rss = os.path.join(args.work, "bin", "rss")
    rows = []
    for t in tools:
        best = None
        for _ in range(args.rss_runs):
            r = subprocess.run([rss] + t.tiny_argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            root, images, status = parse_rss(r.stdout)
            if status != 0 or root is None:
                fails.add(t, "rss run", "status %s: %s" % (status, r.stderr.strip()[-200:]))
                best = None
                break
            parent = max((i["peak"] for i in images if i["tgid"] == root and i["end"] == "exit"), default=0)
            payload = max((i["peak"] for i in images if i["name"] == "tiny-true"), default=0)
            others = [i for i in images if i["name"] != "tiny-true" and not (i["tgid"] == root and i["end"] == "exit")]
            side = max((i["peak"] for i in others), default=0)
            row = {"tool": t.key, "runtime": parent, "other": side, "payload": payload,
                   "images": ["%s(%s)=%d" % (i["name"], i["end"], i["peak"]) for i in images]}
            if best:  # the largest figure of each kind over the runs
                for k in ("runtime", "other", "payload"):
                    row[k] = max(row[k], best[k])
            best = row
        if best:
            rows.append(best)
    return rows


def hyperfine(tools, runs, warmup, workdir):
    """One hyperfine -N invocation over tools; {key: (times, exit_codes)}."""
    out = os.path.join(workdir, "hyperfine.json")
    cmd = ["hyperfine", "-N", "--style", "none", "--runs", str(runs), "--warmup", str(warmup),
           "--export-json", out]
    cmd += [shlex.join(t.argv) for t in tools]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    res = json.load(open(out))["results"]
    return {t.key: (x["times"], x.get("exit_codes", [])) for t, x in zip(tools, res)}, ""


def section_b2b(tools, args, fails):
    """Back-to-back: hyperfine -N, in many short rounds, the tool order shuffled in each
    (seeded, so reproducible): no tool always runs first, last or after the same
    neighbour, and the machine's slow swings (this one has periods of ~0.1 s where every
    run is 10-30 % slower) land on every tool alike instead of on one tool's block."""
    times = {t.key: [] for t in tools}
    live = list(tools)
    per_round = max(2, args.runs // args.rounds)
    shuffle = random.Random(6)
    for rnd in range(args.rounds):
        order = list(live)
        shuffle.shuffle(order)
        if not order:
            break
        res, err = hyperfine(order, per_round, args.warmup, args.work)
        if res is None:
            # find the culprit one by one so the others still get measured
            for t in order:
                one, err1 = hyperfine([t], 2, 0, args.work)
                if one is None:
                    fails.add(t, "back-to-back", err1.splitlines()[-1] if err1 else "hyperfine failed")
                    live.remove(t)
            res, err = hyperfine([t for t in order if t in live], per_round, args.warmup, args.work)
            if res is None:
                raise SystemExit("bench: hyperfine failed: " + err)
        for k, (ts, _) in res.items():
            times[k] += ts
    return {k: stats(v) for k, v in times.items() if v}


def section_spaced(tools, args, fails):
    """Spaced and shuffled: every run of every tool in one random order, with a
    random 100-300 ms pause before each, the way containers start now and then."""
    plan = [t for t in tools for _ in range(args.spaced_runs)]
    random.shuffle(plan)
    times = {t.key: [] for t in tools}
    bad = set()
    for t in plan:
        if t.key in bad:
            continue
        time.sleep(random.uniform(args.gap_min, args.gap_max))
        dt, code = timed_run(t.argv)
        if code != 0:
            fails.add(t, "spaced", "exit %d" % code)
            bad.add(t.key)
            continue
        times[t.key].append(dt)
    return {k: stats(v) for k, v in times.items() if v}


def section_sequential(tools, args, fails):
    """crun's README benchmark: N containers one after the other, total wall time."""
    out = {}
    for t in tools:
        timed_run(t.argv)  # warm the page cache for this tool
        t0 = time.perf_counter()
        for _ in range(args.seq):
            _, code = timed_run(t.argv)
            if code != 0:
                fails.add(t, "sequential", "exit %d" % code)
                break
        else:
            out[t.key] = {"n": args.seq, "total_s": time.perf_counter() - t0}
    return out


def section_concurrent(tools, args, fails):
    """N containers, C at a time: total wall time and per-container latency."""
    out = {}
    for t in tools:
        running, lat, started, failed = {}, [], 0, False
        t0 = time.perf_counter()
        while started < args.conc_total or running:
            while started < args.conc_total and len(running) < args.conc:
                running[spawn(argv_with_id(t, started))] = time.perf_counter()
                started += 1
            pid, st = os.wait()
            if pid in running:
                lat.append(time.perf_counter() - running.pop(pid))
                if os.waitstatus_to_exitcode(st) != 0 and not failed:
                    fails.add(t, "concurrent", "exit %d" % os.waitstatus_to_exitcode(st))
                    failed = True
        total = time.perf_counter() - t0
        if not failed:
            out[t.key] = {"n": args.conc_total, "parallel": args.conc, "total_s": total,
                          "per_container": stats(lat)}
    return out


def descendants(pid):
    kids, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for tid in tasks:
            try:
                for c in read("/proc/%d/task/%s/children" % (p, tid)).split():
                    kids.append(int(c))
                    todo.append(int(c))
            except OSError:
                pass
    return kids


def comm(pid):
    try:
        return read("/proc/%d/comm" % pid).strip()
    except OSError:
        return ""


class Idle:
    """k idle containers (sleep 1000) of one tool; stop() kills and cleans them."""

    def __init__(self, tool, k):
        self.tool, self.pids, self.ids = tool, [], []
        for n in range(k):
            if tool.detached:
                cid = "%sidle-%s-%d" % (ID_PREFIX, tool.key, n)
                # no pipes: the detached container keeps its stdio open for good
                with tempfile.TemporaryFile("w+") as err:
                    r = subprocess.run(tool.detached(cid), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=err)
                    err.seek(0)
                    if r.returncode != 0:
                        raise RuntimeError("idle container %s: %s" % (cid, err.read().strip()))
                self.ids.append(cid)
            else:
                self.pids.append(spawn(tool.idle_argv))
        deadline = time.time() + 30
        for p in self.pids:  # wait until each one's sleep has started
            while not any(comm(c) == "sleep" for c in descendants(p)):
                if time.time() > deadline:
                    raise RuntimeError("idle container under pid %d did not start" % p)
                time.sleep(0.005)

    def stop(self):
        for cid in self.ids:
            subprocess.run(self.tool.delete(cid), stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for p in self.pids:
            for c in descendants(p):
                try:
                    os.kill(c, signal.SIGKILL)
                except OSError:
                    pass
        ok = True
        for p in self.pids:
            deadline = time.time() + 10
            while True:
                done, _ = os.waitpid(p, os.WNOHANG)
                if done:
                    break
                if time.time() > deadline:
                    os.kill(p, signal.SIGKILL)
                    os.waitpid(p, 0)
                    ok = False
                    break
                time.sleep(0.002)
        return ok


def section_load(tools, args, fails):
    """Start latency (median of back-to-back runs, python launcher) while k idle
    containers of the same tool are running."""
    out = {}
    for t in tools:
        out[t.key] = {}
        for k in [0] + args.load:
            idle = None
            try:
                idle = Idle(t, k) if k else None
                for _ in range(2):
                    timed_run(argv_with_id(t, 1000))
                ts = []
                for _ in range(args.load_runs):
                    dt, code = timed_run(argv_with_id(t, 1000))
                    if code != 0:
                        raise RuntimeError("exit %d with %d idle" % (code, k))
                    ts.append(dt)
                out[t.key][str(k)] = stats(ts)
            except RuntimeError as e:
                fails.add(t, "load", str(e))
                break
            finally:
                if idle and not idle.stop():
                    fails.add(t, "load", "an idle container's runtime did not exit after its container was killed")
    return out


def section_profile(tools, args, fails):
    """Where tinyctr's time goes next to the floor: CPU time (perf stat task-clock,
    which contention on a busy machine barely moves, unlike wall time) and the
    syscalls made (strace -f -c), for tinyctr and the floor, with and without -m."""
    out = {}
    perf = shutil.which("perf")
    for t in tools:
        if t.key not in ("tinyctr", "tinyctr-m", "floor", "floor-m", "floor-s"):
            continue
        row = {}
        if perf:
            r = subprocess.run([perf, "stat", "-x", ",", "-e", "task-clock", "-r", str(args.profile_runs)] + t.argv,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for line in r.stderr.splitlines():
                f = line.split(",")
                if len(f) > 2 and f[2] == "task-clock":
                    row["task_clock_ms"] = float(f[0])
        with tempfile.NamedTemporaryFile("r") as tf:
            subprocess.run(["strace", "-f", "-c", "-U", "name,calls,errors", "-o", tf.name] + t.argv,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            calls = {}
            for line in tf.read().splitlines():
                f = line.split()
                if len(f) >= 2 and f[1].isdigit() and not line.startswith(("-", "total")):
                    calls[f[0]] = int(f[1])
            row["syscalls"] = calls
        out[t.key] = row
    return out


ABLATE_STEPS = ["cgroupfiles", "sigs", "pdeath", "cgroupns", "umountproc", "loup", "handshake", "errpipe",
                "caps", "masks", "maskhide", "maskro", "seccomp", "devices",
                "sweep", "memsw", "post"]
CGROUP_ONLY = {"sweep", "memsw", "post"}
NO_CGROUP_ONLY = {"handshake"}  # with -m the floor already waits for its parent once


def section_ablate(tools, args, fails):
    """The floor plus each of tinyctr's extra steps alone (bench/ablate.c), timed
    back-to-back like the main table, next to tinyctr itself: what each step costs."""
    ab = os.path.join(args.work, "bin", "ablate")
    true = which("true")
    by_key = {t.key: t for t in tools}
    variants = []  # (key, label, argv)
    for mem in (False, True):
        m = ["-m", "67108864"] if mem else []
        sfx = "-m" if mem else ""
        steps = [x for x in ABLATE_STEPS if (x not in CGROUP_ONLY or mem) and (x not in NO_CGROUP_ONLY or not mem)]
        for st in ["none"] + steps + ["all"]:
            variants.append(Tool("ab%s-%s" % (sfx, st), st, [ab, st] + m + [true], None, ab))
        tk = "tinyctr-m" if mem else "tinyctr"
        if tk in by_key:
            variants.append(by_key[tk])
    rounds = max(1, args.rounds)
    times = {v.key: [] for v in variants}
    for rnd in range(rounds):
        order = variants[rnd % len(variants):] + variants[:rnd % len(variants)]
        res, err = hyperfine(order, max(2, args.ablate_runs // rounds), args.warmup, args.work)
        if res is None:
            fails.add(Tool("ablate", "ablate", [], None, ab), "ablate", err.splitlines()[-1] if err else "hyperfine failed")
            return {}
        for k, (ts, _) in res.items():
            times[k] += ts
    return {k: stats(v) for k, v in times.items() if v}



# --------------------------------------------------------------------------
# OCI lifecycle (bench/lifecycle.c) and containerd end to end

LC_CGROUP = "tinyctr-bench-lc"  # cgroupsPath /tinyctr-bench-lc/<id>, below our namespace's root
CTRD_NS = "tinyctr-bench"       # ctr namespace: the shims' cgroupsPath is /tinyctr-bench/<id>


def lc_runtimes(args):
    """[(key, label, binary, global options)] of the OCI runtimes, per --only."""
    want = set(args.only.split(",")) if args.only else None
    out = []
    if args.tinyctr_oci:
        out.append(("tinyctr", "tinyctr (oci build)", args.tinyctr_oci, []))
    # The C floor of the job (bench/lcfloor.c): the bundle's system calls and nothing else;
    # with --lc-floor-steps, also the floor plus steps of tinyctr's the job does not need
    # (lcfloor.c --steps), to see what each costs in the same round-robin.
    lcfloor = os.path.join(args.work, "bin", "lcfloor")
    floor_opts = ["--rootfs", os.path.join(args.work, "oci", "rootfs"), "--cgroup", LC_CGROUP]
    out.append(("floor", "C floor (lcfloor.c)", lcfloor, floor_opts))
    for steps in args.lc_floor_steps:
        out.append(("floor+" + steps, "C floor + " + steps, lcfloor, floor_opts + ["--steps", steps]))
    out.append(("crun", "crun", which("crun"), ["--cgroup-manager=cgroupfs"]))
    out.append(("runc", "runc", which("runc"), []))
    out = [r for r in out if want is None or r[0].split("+")[0] in want or (r[0] == "tinyctr" and "tinyctr-oci" in want)]
    # --lc-extra: other builds in the same round-robin (an A/B in the benchmark's own
    # namespace), whatever --only says.
    for i, spec in enumerate(args.lc_extra):
        label, _, binary = spec.partition("=")
        out.append(("extra%d" % i, label, os.path.abspath(binary), []))
    return out


def cgroup_roots():
    """The root of every cgroup hierarchy (below the namespace's root): /sys/fs/cgroup
    itself when cgroup v2 is mounted there alone, else each mount point in it."""
    if os.path.isfile("/sys/fs/cgroup/cgroup.procs"):
        return ["/sys/fs/cgroup"]
    roots = [os.path.join("/sys/fs/cgroup", h) for h in os.listdir("/sys/fs/cgroup")]
    return [r for r in roots if os.path.ismount(r)]


def remove_cgroup_everywhere(name):
    """rmdir NAME (ours) in every hierarchy and whatever is below it; the leftovers
    found below it, if any."""
    left = []
    for root in cgroup_roots():
        top = os.path.join(root, name)
        if os.path.isdir(top):
            left += [os.path.relpath(os.path.join(top, x), "/sys/fs/cgroup") for x in remove_tree(top)]
    return left


def make_cgroup_everywhere(name):
    """mkdir /sys/fs/cgroup/*/NAME (below the namespace's root) in every hierarchy, as a
    parent the runtimes find made: cpuset's cpus and mems copied from its parent, a v2
    one's controllers enabled for its children as they are at the root. The parent that
    kubelet (a pod's cgroup) or an earlier container (runc and crun leave /docker,
    /default, ... behind) has made in real use."""
    for root in cgroup_roots():
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        for f in ("cpuset.cpus", "cpuset.mems"):
            if os.path.isfile(os.path.join(root, f)):
                with open(os.path.join(d, f), "w") as out:
                    out.write(read(os.path.join(root, f)).strip() or "\n")
        try:
            ctls = read(os.path.join(root, "cgroup.subtree_control")).split()
        except OSError:
            ctls = []
        for c in ctls:
            try:
                with open(os.path.join(d, "cgroup.subtree_control"), "w") as out:
                    out.write("+" + c)
            except OSError:
                pass


def oci_state_cleanup(binary, opts, root):
    """delete --force whatever container is left in a runtime's state root, then the root."""
    try:
        names = os.listdir(root)
    except OSError:
        names = []
    for n in names:
        subprocess.run([binary] + opts + ["--root", root, "delete", "--force", n],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(root, ignore_errors=True)
    return names


# Whether section_lifecycle's files were on a tmpfs of its own (for the report).
LC_TMPFS = [False]


def section_lifecycle(tools, args, fails):
    """Each OCI runtime's own cost for a container's whole life (create, start, wait
    for init's exit, delete), driven by bench/lifecycle.c as a shim drives it, the
    runtimes round-robin in one run; peak RSS of the runtime's own processes."""
    rts = lc_runtimes(args)
    if not rts:
        return {}
    # The state roots, the bundle's config.json, the pid files and the logs all live on a
    # tmpfs, as containerd's do (/run/containerd/...: the runtime root and the shim's
    # bundle directory with init.pid and log.json). Not every host's /run is one (this
    # one's is ext4, where creating and truncating those files cost ~1 ms a lifecycle of
    # journal and inode-table work): the benchmark mounts its own, in its private mount
    # namespace (cgns.sh), so nothing outside sees it.
    state = "/run/tcbench-lc-%d" % os.getpid()
    os.makedirs(state)
    # (The inner half always runs there; the mount is undone below in any case.)
    LC_TMPFS[0] = subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0711", "tcbench-lc", state]).returncode == 0
    lc = os.path.join(state, "files")
    os.makedirs(os.path.join(lc, "bundle"))
    cfg = json.load(open(os.path.join(args.work, "oci", "true", "config.json")))
    cfg["linux"]["cgroupsPath"] = "/%s/@ID@" % LC_CGROUP
    with open(os.path.join(lc, "template.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    # The parent cgroup exists before the first lifecycle, for every runtime alike: runc
    # and crun leave it behind after their first container; tinyctr removes a parent only
    # when it made it itself. In the round-robin the first runc or crun round leaves it for
    # tinyctr anyway (4.31 vs 4.38 ms measured here both ways), but with `--only` tinyctr
    # alone would make and remove it in every hierarchy each lifecycle (+0.85 ms on this
    # v1 host, by hand); --lc-fresh-parent leaves it to the runtimes.
    if not args.lc_fresh_parent:
        make_cgroup_everywhere(LC_CGROUP)
    specs = []
    for key, label, binary, opts in rts:
        root = os.path.join(state, key)
        os.makedirs(root)
        specs.append("%s=%s" % (key, " ".join([binary] + opts + ["--root", root, "--log", os.path.join(lc, key + ".log"),
                                                                  "--log-format", "json"])))
    cmd = [os.path.join(args.work, "bin", "lifecycle"), "-n", str(args.lc_runs), "-w", str(args.lc_warmup),
           "-x", str(args.lc_rss_runs), "-b", os.path.join(lc, "bundle"), "-t", os.path.join(lc, "template.json"),
           "-d", lc] + specs
    out = {}
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        for line in r.stdout.splitlines():
            f = line.split()
            if f[:1] == ["lc"]:
                row = {k: float(v) for k, v in (x.split("=", 1) for x in f[2:])}
                out.setdefault(f[1], {}).update(row)
            elif f[:1] == ["times"]:
                out.setdefault(f[1], {})["times"] = [float(x) for x in f[2:]]
            elif f[:1] == ["fail"]:
                try:
                    err = read(os.path.join(lc, f[1] + ".err")).strip().splitlines()
                except OSError:
                    err = []
                t = Tool(f[1], f[1], [], None, "")
                fails.add(t, "lifecycle", "%s exited %s: %s" % (f[2], f[3], err[-1][-300:] if err else "(no stderr)"))
        if r.returncode not in (0, 1):
            fails.add(Tool("lifecycle", "lifecycle", [], None, ""), "lifecycle", r.stderr.strip()[-300:])
    finally:
        for key, label, binary, opts in rts:
            left = oci_state_cleanup(binary, opts, os.path.join(state, key))
            if left:
                fails.add(Tool(key, label, [], None, binary), "lifecycle", "containers left in its state root: %s" % left)
        if LC_TMPFS[0]:
            subprocess.run(["umount", "-l", state])
        shutil.rmtree(state, ignore_errors=True)
        left = remove_cgroup_everywhere(LC_CGROUP)
        if left:
            fails.add(Tool("lifecycle", "lifecycle", [], None, ""), "lifecycle", "cgroups left behind: %s" % ", ".join(left))
    for key, label, binary, opts in rts:
        if key in out:
            out[key]["label"] = label
    return out


def section_containerd(tools, args, fails):
    """`ctr run --rm IMAGE true` end to end through a private containerd (config from
    tests/containerd/config.toml, image from tests/containerd/build-image.sh), with
    tinyctr (oci build) and runc as the runc-v2 shim's runtime, alternating."""
    ctrd, ctr = shutil.which("containerd"), shutil.which("ctr")
    if not (ctrd and ctr and shutil.which("containerd-shim-runc-v2")):
        print("bench: no containerd/ctr/containerd-shim-runc-v2: containerd section skipped", flush=True)
        return {}
    rts = [(k, label, b) for k, label, b, _ in lc_runtimes(args) if k in ("tinyctr", "runc")]
    repo = os.path.dirname(HERE)
    d = os.path.join(args.work, "ctrd")
    shutil.rmtree(d, ignore_errors=True)
    for sub in ("logs", "opt", "fifo", "img") + tuple("root-" + k for k, _, _ in rts):
        os.makedirs(os.path.join(d, sub))
    write(os.path.join(d, "config.toml"), read(os.path.join(repo, "tests/containerd/config.toml")).replace("@DIR@", d))
    addr = os.path.join(d, "containerd.sock")
    base = [ctr, "--address", addr, "-n", CTRD_NS]
    image = "docker.io/local/busybox:latest"
    log = open(os.path.join(d, "logs", "containerd.log"), "w")
    proc = subprocess.Popen([ctrd, "--config", os.path.join(d, "config.toml")], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, start_new_session=True)
    out = {}
    try:
        deadline = time.time() + 20
        while not (os.path.exists(addr) and subprocess.run(base + ["version"], capture_output=True).returncode == 0):
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("containerd did not come up (%s)" % os.path.join(d, "logs", "containerd.log"))
            time.sleep(0.1)
        print("bench: containerd up after %.1f s" % (time.time() - deadline + 20), flush=True)
        for c in (["bash", os.path.join(repo, "tests/containerd/build-image.sh"), os.path.join(d, "img"), which("busybox")],
                  base + ["images", "import", os.path.join(d, "img", "busybox-oci.tar")]):
            r = subprocess.run(c, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if r.returncode:
                raise RuntimeError("%s: %s" % (c[1], (r.stderr or r.stdout).strip()[-300:]))
        print("bench: busybox image imported", flush=True)
        times = {k: [] for k, _, _ in rts}
        dead = set()
        for i in range(args.ctrd_runs + 1):  # the first round warms up
            for k, label, b in rts:
                if k in dead:
                    continue
                cid = "%sctrd-%s-%d" % (ID_PREFIX, k, i)
                cmd = base + ["run", "--rm", "--runc-binary", b, "--runc-root", os.path.join(d, "root-" + k),
                              "--fifo-dir", os.path.join(d, "fifo"), image, cid, "true"]
                t0 = time.perf_counter()
                r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
                dt = time.perf_counter() - t0
                if r.returncode:
                    fails.add(Tool(k, label, [], None, b), "containerd", (r.stderr or r.stdout).strip()[-300:])
                    dead.add(k)
                elif i:
                    times[k].append(dt)
        out = {k: dict(stats(v), label=label) for (k, label, _) in rts for v in [times[k]] if v}
    except RuntimeError as e:
        fails.add(Tool("containerd", "containerd", [], None, ctrd), "containerd", str(e))
    finally:
        r = subprocess.run(base + ["container", "ls", "-q"], capture_output=True, text=True)
        for cid in r.stdout.split():
            subprocess.run(base + ["task", "kill", "-s", "SIGKILL", cid], capture_output=True)
            subprocess.run(base + ["task", "delete", "--force", cid], capture_output=True)
            subprocess.run(base + ["container", "rm", cid], capture_output=True)
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        for k, label, b in rts:
            left = oci_state_cleanup(b, [], os.path.join(d, "root-" + k, CTRD_NS))
            if left:
                fails.add(Tool(k, label, [], None, b), "containerd", "containers left in its state root: %s" % left)
        # overlay mounts of the snapshotter (ctr run --rm removes its own; a failure may not)
        for line in reversed(read("/proc/self/mountinfo").splitlines()):
            mnt = line.split()[4]
            if mnt.startswith(d + "/"):
                subprocess.run(["umount", "-l", mnt], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
        left = remove_cgroup_everywhere(CTRD_NS)
        if left:
            fails.add(Tool("containerd", "containerd", [], None, ctrd), "containerd", "cgroups left behind: %s" % ", ".join(left))
    return out


# --------------------------------------------------------------------------
# report


def fmt(x, nd=2):
    return "%.*f" % (nd, x)


def timing_table(tools, res, title, how):
    lines = ["### %s" % title, "", how, "",
             "| tool | median ms | min ms | max ms | × floor+cgroup | × crun |",
             "|---|---:|---:|---:|---:|---:|"]
    ref = res.get("floor-m", {}).get("median")
    crun = res.get("crun", {}).get("median")
    for t in tools:
        s = res.get(t.key)
        if not s:
            lines.append("| %s | failed | | | | |" % t.label)
            continue
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            t.label, fmt(s["median"]), fmt(s["min"]), fmt(s["max"]),
            fmt(s["median"] / ref) if ref else "-", fmt(s["median"] / crun) if crun else "-"))
    return lines


def budget_lines(res, mode):
    out = []
    g = lambda k: res.get(k, {}).get("median")
    # (label, tool, reference, limit, speedup): a ratio tool/reference at most `limit`,
    # or with `speedup` reference/tool (how many times faster) at least `limit`.
    checks = [("tinyctr run -m 64m <= 1.10 x floor+cgroup", "tinyctr-m", "floor-m", 1.10, False),
              ("tinyctr run -m 64m <= 1.10 x floor+cgroup, self-join", "tinyctr-m", "floor-s", 1.10, False),
              ("tinyctr run <= 1.10 x floor", "tinyctr", "floor", 1.10, False)]
    if mode == "back-to-back":
        checks.append(("tinyctr run -m 64m >= 4 x faster than crun", "tinyctr-m", "crun", 4.0, True))
    for what, a, b, lim, speedup in checks:
        if g(a) and g(b):
            if speedup:
                r = g(b) / g(a)
                out.append("- %s (%s): %.2fx -> %s" % (what, mode, r, "ok" if r >= lim else "UNDER"))
            else:
                r = g(a) / g(b)
                out.append("- %s (%s): %.2f -> %s" % (what, mode, r, "ok" if r <= lim else "OVER"))
    return out


def report(env, tools, R, args):
    L = ["## tinyctr benchmark", ""]
    L += ["Machine: %s; load average %s at start, %s at the end" % (env["machine"], env["loadavg"], read("/proc/loadavg").split()[0]), "", "Tools: %s" % env["versions"], "",
          "All runs (every tool, every section) ran inside a private mount + cgroup namespace",
          "where /sys/fs/cgroup holds only the cgroup v1 hierarchies, rooted at a cgroup the",
          "benchmark created below its own: crun 1.8 refuses this host's hybrid layout",
          "(\"cgroups in hybrid mode not supported\"), and this keeps the comparison like for like",
          "and every runtime's cgroups inside ours. Everything ran at nice %d." % args.nice, ""]
    if "b2b" in R:
        L += timing_table(tools, R["b2b"], "Start-to-exit of `true`, back-to-back",
                          "hyperfine -N, %d runs per tool in %d round(s), the tool order shuffled in each,"
                          " %d warm-up runs per tool and round." % (R["b2b_runs"], args.rounds, args.warmup)) + [""]
    if "spaced" in R:
        L += timing_table(tools, R["spaced"], "Start-to-exit of `true`, spaced and shuffled",
                          "%d runs per tool in one random order, a random %d-%d ms pause before each run "
                          "(python3 posix_spawn + waitpid)." % (args.spaced_runs, args.gap_min * 1000, args.gap_max * 1000)) + [""]
    bl = budget_lines(R.get("b2b", {}), "back-to-back") + budget_lines(R.get("spaced", {}), "spaced")
    if bl:
        L += ["Budget:", ""] + bl + [""]
    if "rss" in R:
        L += ["### Peak RSS with a tiny static payload", "",
              "bench/rss traces the run with ptrace and reads VmHWM from /proc/PID/status when each",
              "process image ends (at execve entry or at exit); getrusage's ru_maxrss is not used: on",
              "this kernel it reads low by up to 32 pages per CPU. Payload: a 13 KB static `true`.", "",
              "| tool | runtime process (the one you start), KiB | largest other runtime process, KiB | payload, KiB |",
              "|---|---:|---:|---:|"]
        for row in R["rss"]:
            label = next(t.label for t in tools if t.key == row["tool"])
            L.append("| %s | %d | %s | %d |" % (label, row["runtime"], row["other"] or "-", row["payload"]))
        L.append("")
    if "sizes" in R:
        L += ["### Binary size and linkage", "", "| binary | bytes | linkage |", "|---|---:|---|"]
        for row in R["sizes"]:
            L.append("| %s | %d | %s |" % (row["path"], row["bytes"], row["linkage"]))
        L.append("")
    if "seq" in R:
        L += ["### %d containers one after the other (total)" % args.seq, "", "| tool | total s | per container ms |", "|---|---:|---:|"]
        for t in tools:
            s = R["seq"].get(t.key)
            if s:
                L.append("| %s | %s | %s |" % (t.label, fmt(s["total_s"], 3), fmt(s["total_s"] * 1000 / s["n"])))
        L.append("")
    if "conc" in R:
        L += ["### %d containers, %d at a time" % (args.conc_total, args.conc), "",
              "| tool | total s | containers/s | median latency ms |", "|---|---:|---:|---:|"]
        for t in tools:
            s = R["conc"].get(t.key)
            if s:
                L.append("| %s | %s | %s | %s |" % (t.label, fmt(s["total_s"], 3), fmt(s["n"] / s["total_s"], 0),
                                                   fmt(s["per_container"]["median"])))
        L.append("")
    if "load" in R:
        ks = ["0"] + [str(k) for k in args.load]
        L += ["### Start latency under load (median ms, %d back-to-back runs)" % args.load_runs, "",
              "k idle containers (`sleep 1000`) of the same tool are running; crun and runc ones detached (`run -d`).", "",
              "| tool | " + " | ".join("%s idle" % k for k in ks) + " |", "|---|" + "---:|" * len(ks)]
        for t in tools:
            s = R["load"].get(t.key)
            if s is None:
                continue
            L.append("| %s | %s |" % (t.label, " | ".join(fmt(s[k]["median"]) if k in s else "-" for k in ks)))
        L.append("")
    if "profile" in R:
        P = R["profile"]
        L += ["### Profile: tinyctr next to the floor", "",
              "CPU time per run (perf stat -r %d, task-clock of the whole process tree) and syscalls made"
              " (strace -f -c, one run)." % args.profile_runs, "",
              "| tool | CPU ms per run | syscalls | syscalls the floor does not make (tinyctr minus floor) |",
              "|---|---:|---:|---|"]
        for k, ref in (("tinyctr", "floor"), ("tinyctr-m", "floor-s"), ("floor", None), ("floor-m", None), ("floor-s", None)):
            if k not in P:
                continue
            c = P[k].get("syscalls", {})
            extra = ""
            if ref and ref in P:
                rc = P[ref].get("syscalls", {})
                extra = ", ".join("%s %+d" % (n, c.get(n, 0) - rc.get(n, 0)) for n in sorted(set(c) | set(rc))
                                  if c.get(n, 0) != rc.get(n, 0))
            label = next(t.label for t in tools if t.key == k)
            tc = P[k].get("task_clock_ms")
            L.append("| %s | %s | %d | %s |" % (label, fmt(tc, 3) if tc is not None else "-", sum(c.values()), extra))
        L.append("")
    if R.get("ablate"):
        A = R["ablate"]
        L += ["### What each of tinyctr's extra steps costs", "",
              "The C floor plus one step at a time (bench/ablate.c), back-to-back (hyperfine -N, %d runs each),"
              " against the floor alone (`none`), all steps together (`all`) and tinyctr itself." % args.ablate_runs, "",
              "| step | median ms | min ms | Δ median vs none | with -m: median ms | min ms | Δ median vs none |",
              "|---|---:|---:|---:|---:|---:|---:|"]
        for st in ["none"] + ABLATE_STEPS + ["all", "tinyctr"]:
            a = A.get("tinyctr" if st == "tinyctr" else "ab-" + st)
            b = A.get("tinyctr-m" if st == "tinyctr" else "ab-m-" + st)
            cells = []
            for x, base in ((a, A.get("ab-none")), (b, A.get("ab-m-none"))):
                if x and base:
                    cells += [fmt(x["median"], 3), fmt(x["min"], 3), "%+.3f" % (x["median"] - base["median"])]
                else:
                    cells += ["-", "-", "-"]
            L.append("| %s | %s |" % ("tinyctr run (for reference)" if st == "tinyctr" else st, " | ".join(cells)))
        L.append("")
    if R.get("lc"):
        C = R["lc"]
        tc = C.get("tinyctr", {}).get("median")
        L += ["### OCI lifecycle: each runtime's own cost", "",
              "bench/lifecycle.c, a child subreaper like containerd's shim, per lifecycle: `RUNTIME --root R --log L"
              " --log-format json create --bundle B --pid-file P ID` (wait4), `start ID` (wait4), waitpid of the"
              " re-parented init (busybox `/bin/true`), `delete ID` (wait4); a fresh ID and cgroupsPath"
              " `/%s/ID` each time (%s); %d warm-up rounds then %d rounds, the runtimes round-robin."
              " Times: CLOCK_MONOTONIC over the whole lifecycle; steps are medians. State roots, config.json, pid files"
              " and logs on %s." % (LC_CGROUP, "the parent left to the runtimes" if args.lc_fresh_parent
                                     else "the parent made beforehand, as it is for every runtime after its first container",
                                     args.lc_warmup, args.lc_runs,
                                     "a tmpfs of the benchmark's own, as containerd's are" if LC_TMPFS[0]
                                     else "the disk (the tmpfs could not be mounted)"), "",
              "| runtime | median ms | mean ms | min ms | create | start | wait | delete | peak RSS KiB: create / start / delete (VmHWM) | ru_maxrss KiB max (wait4) | × tinyctr |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for key, s in C.items():
            hwm = "%d / %d / %d" % (s["hwm_create"], s["hwm_start"], s["hwm_delete"]) if s.get("hwm_create", -1) >= 0 else "-"
            maxrss = int(max(s["rss_create"], s["rss_start"], s["rss_delete"]))
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |" % (
                s["label"], fmt(s["median"]), fmt(s["mean"]), fmt(s["min"]), fmt(s["create"]), fmt(s["start"]),
                fmt(s["wait"]), fmt(s["delete"]), hwm, maxrss, fmt(s["median"] / tc) if tc else "-"))
        L += ["", "Peak RSS: VmHWM from /proc/PID/status at each command's exit (ptrace exit stop only, %d"
              " untimed round(s)); ru_maxrss from wait4 reads low on this kernel (per-CPU counters)."
              " The container's init is not counted (its ru_maxrss, runtime side before execve plus busybox:"
              " %s KiB)." % (args.lc_rss_runs, ", ".join("%s %d" % (k, s["rss_init"]) for k, s in C.items())), ""]
        bl = []
        for other, lim in (("crun", 4), ("runc", 10)):
            if tc and other in C:
                r = C[other]["median"] / tc
                bl.append("- tinyctr lifecycle >= %dx faster than %s: %.2fx -> %s" % (lim, other, r, "ok" if r >= lim else "UNDER"))
        if "floor" in C and "runc" in C:
            f, allowed = C["floor"]["median"], C["runc"]["median"] / 10
            bl.append("- the C floor of the job takes %.2f ms; 10x faster than runc allows %.2f ms: the floor alone is %s"
                      % (f, allowed, "within it" if f <= allowed else "over it by %.2f ms" % (f - allowed)))
            if tc:
                bl.append("- tinyctr lifecycle against the C floor: %.2fx (+%.2f ms)" % (tc / f, tc - f))
        if "tinyctr" in C and C["tinyctr"].get("hwm_create", -1) >= 0:
            s = C["tinyctr"]
            peak = max(s["hwm_create"], s["hwm_start"], s["hwm_delete"])
            bl.append("- tinyctr peak RSS of create/start/delete < 256 KiB: %d KiB -> %s" % (peak, "ok" if peak < 256 else "OVER"))
        if bl:
            L += ["Budget (issue 14):", ""] + bl + [""]
    if R.get("ctrd"):
        C = R["ctrd"]
        L += ["### containerd end to end: `ctr run --rm IMAGE true`", "",
              "A private containerd (tests/containerd/config.toml), the busybox image of"
              " tests/containerd/build-image.sh, the runc-v2 shim with `--runc-binary`; %d runs each after one"
              " warm-up, the runtimes alternating. Wall time of the ctr command." % args.ctrd_runs, "",
              "| runtime | median ms | min ms | max ms |", "|---|---:|---:|---:|"]
        for key, s in C.items():
            L.append("| %s | %s | %s | %s |" % (s["label"], fmt(s["median"]), fmt(s["min"]), fmt(s["max"])))
        if "tinyctr" in C and "runc" in C:
            L += ["", "runc / tinyctr (medians): %.2f" % (C["runc"]["median"] / C["tinyctr"]["median"])]
        L.append("")
    L += ["cgroup v2 guest (CLONE_INTO_CGROUP vs migration): not measured here; see bench/guest.sh", ""]
    return "\n".join(L)


# (key in R and --sections, progress label, function, leaves out the no-isolation baseline)
SECTIONS = [
    ("rss", "peak RSS", section_rss, False),
    ("b2b", "back-to-back", section_b2b, False),
    ("spaced", "spaced and shuffled", section_spaced, False),
    ("seq", "sequential", section_sequential, True),
    ("conc", "concurrent", section_concurrent, True),
    ("profile", "profile", section_profile, False),
    ("ablate", "ablate", section_ablate, False),
    ("load", "under load", section_load, True),
    ("lc", "OCI lifecycle", section_lifecycle, True),
    ("ctrd", "containerd end to end", section_containerd, True),
]


def environment():
    def ver(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0].strip()
        except (OSError, IndexError):
            return "?"
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    try:
        deb = "Debian " + read("/etc/debian_version").strip()
    except OSError:
        deb = platform.platform()
    return {"machine": "%s, kernel %s, %d CPUs (%s)" % (deb, platform.release(), os.cpu_count(), cpu),
            "loadavg": read("/proc/loadavg").split()[0],
            "versions": "; ".join([ver(["crun", "--version"]), ver(["runc", "--version"]),
                                   ver(["bwrap", "--version"]), ver(["unshare", "--version"]),
                                   ver(["hyperfine", "--version"]), ver(["containerd", "--version"])])}


def cgroup_leftovers():
    """Directories below the namespace's cgroup roots (ours): should be none."""
    found = []
    for h in os.listdir("/sys/fs/cgroup"):
        top = os.path.join("/sys/fs/cgroup", h)
        for dirpath, dirnames, _ in os.walk(top):
            if dirpath not in (top, os.path.join(top, "driver")):
                found.append(os.path.relpath(dirpath, "/sys/fs/cgroup"))
    return found


def oci_cleanup():
    for rt, state in (("crun", "/run/crun"), ("runc", "/run/runc")):
        try:
            names = os.listdir(state)
        except OSError:
            continue
        for n in names:
            if n.startswith(ID_PREFIX):
                subprocess.run([rt, "delete", "-f", n], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def inner(args):
    tools = make_tools(args)
    if args.only:
        want = args.only.split(",")
        tools = [t for t in tools if t.key in want]
    fails = Failures()
    env = environment()
    print("tinyctr benchmark: %s" % env["machine"], flush=True)
    if float(env["loadavg"]) > 0.5:
        print("bench: load average is %s: other work on this machine will show in the figures" % env["loadavg"], flush=True)
    print("Running every tool inside a private mount + cgroup namespace with only the cgroup v1 "
          "hierarchies mounted (crun 1.8 refuses the host's hybrid layout).", flush=True)
    oci_cleanup()  # containers of an earlier, interrupted run
    pre = cgroup_leftovers()
    if pre:
        print("bench: cgroups already present below the bench cgroup: %s" % pre, file=sys.stderr)
    R = {}
    sections = args.sections.split(",")
    try:
        R["sizes"] = section_sizes([t for t in tools if t.key != "base"])
        tools_ok = section_smoke(tools, fails)
        real = [t for t in tools_ok if t.key != "base"]
        for key, label, section, without_base in SECTIONS:
            if key in sections:
                print("-- " + label, flush=True)
                R[key] = section(real if without_base else tools_ok, args, fails)
        if "b2b" in R:
            R["b2b_runs"] = max(2, args.runs // args.rounds) * args.rounds
    finally:
        oci_cleanup()
        left = cgroup_leftovers()
        if left:
            print("bench: cgroups left behind by the tools (removed afterwards): %s" % ", ".join(left), file=sys.stderr)
            R["leftover_cgroups"] = left
    text = report(env, tools, R, args)
    if fails.items:
        text += "\nFAILED:\n" + "\n".join("- %s in %s: %s" % f for f in fails.items) + "\n"
    print()
    print(text)
    with open(os.path.join(args.work, "report.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump({"env": env, "args": vars(args), "results": R, "failures": fails.items}, f, indent=1)
    print("(report: %s/report.md, raw figures: %s/results.json)" % (args.work, args.work))
    return 1 if fails.items or R.get("leftover_cgroups") else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--work", default="/tmp/tinyctr-bench", help="build and result directory")
    p.add_argument("--tinyctr", required=True, help="tinyctr binary")
    p.add_argument("--quick", action="store_true", help="a few runs of everything (CI)")
    p.add_argument("--only", default="", help="comma list of tools: " +
                   "tinyctr,tinyctr-m,floor,floor-m,floor-s,unshare,bwrap,crun,runc,base (sections lc and ctrd: "
                   "tinyctr means the oci build)")
    p.add_argument("--sections", default="rss,b2b,spaced,seq,conc,load,profile,ablate,lc,ctrd",
                   help="comma list of rss,b2b,spaced,seq,conc,load,profile,ablate,lc,ctrd (ctrd: never with --quick)")
    p.add_argument("--tinyctr-oci", default="", help="tinyctr built with --features oci (sections lc, ctrd)")
    p.add_argument("--lc-runs", type=int, default=300, help="lifecycle rounds (section lc)")
    p.add_argument("--lc-fresh-parent", action="store_true",
                   help="leave the lifecycles' parent cgroup to the runtimes (section lc): tinyctr then makes and"
                        " removes it each time, runc and crun make it once and leave it")
    p.add_argument("--lc-warmup", type=int, default=10, help="lifecycle warm-up rounds (section lc)")
    p.add_argument("--lc-extra", action="append", default=[], metavar="LABEL=BINARY",
                   help="another OCI runtime build to run in the lifecycle round-robin (repeatable; section lc)")
    p.add_argument("--lc-floor-steps", action="append", default=[], metavar="STEPS",
                   help="also the C floor with these of tinyctr's steps (lcfloor.c --steps, comma list; "
                        "repeatable; section lc)")
    p.add_argument("--lc-rss-runs", type=int, default=3, help="untimed lifecycle rounds under ptrace for VmHWM (section lc)")
    p.add_argument("--ctrd-runs", type=int, default=7, help="ctr run --rm runs per runtime (section ctrd)")
    p.add_argument("--runs", type=int, default=600, help="back-to-back runs per tool")
    p.add_argument("--rounds", type=int, default=20, help="back-to-back rounds (order shuffled)")
    p.add_argument("--warmup", type=int, default=5, help="warm-up runs per tool and round")
    p.add_argument("--spaced-runs", type=int, default=40)
    p.add_argument("--gap-min", type=float, default=0.1)
    p.add_argument("--gap-max", type=float, default=0.3)
    p.add_argument("--seq", type=int, default=100)
    p.add_argument("--conc", type=int, default=8)
    p.add_argument("--conc-total", type=int, default=100)
    p.add_argument("--load", default="1,10,100")
    p.add_argument("--load-runs", type=int, default=30)
    p.add_argument("--nice", type=int, default=-15,
                   help="nice value of every measured run (default -15: a busy machine disturbs less; 0: as is)")
    p.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                   help="first wait up to SECONDS for the load average to drop below 1")
    p.add_argument("--rss-runs", type=int, default=3)
    p.add_argument("--ablate-runs", type=int, default=300, help="runs per variant (section ablate)")
    p.add_argument("--profile-runs", type=int, default=300, help="perf stat runs (section profile)")
    args = p.parse_args()
    if args.quick:
        args.runs, args.rounds, args.warmup = 10, 1, 2
        args.spaced_runs, args.seq, args.conc_total = 3, 10, 16
        args.load, args.load_runs, args.rss_runs, args.profile_runs = "1,10", 3, 1, 5
        args.ablate_runs = 4
        args.lc_runs, args.lc_warmup, args.lc_rss_runs = 5, 1, 1
        args.sections = ",".join(x for x in args.sections.split(",") if x != "ctrd")
    args.load = [int(x) for x in str(args.load).split(",") if x]
    if args.inner:
        return inner(args)
    return outer(args, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
