# lib.sh: assert helpers for guest test scripts (busybox sh). Source it first:
#     . /vm/lib.sh
# Every check prints one `ok:` or `FAIL:` line and the script goes on, so one boot
# reports every broken behaviour; on exit the script's status is 1 if any check failed
# (or the status of an explicit `exit N` with N != 0).
# $TINYCTR is the binary under test (call it by full path: busybox's shell runs its own
# applets first), $VM_LAYOUT the host layout (v2, v1, hybrid, bare).

vm_checks=0
vm_fails=0

vm_finish() {
	st=$?
	echo "lib.sh: $vm_checks checks, $vm_fails failed"
	[ "$vm_fails" -eq 0 ] || exit 1
	exit "$st"
}
trap vm_finish EXIT

pass() { vm_checks=$((vm_checks + 1)); echo "ok: $*"; }
fail() { vm_checks=$((vm_checks + 1)); vm_fails=$((vm_fails + 1)); echo "FAIL: $*"; }

# check DESC CMD [ARG...]: CMD must exit 0.
check() {
	d=$1
	shift
	if out=$("$@" 2>&1); then pass "$d"; else fail "$d (status $?): $out"; fi
}

# check_status WANT DESC CMD [ARG...]: CMD must exit with WANT; its output is shown on failure.
check_status() {
	want=$1 d=$2
	shift 2
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" = "$want" ]; then pass "$d"; else fail "$d: status $got, want $want; output: $out"; fi
}

# check_eq WANT GOT DESC
check_eq() {
	if [ "$2" = "$1" ]; then pass "$3"; else fail "$3: got '$2', want '$1'"; fi
}

# check_match GLOB TEXT DESC: TEXT must match the shell pattern GLOB.
check_match() {
	# shellcheck disable=SC2254
	case $2 in
	$1) pass "$3" ;;
	*) fail "$3: '$2' does not match '$1'" ;;
	esac
}

# check_nomatch GLOB TEXT DESC: TEXT must not match GLOB.
check_nomatch() {
	# shellcheck disable=SC2254
	case $2 in
	$1) fail "$3: '$2' matches '$1'" ;;
	*) pass "$3" ;;
	esac
}

# skip DESC: say plainly what was not checked and why.
skip() { echo "skip: $*"; }

# --- The guest host's own view, also in `bare` (which has no /proc) ---

# proc_open: set $PROC to a procfs of the guest host: /proc where the layout mounts it;
# in bare, a temporary mount on /tmp/vmproc (proc_close removes it, so a bare guest goes
# back to having nothing mounted).
proc_open() {
	if [ -r /proc/self/stat ]; then
		PROC=/proc
	else
		PROC=/tmp/vmproc
		mkdir -p "$PROC"
		mount -t proc proc "$PROC" || { fail "mount a temporary proc on $PROC"; return 1; }
	fi
}
proc_close() {
	[ "${PROC:-}" = /tmp/vmproc ] && umount /tmp/vmproc
	PROC=
}

# host_mounts: the guest host's mount table, one "MOUNTPOINT FSTYPE" line per mount
# (in bare it includes the temporary /tmp/vmproc it needs to look).
host_mounts() {
	proc_open || return 1
	# mountinfo: field 5 is the mount point; the fs type follows the "-" separator.
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { print $5, $(i + 1); break } }' "$PROC/self/mountinfo"
	proc_close
}

# child_of PPID [COMM]: print the host pid of a child of PPID (named COMM if given),
# waiting up to 10 s for it to appear. Needs $PROC (proc_open).
child_of() {
	n=0
	while [ $n -lt 100 ]; do
		for s in "$PROC"/[0-9]*/stat; do
			# pid (comm) state ppid ...; our commands have no spaces in their names
			read -r c_pid c_comm _ c_ppid _ <"$s" 2>/dev/null || continue
			[ "$c_ppid" = "$1" ] || continue
			[ -z "${2:-}" ] || [ "$c_comm" = "($2)" ] || continue
			echo "$c_pid"
			return 0
		done
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# uptime_cs: the guest's uptime in centiseconds (for "within a second" checks). Needs $PROC.
uptime_cs() {
	read -r up _ <"$PROC/uptime"
	echo "${up%.*}${up#*.}" | sed 's/^0*//;s/^$/0/'
}
