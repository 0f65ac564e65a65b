/* ablate: the C floor plus, one by one, the steps tinyctr takes that the floor does not,
 * to measure what each costs (bench.py --sections ablate).
 *
 *   ablate STEPS [-m BYTES] COMMAND [ARG...]     STEPS: comma list, or "none" / "all"
 *
 *   cgroupfiles  read /proc/self/cgroup and /proc/self/mountinfo first (layout discovery)
 *   sweep        flock the parent cgroup and list it (the stale-cgroup sweep)         (-m)
 *   memsw        also write memory.memsw.limit_in_bytes                              (-m)
 *   post         after the wait: read memory.oom_control twice, cgroup.procs, list it (-m)
 *   sigs         parent: block signals + signalfd; child: reset 9 handlers, unblock
 *   pdeath       child: prctl(PR_SET_PDEATHSIG, SIGKILL)
 *   cgroupns     child: unshare(CLONE_NEWCGROUP)
 *   umountproc   child: umount2("/proc", MNT_DETACH) before mounting the new proc
 *   loup         child: bring lo up (socket + SIOCGIFFLAGS + SIOCSIFFLAGS)
 *   handshake    child waits for the command from the parent through a pipe, even with
 *                no cgroup to be placed in first (one more cross-process wake-up)
 *   errpipe      parent reads a close-on-exec error pipe until execve closes it, and only
 *                then waits for the exit (one more wake-up)
 *   caps         child, last: docker's default confinement of root as tinyctr does it:
 *                PR_CAPBSET_DROP of every capability outside the 14 (to EINVAL), setgroups
 *                (empty), setresgid/setresuid 0, capset (E = P = the 14, I = 0), ambient
 *                cleared
 *   masks        child, after proc: tinyctr's masked and read-only paths without
 *                --rootfs (/dev/null opened O_PATH and checked, bound through
 *                /proc/self/fd/N over masked files, one ro tmpfs bound over masked
 *                directories, each read-only path bound onto itself and remounted ro)
 *   maskhide     only the masked paths of `masks`;  maskro: only its read-only paths
 *   devices      docker's device list as tinyctr gives it on v1: a cgroup of the devices
 *                hierarchy made before clone (and flock'ed), the child moving itself into
 *                it first thing ("0" into tasks), the parent writing the 13 rules
 *                (devices.deny, devices.allow) after clone, the cgroup removed after the
 *                wait
 *   seccomp      child, last: load a seccomp filter of $ABLATE_SECCOMP_INSNS (default 400)
 *                instructions, with no_new_privs; every syscall walks $ABLATE_SECCOMP_PATH
 *                of them (default 12: the arch check and a binary search over ~400
 *                numbers; 0 = all of them) and is allowed. The path is what costs, not
 *                the length: the kernel runs the filter for every syscall number when it
 *                loads it (its per-number cache), then on each call. Measured here: 400
 *                instructions with a path of 10, +0.09 ms a run; all 400 walked, +1.2 ms
 * Everything else is floor.c, unchanged.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

enum where { START, LIMITS, CHILD, PROC, MOUNTED, EXEC, PARENT, REAPED };
static void hook(enum where w, const char *cg);
#define HOOK(w, arg) hook(w, arg)
#define main floor_main
#include "floor.c"
#undef main

static const char *steps;
static int with_mem;

static int on(const char *name)
{
	if (!strcmp(steps, "all")) /* with -m the floor's own handshake already carries the command */
		return !(with_mem && !strcmp(name, "handshake"));
	size_t n = strlen(name);
	for (const char *p = steps; (p = strstr(p, name)); p += n)
		if ((p == steps || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return 1;
	return 0;
}

static void slurp(const char *path)
{
	char b[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (read(fd, b, sizeof b) > 0)
		;
	close(fd);
}

static void list(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	while (readdir(d))
		;
	closedir(d);
}

static int hs[2] = { -1, -1 }, ep[2] = { -1, -1 };

/* tinyctr's masked paths (rootfs/mask.rs), 1 = expected to be a directory. */
static const struct { const char *path; int dir; } masked[] = {
	{ "/proc/acpi", 1 }, { "/proc/asound", 1 }, { "/proc/kcore", 0 }, { "/proc/keys", 0 },
	{ "/proc/latency_stats", 0 }, { "/proc/timer_list", 0 }, { "/proc/timer_stats", 0 },
	{ "/proc/sched_debug", 0 }, { "/proc/scsi", 1 }, { "/sys/firmware", 1 },
	{ "/proc/interrupts", 0 }, { "/sys/devices/virtual/powercap", 1 },
};
static const char *const read_only[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };

static void mask_paths(int hide, int ro)
{
	if (hide) {
		int fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
			die("check", "/dev/null");
		char null[32];
		snprintf(null, sizeof null, "/proc/self/fd/%d", fd);
		const char *first = NULL;
		for (size_t k = 0; k < sizeof masked / sizeof masked[0]; k++) {
			const char *p = masked[k].path;
			int r;
			for (int dir = masked[k].dir, tries = 0; tries < 2; tries++, dir = !dir) {
				if (!dir)
					r = mount(null, p, NULL, MS_BIND, NULL);
				else if (first)
					r = mount(first, p, NULL, MS_BIND, NULL);
				else if ((r = mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) == 0)
					first = p;
				if (r == 0 || errno != ENOTDIR)
					break;
			}
			if (r < 0 && errno != ENOENT)
				die("mask", p);
		}
		close(fd);
	}
	if (ro)
		for (size_t k = 0; k < sizeof read_only / sizeof read_only[0]; k++) {
			const char *p = read_only[k];
			if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
				if (errno == ENOENT)
					continue;
				die("bind", p);
			}
			if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
				die("remount ro", p);
		}
}

/* The kernel ABI, spelled out: musl-gcc comes without the kernel headers. */
#define DOCKER_CAPS 0xa80425fbULL
#define CAP_V3 0x20080522
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };
struct bpf_insn { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct bpf_prog { unsigned short len; struct bpf_insn *filter; };
#define BPF_LD_W_ABS 0x20   /* BPF_LD | BPF_W | BPF_ABS */
#define BPF_JEQ_K 0x15      /* BPF_JMP | BPF_JEQ | BPF_K */
#define BPF_RET_K 0x06      /* BPF_RET | BPF_K */
#define BPF_JA 0x05         /* BPF_JMP | BPF_JA */
#define RET_ALLOW 0x7fff0000U
#define SET_MODE_FILTER 1
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static void confine_caps(void)
{
	for (int c = 0; c < 64; c++)
		if (!(DOCKER_CAPS >> c & 1) && prctl(PR_CAPBSET_DROP, c) < 0) {
			if (errno == EINVAL)
				break;
			die("drop from the bounding set", "");
		}
	if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)
		die("set ids", "");
	struct cap_header h = { CAP_V3, 0 };
	struct cap_data d[2] = { { (uint32_t)DOCKER_CAPS, (uint32_t)DOCKER_CAPS, 0 }, { 0, 0, 0 } };
	if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die("capset", "");
}

static void load_seccomp(void)
{
	const char *e = getenv("ABLATE_SECCOMP_INSNS"), *pe = getenv("ABLATE_SECCOMP_PATH");
	int n = e ? atoi(e) : 400;
	if (n < 3)
		n = 3;
	static struct bpf_insn f[4096];
	if (n > 4096)
		n = 4096;
	int path = pe ? atoi(pe) : 12;
	if (path < 2 || path > n)
		path = n;
	/* Load the number (seccomp_data.nr, offset 0), compare it with a number no syscall
	 * has until `path` instructions are walked, jump over the rest, allow. */
	f[0] = (struct bpf_insn){ BPF_LD_W_ABS, 0, 0, 0 };
	for (int k = 1; k < n - 1; k++)
		f[k] = (struct bpf_insn){ BPF_JEQ_K, 0, 0, 0x7fffffff };
	if (path < n)
		f[path - 2] = (struct bpf_insn){ BPF_JA, 0, 0, (uint32_t)(n - path) };
	f[n - 1] = (struct bpf_insn){ BPF_RET_K, 0, 0, RET_ALLOW };
	struct bpf_prog prog = { (unsigned short)n, f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_seccomp, SET_MODE_FILTER, 0, &prog) < 0)
		die("load seccomp", "");
}

/* docker's device list (src/cgroup/devices.rs DOCKER), after a deny of everything. */
static const char *const allow[] = { "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
				     "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 10:200 rwm", "c 136:* rwm" };
static char dev_cg[256];
static int dev_dir = -1, dev_tasks = -1;

static void devices_make(void)
{
	snprintf(dev_cg, sizeof dev_cg, "/sys/fs/cgroup/devices/ablate-%d", (int)getpid());
	if (mkdir(dev_cg, 0755) < 0 || (dev_dir = open(dev_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("make", dev_cg);
	flock(dev_dir, LOCK_EX);
	if ((dev_tasks = openat(dev_dir, "tasks", O_WRONLY | O_CLOEXEC)) < 0)
		die("open tasks of", dev_cg);
}

static void devices_write(void)
{
	int d = openat(dev_dir, "devices.deny", O_WRONLY | O_CLOEXEC), a = openat(dev_dir, "devices.allow", O_WRONLY | O_CLOEXEC);
	if (d < 0 || a < 0 || write(d, "a *:* rwm", 9) < 0)
		die("write devices.deny of", dev_cg);
	for (size_t k = 0; k < sizeof allow / sizeof allow[0]; k++)
		if (write(a, allow[k], strlen(allow[k])) < 0)
			die("write devices.allow of", dev_cg);
	close(d), close(a);
}

static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGTERM, SIGCHLD, SIGWINCH };

static void hook(enum where w, const char *cg)
{
	char p[4200];
	switch (w) {
	case START:
		if (on("handshake") && pipe2(hs, O_CLOEXEC) < 0)
			hs[0] = -1;
		if (on("errpipe") && pipe2(ep, O_CLOEXEC) < 0)
			ep[0] = -1;
		if (on("cgroupfiles"))
			slurp("/proc/self/cgroup"), slurp("/proc/self/mountinfo");
		if (on("devices"))
			devices_make();
		if (on("sigs")) {
			sigset_t set;
			sigemptyset(&set);
			for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
				sigaddset(&set, sigs[k]);
			sigprocmask(SIG_BLOCK, &set, NULL);
			signalfd(-1, &set, SFD_CLOEXEC);
		}
		break;
	case LIMITS:
		if (on("sweep")) {
			snprintf(p, sizeof p, "%s", cg);
			*strrchr(p, '/') = 0;
			int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			flock(fd, LOCK_EX);
			list(p);
			close(fd);
		}
		if (on("memsw")) {
			snprintf(p, sizeof p, "%s/memory.memsw.limit_in_bytes", cg);
			int fd = open(p, O_WRONLY | O_CLOEXEC);
			if (fd >= 0 && write(fd, "67108864", 8) < 0)
				dprintf(2, "ablate: memsw: %s\n", strerror(errno));
			close(fd);
		}
		break;
	case CHILD:
		if (dev_tasks >= 0 && write(dev_tasks, "0", 1) != 1)
			die("join", dev_cg);
		if (hs[0] >= 0) {
			char path[64];
			close(hs[1]);
			if (read(hs[0], path, sizeof path) <= 0)
				_exit(125);
			close(hs[0]);
		}
		if (ep[0] >= 0)
			close(ep[0]);
		if (on("pdeath"))
			prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (on("cgroupns"))
			unshare(CLONE_NEWCGROUP);
		break;
	case PROC:
		if (on("umountproc"))
			umount2("/proc", MNT_DETACH);
		break;
	case MOUNTED:
		if (on("masks") || on("maskhide") || on("maskro"))
			mask_paths(on("masks") || on("maskhide"), on("masks") || on("maskro"));
		break;
	case EXEC:
		if (on("loup")) {
			int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			struct ifreq r;
			memset(&r, 0, sizeof r);
			strcpy(r.ifr_name, "lo");
			ioctl(s, SIOCGIFFLAGS, &r);
			r.ifr_flags |= IFF_UP;
			ioctl(s, SIOCSIFFLAGS, &r);
			close(s);
		}
		if (on("sigs")) {
			sigset_t set;
			sigemptyset(&set);
			for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
				signal(sigs[k], SIG_DFL);
			sigprocmask(SIG_SETMASK, &set, NULL);
		}
		if (on("caps"))
			confine_caps();
		if (on("seccomp"))
			load_seccomp();
		break;
	case PARENT:
		if (dev_dir >= 0)
			devices_write();
		if (hs[0] >= 0) {
			close(hs[0]);
			if (write(hs[1], "/bin/true", 10) < 0)
				dprintf(2, "ablate: handshake: %s\n", strerror(errno));
			close(hs[1]);
		}
		if (ep[0] >= 0) {
			char b[16];
			close(ep[1]);
			while (read(ep[0], b, sizeof b) > 0)
				;
			close(ep[0]);
		}
		break;
	case REAPED:
		if (dev_dir >= 0 && rmdir(dev_cg) < 0)
			die("rmdir", dev_cg);
		if (on("post") && with_mem) {
			snprintf(p, sizeof p, "%s/memory.oom_control", cg);
			slurp(p), slurp(p);
			snprintf(p, sizeof p, "%s/cgroup.procs", cg);
			slurp(p);
			list(cg);
		}
		break;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		dprintf(2, "usage: ablate STEPS [-m BYTES] COMMAND [ARG...]\n");
		return 125;
	}
	steps = argv[1];
	with_mem = !strcmp(argv[2], "-m") || !strcmp(argv[2], "-M");
	argv[1] = argv[0];
	return floor_main(argc - 1, argv + 1);
}
