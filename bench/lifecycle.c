/* lifecycle: an OCI runtime's own cost for one container's whole life, the way a
 * containerd shim drives it: create, start, wait for init's exit, delete.
 *
 *   lifecycle [-n N] [-w W] [-x K] -b BUNDLE -t TEMPLATE -d DIR RUNTIME...
 *
 * RUNTIME is "LABEL=ARGV0 ARG..." (split at spaces): the runtime and its global
 * options (--root R --log L --log-format json ...), the subcommands are appended.
 * TEMPLATE is a config.json in which every "@ID@" becomes the container id (the
 * cgroupsPath, e.g. "/tinyctr-bench-lc/@ID@"); before each lifecycle it is written
 * to BUNDLE/config.json (untimed). DIR holds the pid files and each runtime's
 * stderr (DIR/LABEL.err).
 *
 * The driver is a child subreaper (PR_SET_CHILD_SUBREAPER), as containerd's shim is,
 * so the container's init, orphaned when `create` exits, is re-parented to it. One
 * lifecycle, timed with CLOCK_MONOTONIC from the fork of create to the reaping of
 * delete:
 *   fork/exec RUNTIME create --bundle BUNDLE --pid-file DIR/LABEL.pid ID, wait4
 *   read the pid file
 *   fork/exec RUNTIME start ID, wait4
 *   wait4 the init (our child now)
 *   fork/exec RUNTIME delete ID, wait4
 * with a fresh ID each time (tcb-lc-LABEL-I). W warm-up rounds, then N measured
 * rounds, the runtimes round-robin (ABCABC...) so that the machine's slow spells
 * hit every runtime alike. Stray orphans (a runtime's intermediate processes) are
 * reaped after each lifecycle, untimed.
 *
 * Memory: wait4's ru_maxrss of create, start and delete (and of the init, which
 * includes the runtime's container-side process before execve). On kernels 6.2+
 * ru_maxrss comes from per-CPU counters that are not folded in and reads low by up to
 * 32 pages per CPU (0 for small static programs), so -x K adds K more rounds in
 * which each runtime command runs under ptrace (PTRACE_O_TRACEEXIT only, no syscall
 * stops, children untraced) and VmHWM is read from /proc/PID/status at its exit
 * stop: exact. Those rounds are not timed.
 *
 * Output, one line per runtime:
 *   lc LABEL n=N median=MS mean=MS min=MS max=MS create=MS start=MS wait=MS delete=MS
 *      rss_create=KIB rss_start=KIB rss_delete=KIB rss_init=KIB
 *      hwm_create=KIB hwm_start=KIB hwm_delete=KIB strays=S
 * (step times are medians, rss_* the largest ru_maxrss seen, hwm_* the largest
 * VmHWM, -1 when not measured) then "times LABEL MS..." (every lifecycle), and for a
 * runtime that failed "fail LABEL STEP STATUS" (its last stderr line is in
 * DIR/LABEL.err). Exit status 0 if every runtime completed every lifecycle, else 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __WALL
#define __WALL 0x40000000
#endif

#define MAXRT 16
#define MAXARG 64
enum { S_CREATE, S_START, S_WAIT, S_DELETE, NSTEP };
static const char *step_name[NSTEP] = { "create", "start", "wait", "delete" };

struct rt {
	char *label;
	char *argv[MAXARG];
	int argc;
	int errfd;
	int dead;
	char pidfile[4096];
	double *total, *step[NSTEP];
	int n;
	long rss[NSTEP]; /* ru_maxrss KiB; S_WAIT: the init */
	long hwm[NSTEP];
	long strays;
};

static struct rt rts[MAXRT];
static int nrt;
static char *bundle, *template, *dir, *cfgpath;
static size_t template_len;
static int devnull;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void write_config(const char *id)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", cfgpath);
	FILE *f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	for (const char *p = template; *p;) {
		const char *q = strstr(p, "@ID@");
		if (!q) {
			fputs(p, f);
			break;
		}
		fwrite(p, 1, q - p, f);
		fputs(id, f);
		p = q + 4;
	}
	if (fclose(f) || rename(tmp, cfgpath))
		die(cfgpath);
}

/* fork/exec the runtime with SUB..., optionally traced; returns its pid. */
static pid_t spawn(struct rt *r, char **sub, int traced)
{
	char *argv[MAXARG + 8];
	int n = 0;
	for (int i = 0; i < r->argc; i++)
		argv[n++] = r->argv[i];
	for (int i = 0; sub[i]; i++)
		argv[n++] = sub[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(r->errfd, 2);
		if (traced && ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static long vmhwm(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strstr(buf, "VmHWM:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

/* Wait for pid (retrying on EINTR); its exit code (128+sig if killed), rusage in ru.
 * If it is traced, follow its ptrace stops: at the exit stop, VmHWM into *hwm. */
static int reap(pid_t pid, struct rusage *ru, long *hwm)
{
	for (;;) {
		int st;
		pid_t p = wait4(pid, &st, __WALL, ru);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			die("wait4");
		}
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		if (WIFSIGNALED(st))
			return 128 + WTERMSIG(st);
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), event = st >> 16;
		if (event == PTRACE_EVENT_EXIT) {
			long h = vmhwm(pid);
			if (h > *hwm)
				*hwm = h;
			sig = 0;
		} else if (sig == SIGTRAP && !event) {
			/* the stop after TRACEME's execve: from now on, only the exit stop */
			ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
			sig = 0;
		}
		ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double *s = malloc(n * sizeof *s);
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp);
	double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

static void fail(struct rt *r, const char *id, int step, int status)
{
	printf("fail %s %s %d\n", r->label, step_name[step], status);
	fflush(stdout);
	r->dead = 1;
	char *sub[] = { "delete", "--force", (char *)id, NULL };
	struct rusage ru;
	long h = 0;
	reap(spawn(r, sub, 0), &ru, &h);
}

/* One lifecycle of r with container id; record into slot (or -1: warm-up);
 * traced: the ptrace round (VmHWM), not timed. */
static void lifecycle(struct rt *r, const char *id, int slot, int traced)
{
	struct rusage ru;
	double t[NSTEP + 1];
	long h;
	int st;
	write_config(id);
	unlink(r->pidfile);

	t[0] = now_ms();
	char *create[] = { "create", "--bundle", bundle, "--pid-file", r->pidfile, (char *)id, NULL };
	h = 0;
	st = reap(spawn(r, create, traced), &ru, &h);
	if (st) {
		fail(r, id, S_CREATE, st);
		return;
	}
	if (ru.ru_maxrss > r->rss[S_CREATE])
		r->rss[S_CREATE] = ru.ru_maxrss;
	if (traced && h > r->hwm[S_CREATE])
		r->hwm[S_CREATE] = h;
	char buf[32] = "";
	int fd = open(r->pidfile, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	pid_t init = n > 0 ? (pid_t)atoi(buf) : 0;
	if (init <= 0) {
		fprintf(stderr, "lifecycle: %s: no pid in %s\n", r->label, r->pidfile);
		fail(r, id, S_CREATE, -1);
		return;
	}

	t[1] = now_ms();
	char *start[] = { "start", (char *)id, NULL };
	h = 0;
	st = reap(spawn(r, start, traced), &ru, &h);
	if (st) {
		fail(r, id, S_START, st);
		return;
	}
	if (ru.ru_maxrss > r->rss[S_START])
		r->rss[S_START] = ru.ru_maxrss;
	if (traced && h > r->hwm[S_START])
		r->hwm[S_START] = h;

	t[2] = now_ms();
	h = 0;
	st = reap(init, &ru, &h); /* re-parented to us: we are the subreaper */
	if (st) {
		fail(r, id, S_WAIT, st);
		return;
	}
	if (ru.ru_maxrss > r->rss[S_WAIT])
		r->rss[S_WAIT] = ru.ru_maxrss;

	t[3] = now_ms();
	char *del[] = { "delete", (char *)id, NULL };
	h = 0;
	st = reap(spawn(r, del, traced), &ru, &h);
	if (st) {
		fail(r, id, S_DELETE, st);
		return;
	}
	if (ru.ru_maxrss > r->rss[S_DELETE])
		r->rss[S_DELETE] = ru.ru_maxrss;
	if (traced && h > r->hwm[S_DELETE])
		r->hwm[S_DELETE] = h;
	t[4] = now_ms();

	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0) /* stray orphans, untimed */
		r->strays++;
	if (slot < 0 || traced)
		return;
	r->total[slot] = t[4] - t[0];
	for (int s = 0; s < NSTEP; s++)
		r->step[s][slot] = t[s + 1] - t[s];
	r->n = slot + 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: lifecycle [-n N] [-w W] [-x K] -b BUNDLE -t TEMPLATE -d DIR LABEL='RUNTIME ARGS'...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int n = 100, warm = 5, rssruns = 0, o;
	char *tpath = NULL;
	while ((o = getopt(argc, argv, "n:w:x:b:t:d:")) != -1) {
		switch (o) {
		case 'n': n = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'x': rssruns = atoi(optarg); break;
		case 'b': bundle = optarg; break;
		case 't': tpath = optarg; break;
		case 'd': dir = optarg; break;
		default: usage();
		}
	}
	if (!bundle || !tpath || !dir || optind == argc || n < 1)
		usage();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		die("PR_SET_CHILD_SUBREAPER");
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		die("/dev/null");
	FILE *tf = fopen(tpath, "r");
	if (!tf)
		die(tpath);
	template = malloc(1 << 20);
	template_len = fread(template, 1, (1 << 20) - 1, tf);
	template[template_len] = 0;
	fclose(tf);
	if (asprintf(&cfgpath, "%s/config.json", bundle) < 0)
		die("asprintf");

	for (int i = optind; i < argc && nrt < MAXRT; i++) {
		struct rt *r = &rts[nrt++];
		char *eq = strchr(argv[i], '=');
		if (!eq)
			usage();
		*eq = 0;
		r->label = argv[i];
		for (char *tok = strtok(eq + 1, " "); tok && r->argc < MAXARG; tok = strtok(NULL, " "))
			r->argv[r->argc++] = tok;
		char path[4200];
		snprintf(path, sizeof path, "%s/%s.err", dir, r->label);
		r->errfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
		if (r->errfd < 0)
			die(path);
		snprintf(r->pidfile, sizeof r->pidfile, "%s/%s.pid", dir, r->label);
		r->total = calloc(n, sizeof(double));
		for (int s = 0; s < NSTEP; s++) {
			r->step[s] = calloc(n, sizeof(double));
			r->rss[s] = r->hwm[s] = -1;
		}
		if (rssruns)
			for (int s = 0; s < NSTEP; s++)
				if (s != S_WAIT)
					r->hwm[s] = 0;
	}

	int seq = 0;
	char id[128];
	for (int round = 0; round < warm + n + rssruns; round++) {
		for (int k = 0; k < nrt; k++) {
			struct rt *r = &rts[k];
			if (r->dead)
				continue;
			snprintf(id, sizeof id, "tcb-lc-%s-%d", r->label, seq++);
			int slot = round < warm ? -1 : round - warm;
			lifecycle(r, id, slot < n ? slot : -1, round >= warm + n);
		}
	}

	int ok = 1;
	for (int k = 0; k < nrt; k++) {
		struct rt *r = &rts[k];
		if (r->dead || r->n < n)
			ok = 0;
		if (r->n == 0)
			continue;
		double sum = 0, mn = r->total[0], mx = r->total[0];
		for (int i = 0; i < r->n; i++) {
			sum += r->total[i];
			mn = r->total[i] < mn ? r->total[i] : mn;
			mx = r->total[i] > mx ? r->total[i] : mx;
		}
		printf("lc %s n=%d median=%.3f mean=%.3f min=%.3f max=%.3f", r->label, r->n,
		       median(r->total, r->n), sum / r->n, mn, mx);
		for (int s = 0; s < NSTEP; s++)
			printf(" %s=%.3f", step_name[s], median(r->step[s], r->n));
		printf(" rss_create=%ld rss_start=%ld rss_delete=%ld rss_init=%ld", r->rss[S_CREATE], r->rss[S_START],
		       r->rss[S_DELETE], r->rss[S_WAIT]);
		printf(" hwm_create=%ld hwm_start=%ld hwm_delete=%ld strays=%ld\n", r->hwm[S_CREATE], r->hwm[S_START],
		       r->hwm[S_DELETE], r->strays);
		printf("times %s", r->label);
		for (int i = 0; i < r->n; i++)
			printf(" %.3f", r->total[i]);
		printf("\n");
	}
	return ok ? 0 : 1;
}
