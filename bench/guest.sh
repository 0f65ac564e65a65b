#!/bin/bash
# bench/guest.sh [LAYOUT...]: the start-to-exit benchmark inside the VM test bed of
# tests/vm (default layout: v2), to show what CLONE_INTO_CGROUP saves against a
# migration (a write to cgroup.procs): on v2, `floor -M` (clone3 into the cgroup)
# against `floor -m` (clone, then migrate), and tinyctr run -m 64m (which uses
# CLONE_INTO_CGROUP on v2) against both. The guest is emulated (TCG): only ratios.
#
# Reuses tests/vm as is: `vm.sh prepare` (tinyctr, Debian kernel, initramfs, accel
# verdict), its /init (builds the layout, runs /vm/guest/NAME.sh, prints the result
# line). We add bench/guest-bench.sh as /vm/guest/bench.sh plus the static floor and
# tick in a second cpio archive appended to the initramfs (the kernel unpacks both),
# and boot it with the same qemu command line as vm.sh's qemu_boot.
# Environment: TINYCTR_VM_DIR as for vm.sh, TINYCTR_BENCH_DIR (default /tmp/tinyctr-bench),
# BENCH_RUNS / BENCH_SPACED (runs per command back-to-back / spaced; 30 / 12).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
vmdir=${TINYCTR_VM_DIR:-$repo/target/vm}
work=${TINYCTR_BENCH_DIR:-/tmp/tinyctr-bench}/guest
layouts=("${@:-v2}")

# prepare prints the initramfs image it made (named by content) as its last line
img=$("$repo/tests/vm/vm.sh" prepare | tail -n 1)
[ -s "$img" ] || { echo "bench/guest.sh: tests/vm/vm.sh prepare gave no initramfs" >&2; exit 2; }
mkdir -p "$work/root/bench" "$work/root/vm/guest"
musl-gcc -static -Os -s -o "$work/root/bench/floor" "$here/floor.c"
musl-gcc -static -Os -s -o "$work/root/bench/tick" "$here/tick.c"
cp "$here/guest-bench.sh" "$work/root/vm/guest/bench.sh"
(cd "$work/root" && find . | LC_ALL=C sort | "$vmdir/busybox" cpio -o -H newc -R 0:0 2>/dev/null) >"$work/overlay.cpio"
cat "$img" "$work/overlay.cpio" >"$work/initramfs.cpio"

accel=$(cat "$vmdir/accel")
status=0
for layout in "${layouts[@]}"; do
	set -- -nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-m 256M -smp 1 -kernel "$vmdir/vmlinux" -initrd "$work/initramfs.cpio"
	if [ "$accel" = kvm ]; then set -- "$@" -enable-kvm -cpu host; else set -- "$@" -accel tcg; fi
	extra=
	[ "$layout" = v2 ] && extra=cgroup_no_v1=all
	log=$work/$layout.log
	timeout -k 5 "${BENCH_VM_TIMEOUT:-600}" qemu-system-x86_64 "$@" -append \
		"console=ttyS0 loglevel=1 panic=-1 $extra tt_layout=$layout tt_script=bench BENCH_RUNS=${BENCH_RUNS:-30} BENCH_SPACED=${BENCH_SPACED:-12}" \
		</dev/null 2>&1 | tr -d '\r' >"$log" || true
	result=$(sed -n 's/^TINYCTR-VM-RESULT: //p' "$log" | tail -n 1)
	echo "### Guest ($layout layout, $accel, 1 vCPU): start-to-exit of true, ms"
	echo
	echo "| command | mode | median | min | max | × floor -m (migration) |"
	echo "|---|---|---:|---:|---:|---:|"
	awk '$1 == "BENCH" && $4 ~ /^median=/ {
		for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if ($3 == "floor-m64-migrate") ref[$2] = v["median"]
		line[++n] = $2 " " $3 " " v["median"] " " v["min"] " " v["max"] }
	END { for (i = 1; i <= n; i++) { split(line[i], f, " ");
		printf "| %s | %s | %s | %s | %s | %.2f |\n", f[2], f[1], f[3], f[4], f[5], (ref[f[1]] ? f[3] / ref[f[1]] : 0) } }' "$log"
	echo
	if [ "$result" != 0 ]; then
		echo "bench/guest.sh: $layout guest failed (result '${result:-none}'); console in $log" >&2
		grep -E 'FAIL|BENCH leftover|tinyctr:' "$log" >&2 || true
		status=1
	fi
done
exit $status
