# init.sh: `tinyctr run --init` (issue 2) on this guest's host layout: tinyctr's own
# PID 1 forwards SIGTERM and SIGINT to the command (a bare PID-1 sleep would ignore
# them), reaps orphans, and exits with the command's status or 128+signal.
. /vm/lib.sh
T=$TINYCTR
before=$(host_mounts)

check_status 0 "--init true: 0" "$T" run --init /bin/true
check_status 5 "--init passes the command's status" "$T" run --init /bin/sh -c 'exit 5'
# shellcheck disable=SC2016
check_status 143 "--init: the command killed by SIGTERM gives 143" "$T" run --init /bin/sh -c 'kill -TERM $$'
# shellcheck disable=SC2016
check_eq 2 "$("$T" run --init /bin/sh -c 'echo $$')" "--init: the command is PID 2"

# stop SIG WANT: `tinyctr run --init sleep 100` stops on SIG at once, with status WANT.
stop() {
	$T run --init /bin/sleep 100 &
	tpid=$!
	# Signal only once sleep runs (tinyctr -> its init -> sleep): earlier, a signal
	# could end tinyctr itself and pass for no reason.
	if ipid=$(child_of $tpid) && child_of "$ipid" sleep >/dev/null; then
		t0=$(uptime_cs)
		kill -"$1" $tpid
		wait $tpid
		st=$?
		took=$(($(uptime_cs) - t0))
		check_eq "$2" "$st" "--init sleep 100: SIG$1 gives $2"
		# Unloaded it takes ~30 ms here. The bound is 3 s, not issue 2's 1 s (the host tests
		# hold that one): a TCG guest on a busy host runs slow, and an init that does not
		# forward would take 100 s.
		if [ "$took" -le 300 ]; then pass "SIG$1 stopped it in ${took}0 ms"; else fail "SIG$1 took ${took}0 ms"; fi
	else
		fail "--init sleep never showed up under tinyctr ($tpid)"
		kill -KILL $tpid
		wait $tpid
	fi
}
if proc_open; then
	stop TERM 143
	stop INT 130
	proc_close
fi

# An orphan is reparented to PID 1; tinyctr's init must reap it when it exits.
zombies=$("$T" run --init /bin/sh -c '(/bin/sleep 0.1 &); /bin/sleep 0.8; cat /proc/[0-9]*/stat' | awk '$3 == "Z"' | wc -l)
check_eq 0 "$zombies" "--init reaps orphaned zombies"

check_eq "$before" "$(host_mounts)" "the host's mount table is unchanged"
