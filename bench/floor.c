/* floor: the physical floor for "start a container, run true, tear it down".
 *
 * What any runtime must do at least, done directly in C with nothing else:
 * clone3 into new UTS, PID, mount, IPC and network namespaces; in the child make /
 * MS_REC|MS_PRIVATE, mount a fresh proc (nosuid,nodev,noexec, NULL data: "" would
 * make the kernel copy a page), set the hostname, execve the command as PID 1.
 *
 *   floor [-m BYTES | -M BYTES | -S BYTES] COMMAND [ARG...]
 *
 * -m adds a memory limit the way a runtime has to without CLONE_INTO_CGROUP:
 * mkdir a cgroup below our own memory cgroup (from /proc/self/cgroup), write the
 * limit (v1 memory.limit_in_bytes, v2 memory.max), clone, write the child's pid
 * to cgroup.procs (a migration), then release the child through a pipe (it must
 * not exec before it is inside its limits), wait, rmdir.
 * -M (cgroup v2 only) does the same but has clone3 create the child inside the
 * cgroup (CLONE_INTO_CGROUP): no migration, no handshake.
 * -S (cgroup v1 only) is v1's best: the child moves itself, first thing, by writing
 * "0" to the cgroup's tasks file (opened by the parent before clone). A thread moving
 * itself takes no global threadgroup lock, so it never waits for the RCU grace period
 * a move by pid waits for after a quiet moment; no handshake either (the limit is
 * written before clone). tinyctr does this on v1.
 * Exit status: the command's, 128+signal if killed, 125 if floor itself failed.
 * Static with musl: no dynamic loader time in the figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* bench/ablate.c includes this file to add tinyctr's extra steps one by one. */
#ifndef HOOK
#define HOOK(where, arg) ((void)0)
#endif

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* The kernel's struct clone_args up to .cgroup (88 bytes; the first 64 are the
 * original layout, passed alone when no cgroup is asked for). musl lacks it. */
struct clone_args_v1 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

static void die(const char *what, const char *obj)
{
	int e = errno;
	dprintf(2, "floor: %s %s: %s\n", what, obj, strerror(e));
	_exit(125);
}

/* Write a short string into a cgroup control file. */
static void put(const char *dir, const char *file, const char *val)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		die("write", p);
	close(fd);
}

/* The directory of our own memory cgroup: v1 "N:memory:/a/b" -> /sys/fs/cgroup/memory/a/b,
 * else v2 "0::/a/b" -> /sys/fs/cgroup/a/b. Sets *v2. */
static void own_memory_cgroup(char *out, size_t n, int *v2)
{
	char unified[2000] = "";
	int have_unified = 0;
	char buf[4096];
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (len < 0)
		die("read", "/proc/self/cgroup");
	close(fd);
	buf[len] = 0;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			*c2 = 0;
			const char *path = strcmp(c2 + 1, "/") ? c2 + 1 : "";
			if (c2 == c1 + 1) {
				snprintf(unified, sizeof unified, "%s", path);
				have_unified = 1;
			}
			/* controllers are a comma list: match the word "memory" exactly */
			for (char *w = strtok(c1 + 1, ","); w; w = strtok(NULL, ","))
				if (!strcmp(w, "memory")) {
					snprintf(out, n, "/sys/fs/cgroup/memory%s", path);
					*v2 = 0;
					return;
				}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!have_unified) {
		errno = ENOENT;
		die("find memory cgroup in", "/proc/self/cgroup");
	}
	snprintf(out, n, "/sys/fs/cgroup%s", unified);
	*v2 = 1;
}

int main(int argc, char **argv)
{
	const char *mem = NULL;
	int i = 1, into = 0, self = 0, v2 = 0;
	if (i + 1 < argc && (!strcmp(argv[i], "-m") || !strcmp(argv[i], "-M") || !strcmp(argv[i], "-S")))
		into = argv[i][1] == 'M', self = argv[i][1] == 'S', mem = argv[i + 1], i += 2;
	if (i >= argc) {
		dprintf(2, "usage: floor [-m BYTES | -M BYTES | -S BYTES] COMMAND [ARG...]\n");
		return 125;
	}

	HOOK(START, NULL);
	char cg[4096] = "";
	int go[2] = { -1, -1 }, cgfd = -1, tasks = -1;
	if (mem) {
		char own[2048];
		own_memory_cgroup(own, sizeof own, &v2);
		if (into && !v2) {
			dprintf(2, "floor: -M needs cgroup v2 (CLONE_INTO_CGROUP)\n");
			return 125;
		}
		if (self && v2) {
			dprintf(2, "floor: -S needs cgroup v1 (a tasks file); on v2 use -M\n");
			return 125;
		}
		snprintf(cg, sizeof cg, "%s/floor-%d", own, (int)getpid());
		if (mkdir(cg, 0755) < 0)
			die("mkdir", cg);
		put(cg, v2 ? "memory.max" : "memory.limit_in_bytes", mem);
		HOOK(LIMITS, cg);
		if (into) {
			cgfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (cgfd < 0)
				die("open", cg);
		} else if (self) {
			char p[4200];
			snprintf(p, sizeof p, "%s/tasks", cg);
			if ((tasks = open(p, O_WRONLY | O_CLOEXEC)) < 0)
				die("open", p);
		} else if (pipe2(go, O_CLOEXEC) < 0) {
			die("pipe2", "");
		}
	}

	struct clone_args_v1 ca = {
		.flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET,
		.exit_signal = SIGCHLD,
	};
	if (into)
		ca.flags |= CLONE_INTO_CGROUP, ca.cgroup = (uint64_t)cgfd;
	long pid = syscall(SYS_clone3, &ca, into ? sizeof ca : 64);
	if (pid < 0)
		die("clone3", "");
	if (pid == 0) {
		if (self && write(tasks, "0", 1) != 1)
			die("write 0 to", "tasks");
		if (mem && !into && !self) {
			char c;
			close(go[1]);
			/* wait until the parent has put us into the cgroup */
			if (read(go[0], &c, 1) != 1)
				_exit(125);
		}
		HOOK(CHILD, NULL);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			die("make private", "/");
		HOOK(PROC, NULL);
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			die("mount proc", "/proc");
		HOOK(MOUNTED, NULL);
		if (sethostname("floor", 5) < 0)
			die("sethostname", "floor");
		HOOK(EXEC, NULL);
		execvp(argv[i], argv + i);
		die("execvp", argv[i]);
	}

	if (self)
		close(tasks);
	if (mem && !into && !self) {
		char s[24];
		close(go[0]);
		snprintf(s, sizeof s, "%ld", pid);
		put(cg, "cgroup.procs", s);
		if (write(go[1], "g", 1) != 1)
			die("release child", "");
		close(go[1]);
	}
	HOOK(PARENT, NULL);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid", "");
	HOOK(REAPED, cg);
	if (mem && rmdir(cg) < 0)
		die("rmdir", cg);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
