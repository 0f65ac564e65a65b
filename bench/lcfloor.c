/* lcfloor: the C floor of an OCI runtime's lifecycle for the benchmark's bundle, what
 * bench/lifecycle.c times against tinyctr, crun and runc (bench.py --sections lc).
 *
 *   lcfloor --rootfs DIR --cgroup NAME [--root R] [--log L] [--log-format F] COMMAND...
 *   COMMAND: create --bundle B --pid-file P ID | start ID | delete [--force] ID
 *   (--force: kill the init first, for the benchmark's clean-up after a failure)
 *
 * It is floor.c's idea for the OCI lifecycle: the system calls the job cannot do
 * without, and nothing else. The job is the bundle bench/oci-bundle.sh makes (`crun
 * spec`'s config.json running /bin/true on a read-only busybox root, its cgroupsPath
 * /NAME/ID in every hierarchy), so the floor takes it from its own code, not from
 * config.json: it reads no JSON, no mountinfo (the hierarchies are the directories of
 * /sys/fs/cgroup) and no passwd, checks nothing, keeps no lock, and leaves out the
 * CVE-2019-5736 protection (a sealed copy or a read-only overlay of its own binary,
 * which tinyctr, runc and crun each pay in create). What it does, as tinyctr does:
 *   create  the state directory, its exec fifo and state file; in every hierarchy the
 *           container's cgroup (cpuset's cpus and mems copied from the parent, the
 *           devices cgroup's deny-all and the 8 default allow rules); clone3 into new
 *           PID, mount, UTS, IPC and network namespaces; the child moves itself into
 *           each cgroup, brings lo up, makes / private, binds the root, pivot_root,
 *           mounts proc, sysfs (ro), a tmpfs at /dev with the 6 standard nodes and 5
 *           links, devpts, /dev/shm, mqueue, /sys/fs/cgroup (a tmpfs with each
 *           hierarchy mounted read-only, then made read-only), the spec's masked and
 *           read-only paths, the root read-only; hostname, the nofile rlimit, the
 *           capability bounding set and sets; it tells the parent it is ready and
 *           waits on the fifo; the parent writes the pid file and exits.
 *   start   reads the state file, opens the fifo and writes to it (the init execs).
 *   delete  reads the state file and the init's /proc/PID/stat, removes the cgroups
 *           and the state directory.
 * Errors: a message on stderr and exit status 1 (lifecycle.c reports the step).
 *
 * `--steps LIST` adds steps tinyctr takes that the job does not need, one at a time,
 * to measure what each costs (bench.py --lc-floor-steps; none by default):
 *   seal       create re-executes itself from a sealed memfd copy of its binary first
 *   handshake  the child waits for a byte from the parent after joining its cgroups
 *   loparent   the parent brings lo up in the child's namespace (setns through the
 *              clone3 pidfd and back), not the child
 *   cgns       the child mounts the cgroup hierarchies from a new cgroup namespace and
 *              setns's back to its own after
 *   mountinfo  create reads /proc/self/mountinfo three times and /proc/self/cgroup once
 *   locks      flock of the state directory (every command) and of each cgroup and its
 *              parent (create)
 *   xattrs     create marks each cgroup it makes with an xattr, delete reads the parent's
 *   caps       create reads the bounding set (PR_CAPBSET_READ for each capability, capget)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sendfile.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <sys/mman.h>
#include <unistd.h>

/* <linux/capability.h>, which musl-gcc does not see */
#define CAP_KILL 5
#define CAP_NET_BIND_SERVICE 10
#define CAP_AUDIT_WRITE 29
#define CAP_V3 0x20080522
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

#define MAXH 16
static const char *rootfs, *cgname, *state_root = "/run/lcfloor";
enum { SEAL = 1, HANDSHAKE = 2, LOPARENT = 4, CGNS = 8, MOUNTINFO = 16, LOCKS = 32, XATTRS = 64, CAPS = 128 };
static const char *step_names[] = { "seal", "handshake", "loparent", "cgns", "mountinfo", "locks", "xattrs", "caps" };
static unsigned steps;
static char hier[MAXH][256];
static int nhier;

static void die(const char *what)
{
	char m[512];
	snprintf(m, sizeof m, "lcfloor: %s", what);
	perror(m);
	_exit(1);
}

static void put(int dirfd, const char *file, const char *value)
{
	int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		die(file);
	close(fd);
}

/* The hierarchies: /sys/fs/cgroup's directories (the benchmark mounts only v1 ones). */
static void hierarchies(void)
{
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *e;
	if (!d)
		die("/sys/fs/cgroup");
	while ((e = readdir(d)) && nhier < MAXH)
		if (e->d_name[0] != '.' && e->d_type == DT_DIR)
			snprintf(hier[nhier++], sizeof hier[0], "%s", e->d_name);
	closedir(d);
}

static void cgpath(char *buf, size_t n, int h, const char *id)
{
	snprintf(buf, n, "/sys/fs/cgroup/%s/%s%s%s", hier[h], cgname, id ? "/" : "", id ? id : "");
}

static void mnt(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
	if (mount(src, dst, type, flags, data) < 0)
		die(dst);
}

/* A masked or read-only path that may not exist on this kernel: ENOENT is fine. */
static void maybe(const char *src, const char *dst, unsigned long flags)
{
	if (mount(src, dst, NULL, flags, NULL) < 0 && errno != ENOENT)
		die(dst);
}

static void lo_up(void)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { .ifr_name = "lo", .ifr_flags = IFF_UP | IFF_LOOPBACK };
	if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die("lo up");
	close(s);
}

static void child(const char *id, int *cgfd, int ready, int fifo, int go)
{
	char buf[4096];
	for (int h = 0; h < nhier; h++)
		put(cgfd[h], "tasks", "0");
	if (steps & HANDSHAKE) {
		char c;
		if (read(go, &c, 1) != 1)
			die("handshake");
	}
	if (!(steps & LOPARENT))
		lo_up();

	mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	mnt(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL);
	if (chdir(rootfs) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		die("pivot_root");
	const unsigned long nse = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	mnt("proc", "/proc", "proc", 0, NULL);
	mnt("sysfs", "/sys", "sysfs", MS_RDONLY | nse, NULL);
	mnt("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
	mkdir("/dev/pts", 0755);
	mnt("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	mkdir("/dev/shm", 0755);
	mnt("shm", "/dev/shm", "tmpfs", nse, "mode=1777,size=65536k");
	mkdir("/dev/mqueue", 0755);
	mnt("mqueue", "/dev/mqueue", "mqueue", nse, NULL);
	mnt("tmpfs", "/sys/fs/cgroup", "tmpfs", nse, "mode=755");
	int own_cgns = -1;
	if (steps & CGNS) {
		own_cgns = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
		if (own_cgns < 0 || unshare(CLONE_NEWCGROUP) < 0)
			die("cgroup namespace");
	}
	for (int h = 0; h < nhier; h++) {
		snprintf(buf, sizeof buf, "/sys/fs/cgroup/%.200s", hier[h]);
		mkdir(buf, 0555);
		const char *opt = strcmp(hier[h], "systemd") ? hier[h] : "name=systemd";
		mnt("cgroup", buf, "cgroup", MS_RDONLY | nse | MS_RELATIME, opt);
	}
	mnt("tmpfs", "/sys/fs/cgroup", NULL, MS_REMOUNT | MS_RDONLY | nse, "mode=755");
	if (own_cgns >= 0 && setns(own_cgns, CLONE_NEWCGROUP) < 0)
		die("setns cgroup");
	static const struct { const char *name; unsigned maj, min; } nodes[] = {
		{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
		{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
	};
	for (unsigned i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		if (mknod(nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0)
			die(nodes[i].name);
	static const char *links[][2] = {
		{ "pts/ptmx", "/dev/ptmx" }, { "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
	};
	for (unsigned i = 0; i < sizeof links / sizeof links[0]; i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			die(links[i][1]);
	/* crun spec's maskedPaths and readonlyPaths */
	mnt("tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY | nse, NULL);
	static const char *files[] = { "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
				       "/proc/timer_stats", "/proc/sched_debug" };
	maybe("/proc/acpi", "/proc/asound", MS_BIND);
	for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++)
		maybe("/dev/null", files[i], MS_BIND);
	maybe("/proc/acpi", "/sys/firmware", MS_BIND);
	maybe("/proc/acpi", "/proc/scsi", MS_BIND);
	static const char *ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };
	for (unsigned i = 0; i < sizeof ro / sizeof ro[0]; i++)
		if (mount(ro[i], ro[i], NULL, MS_BIND | MS_REC, NULL) == 0)
			mnt(NULL, ro[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
	mnt(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
	if (sethostname("crun", 4) < 0)
		die("sethostname");
	struct rlimit nofile = { 1024, 1024 };
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		die("setrlimit");
	const uint64_t keep = 1ull << CAP_KILL | 1ull << CAP_NET_BIND_SERVICE | 1ull << CAP_AUDIT_WRITE;
	for (int c = 0;; c++)
		if (!(keep & 1ull << c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL) /* past the kernel's last capability */
				break;
			die("PR_CAPBSET_DROP");
		}
	struct cap_header hd = { CAP_V3, 0 };
	struct cap_data data[2] = { { (uint32_t)keep, (uint32_t)keep, 0 }, { 0, 0, 0 } };
	if (syscall(SYS_capset, &hd, data) < 0)
		die("capset");
	/* ready; then wait for start's write to the fifo */
	if (write(ready, "R", 1) != 1)
		die("ready");
	close(ready);
	struct pollfd p = { fifo, POLLIN, 0 };
	char c;
	while (poll(&p, 1, -1) < 0 || read(fifo, &c, 1) != 1)
		p.revents = 0;
	char *argv[] = { "/bin/true", NULL };
	char *envp[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=crun",
			 "TERM=xterm", NULL };
	(void)id;
	execve(argv[0], argv, envp);
	die("execve /bin/true");
}

/* seal: unless running from a sealed memfd already, copy the binary into one and
 * execute it with the same arguments (tinyctr's src/sealed.rs). */
static void seal(char **argv, char **envp)
{
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		die("/proc/self/exe");
	const int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	int have = fcntl(exe, F_GET_SEALS);
	if (have >= 0 && (have & seals) == seals) {
		close(exe);
		return;
	}
	struct stat st;
	int m = memfd_create("lcfloor", MFD_CLOEXEC | MFD_ALLOW_SEALING | 0x10 /* MFD_EXEC */);
	if (m < 0)
		m = memfd_create("lcfloor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m < 0 || fstat(exe, &st) < 0)
		die("memfd");
	for (off_t off = 0; off < st.st_size;)
		if (sendfile(m, exe, &off, st.st_size - off) <= 0)
			die("sendfile");
	if (fcntl(m, F_ADD_SEALS, seals) < 0)
		die("seals");
	close(exe);
	syscall(SYS_execveat, m, "", argv, envp, AT_EMPTY_PATH);
	die("execveat");
}

static void read_file(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
}

static void lock(int fd)
{
	if (flock(fd, LOCK_EX) < 0)
		die("flock");
}

static int create(const char *pidfile, const char *id)
{
	char dir[4096], buf[4096];
	if (steps & CAPS) {
		struct cap_header hd = { CAP_V3, 0 };
		struct cap_data data[2];
		if (syscall(SYS_capget, &hd, data) < 0)
			die("capget");
		for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
			;
	}
	if (steps & MOUNTINFO)
		read_file("/proc/self/mountinfo");
	snprintf(dir, sizeof dir, "%s/%s", state_root, id);
	if (mkdir(dir, 0711) < 0)
		die(dir);
	int st = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st >= 0 && (steps & LOCKS))
		lock(st);
	if (st < 0 || mknodat(st, "exec.fifo", S_IFIFO | 0600, 0) < 0)
		die("exec.fifo");
	int fifo = openat(st, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0)
		die("exec.fifo");
	if (steps & MOUNTINFO) {
		read_file("/proc/self/cgroup");
		read_file("/proc/self/mountinfo");
		read_file("/proc/self/mountinfo");
	}
	hierarchies();
	int cgfd[MAXH];
	for (int h = 0; h < nhier; h++) {
		int parent = -1;
		if (steps & LOCKS) {
			cgpath(buf, sizeof buf, h, NULL);
			if ((parent = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
				die(buf);
			lock(parent);
		}
		cgpath(buf, sizeof buf, h, id);
		if (mkdir(buf, 0755) < 0 || (cgfd[h] = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			die(buf);
		if (steps & LOCKS) {
			lock(cgfd[h]);
			close(parent);
		}
		if ((steps & XATTRS) && fsetxattr(cgfd[h], "trusted.lcfloor", "1", 1, 0) < 0)
			die("fsetxattr");
		if (!strcmp(hier[h], "cpuset")) {
			for (int f = 0; f < 2; f++) {
				const char *file = f ? "cpuset.cpus" : "cpuset.mems";
				char parent[4096], v[256];
				cgpath(parent, sizeof parent, h, NULL);
				int pd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = openat(pd, file, O_RDONLY | O_CLOEXEC);
				ssize_t n = fd < 0 ? -1 : read(fd, v, sizeof v - 1);
				if (n <= 0)
					die(file);
				v[n] = 0;
				put(cgfd[h], file, v);
				close(fd);
				close(pd);
			}
		} else if (!strcmp(hier[h], "devices")) {
			put(cgfd[h], "devices.deny", "a *:* rwm");
			int fd = openat(cgfd[h], "devices.allow", O_WRONLY | O_CLOEXEC);
			static const char *rules[] = { "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
						       "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm" };
			for (unsigned i = 0; i < sizeof rules / sizeof rules[0]; i++)
				if (fd < 0 || write(fd, rules[i], strlen(rules[i])) < 0)
					die("devices.allow");
			close(fd);
		}
	}
	int pipefd[2], go[2], pidfd = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		die("pipe2");
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} args = { CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_PIDFD,
		   (uint64_t)(uintptr_t)&pidfd, 0, 0, SIGCHLD, 0, 0, 0 };
	long pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid < 0)
		die("clone3");
	if (pid == 0) {
		close(pipefd[0]);
		close(go[1]);
		child(id, cgfd, pipefd[1], fifo, go[0]);
	}
	close(pipefd[1]);
	close(go[0]);
	if (steps & LOPARENT) {
		int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (own < 0 || setns(pidfd, CLONE_NEWNET) < 0)
			die("setns into the container's network namespace");
		lo_up();
		if (setns(own, CLONE_NEWNET) < 0)
			die("setns back");
		close(own);
	}
	if ((steps & HANDSHAKE) && write(go[1], "g", 1) != 1)
		die("handshake");
	char c;
	if (read(pipefd[0], &c, 1) != 1) { /* EOF: the child died before it was ready */
		fprintf(stderr, "lcfloor: the container's set-up failed\n");
		return 1;
	}
	int n = snprintf(buf, sizeof buf, "%ld\n", pid);
	int fd = openat(st, "state", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, n) != n)
		die("state");
	close(fd);
	fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, n - 1) != n - 1)
		die(pidfile);
	if (steps & LOCKS) /* the init shares the descriptor, and so the lock, until it execs */
		flock(st, LOCK_UN);
	return 0;
}

static long read_state(int st)
{
	char buf[64];
	int fd = openat(st, "state", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (n <= 0)
		die("state");
	buf[n] = 0;
	close(fd);
	return atol(buf);
}

static int open_state(const char *id)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/%s", state_root, id);
	int st = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st < 0)
		die(dir);
	return st;
}

static int start(const char *id)
{
	int st = open_state(id);
	if (steps & LOCKS)
		lock(st);
	read_state(st);
	int fifo = openat(st, "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0 || unlinkat(st, "exec.fifo", 0) < 0 || write(fifo, "0", 1) != 1)
		die("exec.fifo");
	return 0;
}

static int delete(const char *id, int force)
{
	char buf[4096];
	int st = open_state(id);
	if (steps & LOCKS)
		lock(st);
	long pid = read_state(st);
	if (force) /* the benchmark's clean-up after a failure: the init may still wait */
		kill(pid, SIGKILL);
	snprintf(buf, sizeof buf, "/proc/%ld/stat", pid);
	int fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof buf) < 0)
			die(buf);
		close(fd);
	}
	hierarchies();
	for (int h = 0; h < nhier; h++) {
		cgpath(buf, sizeof buf, h, id);
		for (int tries = 0; rmdir(buf) < 0; tries++)
			if (!force || errno != EBUSY || tries == 100)
				die(buf);
			else
				usleep(10000); /* the killed init has not left its cgroups yet */
		if (steps & XATTRS) {
			char mark[4];
			cgpath(buf, sizeof buf, h, NULL);
			if (getxattr(buf, "trusted.lcfloor", mark, sizeof mark) < 0 && errno != ENODATA)
				die("getxattr");
		}
	}
	unlinkat(st, "state", 0);
	unlinkat(st, "exec.fifo", 0);
	snprintf(buf, sizeof buf, "%s/%s", state_root, id);
	if (rmdir(buf) < 0)
		die(buf);
	return 0;
}

int main(int argc, char **argv, char **envp)
{
	const char *bundle = NULL, *pidfile = NULL;
	int force = 0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--rootfs"))
			rootfs = argv[i + 1];
		else if (!strcmp(argv[i], "--cgroup"))
			cgname = argv[i + 1];
		else if (!strcmp(argv[i], "--root"))
			state_root = argv[i + 1];
		else if (!strcmp(argv[i], "--steps"))
			for (unsigned k = 0; k < sizeof step_names / sizeof step_names[0]; k++) {
				const char *w = strstr(argv[i + 1], step_names[k]);
				size_t n = strlen(step_names[k]);
				if (w && (w == argv[i + 1] || w[-1] == ',') && (w[n] == 0 || w[n] == ','))
					steps |= 1u << k;
			}
	}
	if (i >= argc || !rootfs || !cgname) {
		fprintf(stderr, "usage: lcfloor --rootfs DIR --cgroup NAME [--root R] create|start|delete ...\n");
		return 2;
	}
	const char *cmd = argv[i++], *id = NULL;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--bundle") && i + 1 < argc)
			bundle = argv[++i];
		else if (!strcmp(argv[i], "--pid-file") && i + 1 < argc)
			pidfile = argv[++i];
		else if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = 1;
		else if (argv[i][0] != '-')
			id = argv[i];
	}
	(void)bundle;
	if (!id)
		die("no container id");
	if (!strcmp(cmd, "create") && pidfile) {
		if (steps & SEAL)
			seal(argv, envp);
		return create(pidfile, id);
	}
	if (!strcmp(cmd, "start"))
		return start(id);
	if (!strcmp(cmd, "delete"))
		return delete(id, force);
	fprintf(stderr, "lcfloor: unknown command %s\n", cmd);
	return 2;
}
