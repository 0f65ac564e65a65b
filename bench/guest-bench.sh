# guest-bench.sh: the benchmark inside a test VM (busybox sh; started by the /init of
# tests/vm as /vm/guest/bench.sh, see bench/guest.sh). Times start-to-exit of `true`
# with bench/tick, back to back and spaced/shuffled, and prints one line per command:
#   BENCH MODE LABEL median=.. min=.. max=.. n=..
# The guest is emulated (TCG): only ratios between lines mean anything.
T=$TINYCTR F=/bench/floor TICK=/bench/tick
RUNS=${BENCH_RUNS:-30} SPACED=${BENCH_SPACED:-12}

if [ "$VM_LAYOUT" = v2 ]; then
	# children of the root get the memory controller (the root itself is exempt from
	# the no-internal-process rule, so this shell may stay there)
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control || exit 1
	labels="tinyctr tinyctr-m64 floor floor-m64-migrate floor-m64-into"
	set -- "$T" run /bin/true ::: "$T" run -m 64m /bin/true ::: "$F" /bin/true \
		::: "$F" -m 67108864 /bin/true ::: "$F" -M 67108864 /bin/true
else
	labels="tinyctr tinyctr-m64 floor floor-m64-migrate"
	set -- "$T" run /bin/true ::: "$T" run -m 64m /bin/true ::: "$F" /bin/true \
		::: "$F" -m 67108864 /bin/true
fi
status=0
for mode in b2b spaced; do
	if [ $mode = b2b ]; then out=$("$TICK" -n "$RUNS" -w 3 "$@") || status=1
	else out=$("$TICK" -n "$SPACED" -s 100-300 "$@") || status=1; fi
	# (the loop runs in a subshell: its `set --` leaves the command list alone)
	echo "$out" | while read -r _ k rest; do
		# shellcheck disable=SC2086 # split the label list on purpose
		set -- $labels
		shift "$k"
		echo "BENCH $mode $1 $rest"
	done
done
# v2: cgroups are directories right under /sys/fs/cgroup; v1: one level further down
# (the first level holds the hierarchies' mount points)
depth=2
[ "$VM_LAYOUT" = v2 ] && depth=1
leftover=$(find /sys/fs/cgroup -mindepth $depth -type d 2>/dev/null | head -5)
[ -z "$leftover" ] || { echo "BENCH leftover cgroups: $leftover"; status=1; }
exit $status
