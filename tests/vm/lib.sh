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
