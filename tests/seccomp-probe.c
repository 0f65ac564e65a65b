/* The seccomp probe of tests/seccomp.rs: run inside a container, it makes the calls a
 * default container must not make and prints "NAME ERRNO" for each (0: it succeeded).
 * Every call is made with arguments that would fail harmlessly were it allowed (a NULL
 * pointer, a bad flag, a bad magic number), so a probe that got through changes nothing:
 * the errno then says the kernel looked at the call (EFAULT, EINVAL, ...) instead of the
 * filter refusing it (EPERM).
 *
 *   probe          the probes
 *   probe forkexec fork, exec /bin/echo in the child, wait: ordinary programs still work
 *   probe loop N   N getppid() then N personality(0xffffffff) calls, timed (ns per call)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void report(const char *name, long ret) {
    printf("%s %d\n", name, ret < 0 ? errno : 0);
}

/* A raw call through the i386 ABI (int 0x80), in a child in case the kernel has no
 * 32-bit emulation and kills it: prints the errno, or "signal N". */
static void i386_getpid(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long ret = 20; /* __NR_getpid on i386 */
        __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
        _exit(ret < 0 && ret > -4096 ? (int)-ret : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        printf("int80 signal %d\n", WTERMSIG(st));
    else
        printf("int80 %d\n", WEXITSTATUS(st));
}

/* unshare in a child, so that an allowed one leaves this process as it was. */
static void unshare_user(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(syscall(SYS_unshare, CLONE_NEWUSER) < 0 ? errno : 0);
    int st;
    waitpid(pid, &st, 0);
    printf("unshare_newuser %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 255);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "forkexec") == 0) {
        pid_t pid = fork();
        if (pid < 0)
            return perror("fork"), 1;
        if (pid == 0) {
            execl("/bin/echo", "echo", "forked", "and", "exec'd", (char *)NULL);
            _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    }
    if (argc > 2 && strcmp(argv[1], "loop") == 0) {
        long n = atol(argv[2]);
        double t0 = now();
        for (long i = 0; i < n; i++)
            syscall(SYS_getppid);
        double t1 = now();
        for (long i = 0; i < n; i++)
            syscall(SYS_personality, 0xffffffffUL);
        double t2 = now();
        printf("getppid %.1f ns\npersonality %.1f ns\n", (t1 - t0) / n, (t2 - t1) / n);
        return 0;
    }
    report("keyctl", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0));
    report("add_key", syscall(SYS_add_key, "tinyctr-no-such-type", "x", NULL, 0, -2));
    report("request_key", syscall(SYS_request_key, "tinyctr-no-such-type", "x", NULL, 0));
    report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0x8000 /* no such flag */));
    report("init_module", syscall(SYS_init_module, NULL, 0, ""));
    report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
    report("bpf", syscall(SYS_bpf, -1, NULL, 0));
    report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    unshare_user();
    report("mount", syscall(SYS_mount, NULL, NULL, NULL, 0, NULL));
    report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL) /* bad magic */);
    report("swapon", syscall(SYS_swapon, NULL, 0));
    i386_getpid();
    report("x32_getpid", syscall(39 | 0x40000000));
    report("clone3", syscall(SYS_clone3, NULL, 0) /* size 0: EINVAL were it allowed */);
    report("socket_vsock", syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0));
    report("socket_alg", syscall(SYS_socket, 38 /* AF_ALG */, SOCK_SEQPACKET, 0));
    long s = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    report("socket_unix", s);
    if (s >= 0)
        close((int)s);
    report("personality_query", syscall(SYS_personality, 0xffffffffUL));
    report("personality_no_aslr", syscall(SYS_personality, 0x0040000UL /* ADDR_NO_RANDOMIZE */));
    report("getppid", syscall(SYS_getppid));
    report("syscall_500", syscall(500));
    return 0;
}
