/* tick: time commands start-to-exit, for places with no hyperfine or python (the VM guest).
 *
 *   tick [-n RUNS] [-w WARMUP] [-s MIN_MS-MAX_MS] CMD [ARG...] [::: CMD [ARG...]]...
 *
 * Without -s: each command in turn, WARMUP untimed runs then RUNS timed ones, back
 * to back (hyperfine -N style). With -s: every run of every command in one random
 * order, with a random pause of MIN..MAX ms before each (spaced and shuffled).
 * Output, one line per command in the order given (times in ms):
 *   tick K median=M min=A max=B n=N
 * Exit status 0, or 1 if any run of any command did not exit 0 (the line for that
 * command then says failed=STATUS).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXCMD 16
#define MAXRUN 4096

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Run argv once; wall time in ms, exit status (128+signal if killed) in *st. */
static double run(char **argv, int *st)
{
	double t0 = now_ms();
	pid_t pid = vfork();
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	int w = 0;
	if (pid < 0 || waitpid(pid, &w, 0) < 0)
		*st = 125;
	else
		*st = WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
	return now_ms() - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int runs = 20, warm = 2, gmin = -1, gmax = -1, i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "-n"))
			runs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-w"))
			warm = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-s") && sscanf(argv[i + 1], "%d-%d", &gmin, &gmax) == 2)
			;
		else
			break;
	}
	if (i >= argc || runs < 1 || runs > MAXRUN) {
		fprintf(stderr, "usage: tick [-n RUNS] [-w WARMUP] [-s MIN_MS-MAX_MS] CMD... [::: CMD...]...\n");
		return 2;
	}
	char **cmd[MAXCMD];
	int ncmd = 0;
	cmd[ncmd++] = argv + i;
	for (int j = i; j < argc; j++)
		if (!strcmp(argv[j], ":::")) {
			argv[j] = NULL;
			if (ncmd == MAXCMD || j + 1 >= argc)
				return 2;
			cmd[ncmd++] = argv + j + 1;
		}

	static double t[MAXCMD][MAXRUN];
	int n[MAXCMD] = { 0 }, failed[MAXCMD] = { 0 }, st;
	srand((unsigned)(now_ms() * 1000));
	if (gmin < 0) {
		for (int c = 0; c < ncmd; c++) {
			for (int k = 0; k < warm; k++)
				run(cmd[c], &st);
			for (int k = 0; k < runs && !failed[c]; k++) {
				t[c][n[c]++] = run(cmd[c], &st);
				failed[c] = st;
			}
		}
	} else {
		static int plan[MAXCMD * MAXRUN];
		int np = 0;
		for (int c = 0; c < ncmd; c++)
			for (int k = 0; k < runs; k++)
				plan[np++] = c;
		for (int k = np - 1; k > 0; k--) { /* Fisher-Yates */
			int j = rand() % (k + 1), x = plan[k];
			plan[k] = plan[j], plan[j] = x;
		}
		for (int k = 0; k < np; k++) {
			int c = plan[k];
			if (failed[c])
				continue;
			int ms = gmin + (gmax > gmin ? rand() % (gmax - gmin + 1) : 0);
			struct timespec p = { ms / 1000, (ms % 1000) * 1000000L };
			nanosleep(&p, NULL);
			t[c][n[c]++] = run(cmd[c], &st);
			failed[c] = st;
		}
	}
	int bad = 0;
	for (int c = 0; c < ncmd; c++) {
		qsort(t[c], n[c], sizeof(double), cmp);
		double med = n[c] % 2 ? t[c][n[c] / 2] : (t[c][n[c] / 2 - 1] + t[c][n[c] / 2]) / 2;
		if (failed[c]) {
			printf("tick %d failed=%d\n", c, failed[c]);
			bad = 1;
		} else {
			printf("tick %d median=%.3f min=%.3f max=%.3f n=%d\n", c, med, t[c][0], t[c][n[c] - 1], n[c]);
		}
	}
	return bad;
}
