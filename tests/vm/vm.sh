#!/bin/sh
# vm.sh: boot tinyctr in a minimal VM (a Debian kernel + an initramfs of busybox-static,
# tinyctr and the guest test scripts) and bring the guest script's result back.
#
#   vm.sh prepare               build/fetch what is missing: tinyctr, vmlinux, initramfs, KVM
#                               verdict; prints the initramfs image's path
#   vm.sh boot LAYOUT SCRIPT    boot once; prints the console, exits with the script's status
#   vm.sh run LAYOUT SCRIPT     prepare, then boot
#
# LAYOUT: v2 | v1 | hybrid | bare (see init); SCRIPT: NAME of tests/vm/guest/NAME.sh.
# Exit status of boot/run: the guest script's status; 124 when the guest hung and was
# killed; 125 when the guest ended without a result line (kernel panic, /init died) or
# the harness itself failed.
#
# Environment:
#   TINYCTR_BIN          tinyctr binary to test (default: run `cargo build --release` and
#                        take the binary it names)
#   TINYCTR_OCI_BIN      the build with the OCI runtime, for the oci guest (default: cargo
#                        build --release --features oci --target-dir target/oci)
#   TINYCTR_VM_DIR       cache directory (default: target/vm in the repository)
#   TINYCTR_VM_ACCEL     kvm | tcg: skip the probe (default: probe once, cache in DIR/accel)
#   TINYCTR_VM_TIMEOUT   seconds before a guest counts as hung (default 60)
#   TINYCTR_VM_APPEND    extra kernel command line
#   TINYCTR_VM_INITRAMFS image for boot (default: the latest prepared, DIR/initramfs.cpio)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${TINYCTR_VM_DIR:-$repo/target/vm}
qemu="qemu-system-x86_64"
timeout_s=${TINYCTR_VM_TIMEOUT:-60}

say() { echo "vm.sh: $*" >&2; }
now() { date +%s.%N; }
since() { echo "$1 $(now)" | awk '{ printf "%.2f", $2 - $1 }'; }

tinyctr_bin() {
	if [ -n "${TINYCTR_BIN:-}" ]; then
		[ -x "$TINYCTR_BIN" ] || { say "TINYCTR_BIN=$TINYCTR_BIN is not an executable file"; exit 125; }
		echo "$TINYCTR_BIN"
		return
	fi
	# The ordinary release build (a no-op when up to date), so the VM runs the very binary
	# `cargo build --release` gives. Safe from inside `cargo test`: cargo releases its
	# build lock before it runs test binaries. Cargo names the file it built.
	exe=$(cd "$repo" && "${CARGO:-cargo}" build --release --bin tinyctr --quiet \
		--message-format=json-render-diagnostics | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
	[ -n "$exe" ] && [ -x "$exe" ] || { say "cargo build --release failed"; exit 125; }
	echo "$exe"
}

# The build with the OCI runtime (`--features oci`), for the `oci` guest: TINYCTR_OCI_BIN,
# or built into target/oci (its own target directory: the two builds never overwrite
# each other's binary).
tinyctr_oci_bin() {
	if [ -n "${TINYCTR_OCI_BIN:-}" ]; then
		[ -x "$TINYCTR_OCI_BIN" ] || { say "TINYCTR_OCI_BIN=$TINYCTR_OCI_BIN is not an executable file"; exit 125; }
		echo "$TINYCTR_OCI_BIN"
		return
	fi
	exe=$(cd "$repo" && "${CARGO:-cargo}" build --release --features oci --target-dir "$repo/target/oci" \
		--bin tinyctr --quiet --message-format=json-render-diagnostics |
		sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
	[ -n "$exe" ] && [ -x "$exe" ] || { say "cargo build --release --features oci failed"; exit 125; }
	echo "$exe"
}

qemu_boot() { # ACCEL LAYOUT SCRIPT
	accel=$1 layout=$2 script=$3
	set -- -nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-m 256M -smp 1 -kernel "$dir/vmlinux" -initrd "$img"
	if [ "$accel" = kvm ]; then set -- "$@" -enable-kvm -cpu host; else set -- "$@" -accel tcg; fi
	# loglevel=1: only KERN_EMERG reaches the console, so a panic shows but kernel chatter
	# (an OOM-kill report) does not mix into the test's output. panic=-1 + -no-reboot:
	# a panicking guest ends qemu at once instead of hanging until the timeout.
	extra=
	[ "$layout" = v2 ] && extra=cgroup_no_v1=all
	timeout -k 5 "$timeout_s" "$qemu" "$@" -append \
		"console=ttyS0 loglevel=1 panic=-1 $extra tt_layout=$layout tt_script=$script ${TINYCTR_VM_APPEND:-}" </dev/null
}

probe_accel() {
	if [ -n "${TINYCTR_VM_ACCEL:-}" ]; then
		echo "$TINYCTR_VM_ACCEL" >"$dir/accel"
		return
	fi
	[ -s "$dir/accel" ] && return
	verdict=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		# A short real boot: on nested hosts /dev/kvm exists yet qemu aborts with -cpu host.
		if timeout_s=30 qemu_boot kvm bare hello 2>&1 | tr -d '\r' | grep -q '^TINYCTR-VM-RESULT: 0$'; then
			verdict=kvm
		fi
	fi
	say "accelerator: $verdict (cached in $dir/accel; delete it to probe again)"
	echo "$verdict" >"$dir/accel"
}

prepare() {
	command -v "$qemu" >/dev/null || { say "$qemu not found (apt-get install qemu-system-x86)"; exit 125; }
	mkdir -p "$dir"
	bin=$(tinyctr_bin)
	# One preparer at a time (parallel test processes share the cache).
	exec 9>"$dir/.lock"
	flock 9
	"$here/kernel.sh" "$dir" || exit 125
	TINYCTR_OCI_BIN=$(tinyctr_oci_bin) || exit 125
	export TINYCTR_OCI_BIN
	img=$("$here/initramfs.sh" "$dir" "$bin") || exit 125
	probe_accel
	flock -u 9
	echo "$img"
}

boot() { # LAYOUT SCRIPT
	layout=$1 script=$2
	case $layout in v2 | v1 | hybrid | bare) ;; *) say "unknown layout '$layout'"; exit 125 ;; esac
	[ -f "$here/guest/$script.sh" ] || { say "no guest script tests/vm/guest/$script.sh"; exit 125; }
	img=${TINYCTR_VM_INITRAMFS:-$dir/initramfs.cpio}
	[ -s "$img" ] && [ -s "$dir/accel" ] || { say "not prepared: run vm.sh prepare"; exit 125; }
	accel=$(cat "$dir/accel")
	mkdir -p "$dir/logs"
	log=$dir/logs/$layout-$script.log
	st=$dir/logs/$layout-$script.qemu-status
	t0=$(now)
	{
		set +e
		qemu_boot "$accel" "$layout" "$script" 2>&1
		echo $? >"$st"
	} | tr -d '\r' | tee "$log"
	took=$(since "$t0")
	qst=$(cat "$st")
	result=$(sed -n 's/^TINYCTR-VM-RESULT: //p' "$log" | tail -n 1)
	echo "$(date +%FT%T) $layout $script $accel result=${result:-none} qemu=$qst ${took}s" >>"$dir/timings.log"
	case $result in
	'')
		if [ "$qst" = 124 ] || [ "$qst" = 137 ]; then
			say "$layout/$script: guest hung, killed after ${timeout_s}s"
			exit 124
		fi
		if grep -q 'Kernel panic' "$log"; then
			say "$layout/$script: kernel panic after ${took}s (console above)"
		else
			say "$layout/$script: guest ended without a result line after ${took}s (qemu status $qst)"
		fi
		exit 125
		;;
	*[!0-9]*)
		say "$layout/$script: guest setup failed ($result) after ${took}s"
		exit 125
		;;
	esac
	say "$layout/$script: status $result, boot to result ${took}s ($accel)"
	exit "$result"
}

case ${1:-} in
prepare) prepare ;;
boot) [ $# -eq 3 ] || { say "usage: vm.sh boot LAYOUT SCRIPT"; exit 125; }; boot "$2" "$3" ;;
run)
	[ $# -eq 3 ] || { say "usage: vm.sh run LAYOUT SCRIPT"; exit 125; }
	TINYCTR_VM_INITRAMFS=$(prepare) || exit 125
	boot "$2" "$3"
	;;
*) say "usage: vm.sh prepare | boot LAYOUT SCRIPT | run LAYOUT SCRIPT"; exit 125 ;;
esac
