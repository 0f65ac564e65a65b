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
 * Everything else is floor.c, unchanged.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum where { START, LIMITS, CHILD, PROC, EXEC, PARENT, REAPED };
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
		break;
	case PARENT:
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
		if (on("post")) {
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
