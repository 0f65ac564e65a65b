# escape.sh: runc's escape classes (issue 15) where tinyctr's binary sits on the
# initramfs, a filesystem anyone with root can write: the CVE-2019-5736 racer against
# run and --init (the binary's bytes the same afterwards), and a leaked host directory
# descriptor as the working directory (CVE-2024-21626). /vm/rootfs comes from
# tests/vm/hooks/escape.sh.
. /vm/lib.sh
T=$TINYCTR
R=/vm/rootfs
sum() { md5sum "$T" | cut -d' ' -f1; }
before=$(sum)

check_status 125 "a #!/proc/self/exe command runs tinyctr's binary as PID 1, alone" "$T" run -r "$R" /evil
check_status 125 "the same as --init's command" "$T" run --init -r "$R" /evil

# The racer: 2000 attempts to open PID 1's exe (--init's, tinyctr's binary for the whole
# run) for writing; confined it cannot even open it (not dumpable, no CAP_SYS_PTRACE),
# privileged it meets ETXTBSY (the binary is running).
race='n=0; w=0; while [ $n -lt 2000 ]; do { echo pwned >/proc/1/exe; } 2>/dev/null && w=$((w+1)); n=$((n+1)); done; echo "attempts=$n wrote=$w"'
check_eq "attempts=2000 wrote=0" "$("$T" run --init -r "$R" /bin/sh -c "$race" 2>&1)" "--init: the racer never writes"
check_eq "attempts=2000 wrote=0" "$("$T" run --init --privileged -r "$R" /bin/sh -c "$race" 2>&1)" \
	"--init --privileged: the racer never writes"
check_eq "$before" "$(sum)" "tinyctr's binary is unchanged"

# A host directory open as descriptor 7 in tinyctr's caller.
check_status 125 "a leaked descriptor cannot be the working directory" \
	sh -c 'exec 7</; exec "$0" run -r "$1" -w /proc/self/fd/7 /bin/ls' "$T" "$R"
check_eq "0 1 2 3" "$(sh -c 'exec 7</; exec "$0" run -r "$1" /bin/ls /proc/self/fd' "$T" "$R" | tr '\n' ' ' | sed 's/ $//')" \
	"only 0, 1 and 2 reach the container (3 is ls's own)"
