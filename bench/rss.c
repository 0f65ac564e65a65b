/* rss: exact peak resident memory of every process image a command runs.
 *
 *   rss COMMAND [ARG...]
 *
 * Why not getrusage/wait4 or /usr/bin/time: on this kernel (6.2+) ru_maxrss is
 * taken from per-CPU counters that are not folded in, so it reads low by up to
 * 32 pages per CPU (it says 0 for a small static program), and time(1) also
 * charges its own forked copy to the child. /proc/PID/status VmHWM is exact.
 *
 * So rss traces COMMAND and all its descendants with ptrace and reads VmHWM
 * (the peak of the current image) at the two moments an image ends:
 *   - entry to execve/execveat (the image about to be replaced), and
 *   - PTRACE_EVENT_EXIT (the process is exiting, its memory still mapped).
 * It prints "root PID" (the process it started), then one line per image, in
 * the order they end:
 *   image TGID PPID NAME peak-kib=N end=exec|exit
 * then "status S" (exit code, or 128+signal) and exits 0 if S is 0, else 1.
 * Tracing slows the command down; only the memory figures mean anything.
 * Our own forked copy before its first execve is not printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __WALL
#define __WALL 0x40000000
#endif

struct image {
	int tgid, ppid, open;
	long peak;
	char name[32];
};
static struct image img[4096];
static int nimg;
static int seen[8192], nseen; /* tids whose first stop we have had */
static int root;

static struct image *current(int tgid)
{
	for (int i = nimg - 1; i >= 0; i--)
		if (img[i].tgid == tgid && img[i].open)
			return &img[i];
	if (nimg == (int)(sizeof img / sizeof img[0]))
		return NULL;
	img[nimg] = (struct image){ .tgid = tgid, .open = 1, .peak = 0 };
	return &img[nimg++];
}

/* Read tid's status; fold its VmHWM into its thread group's current image. */
static void sample(int tid)
{
	char p[64], buf[8192];
	snprintf(p, sizeof p, "/proc/%d/status", tid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	char *tg = strstr(buf, "\nTgid:"), *pp = strstr(buf, "\nPPid:");
	char *hwm = strstr(buf, "\nVmHWM:");
	if (!tg)
		return;
	struct image *im = current(atoi(tg + 6));
	if (!im)
		return;
	if (pp)
		im->ppid = atoi(pp + 6);
	if (!strncmp(buf, "Name:\t", 6)) {
		size_t len = strcspn(buf + 6, "\n");
		if (len >= sizeof im->name)
			len = sizeof im->name - 1;
		memcpy(im->name, buf + 6, len);
		im->name[len] = 0;
	}
	if (hwm && atol(hwm + 7) > im->peak)
		im->peak = atol(hwm + 7);
}

static void finish(int tgid, const char *how)
{
	for (int i = nimg - 1; i >= 0; i--)
		if (img[i].tgid == tgid && img[i].open) {
			img[i].open = 0;
			if (!(tgid == root && !strcmp(how, "exec") && !strcmp(img[i].name, "rss")))
				printf("image %d %d %s peak-kib=%ld end=%s\n", img[i].tgid,
				       img[i].ppid, img[i].name, img[i].peak, how);
			return;
		}
}

static int first_stop(int tid)
{
	for (int i = 0; i < nseen; i++)
		if (seen[i] == tid)
			return 0;
	if (nseen < (int)(sizeof seen / sizeof seen[0]))
		seen[nseen++] = tid;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: rss COMMAND [ARG...]\n");
		return 2;
	}
	root = fork();
	if (root < 0) {
		perror("rss: fork");
		return 2;
	}
	if (root == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int st, code = 125;
	if (waitpid(root, &st, 0) < 0 || !WIFSTOPPED(st)) {
		perror("rss: first stop");
		return 2;
	}
	first_stop(root);
	printf("root %d\n", root);
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;
	ptrace(PTRACE_SETOPTIONS, root, 0, opts);
	sample(root);
	ptrace(PTRACE_SYSCALL, root, 0, 0);

	for (;;) {
		int tid = waitpid(-1, &st, __WALL);
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: every tracee is gone */
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			finish(tid, "exit"); /* only matches a thread group leader */
			if (tid == root)
				code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), event = st >> 16, inject = 0;
		if (first_stop(tid)) {
			/* a new tracee's initial SIGSTOP: swallow it */
		} else if (sig == (SIGTRAP | 0x80)) {
			struct __ptrace_syscall_info si;
			if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof si, &si) > 0 &&
			    si.op == PTRACE_SYSCALL_INFO_ENTRY &&
			    (si.entry.nr == SYS_execve || si.entry.nr == SYS_execveat))
				sample(tid);
		} else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
			unsigned long former = 0;
			ptrace(PTRACE_GETEVENTMSG, tid, 0, &former);
			finish(tid, "exec"); /* tid is the thread group id now */
			sample(tid);
		} else if (sig == SIGTRAP && event == PTRACE_EVENT_EXIT) {
			sample(tid);
		} else if (sig == SIGTRAP && event) {
			/* fork/vfork/clone events: the new tracee reports separately */
		} else {
			inject = sig;
		}
		ptrace(PTRACE_SYSCALL, tid, 0, inject);
	}
	printf("status %d\n", code);
	return code != 0;
}
