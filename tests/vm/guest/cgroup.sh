# cgroup.sh: cgroup limits (issue 4) on this guest's host layout. In v2, v1 and hybrid:
# `check`, every limit read back from the host in its v1 or v2 file while the container
# runs, an OOM kill (137 + message), a fork bomb held by --pids-limit, cpuset, bad
# values, a name in use, SIGKILL of tinyctr (the next run sweeps), 50 parallel runs,
# and no tinyctr-* directory left anywhere. v2 adds the no-internal-process rule: the
# self-move when tinyctr's cgroup holds only tinyctr, a clear error when it holds others.
# In bare (nothing mounted): no limit touches nothing, a limit is a clear 125.
# --cpus is read back but its effect (half a CPU) is measured on the real host only
# (tests/cgroup.rs): under TCG a guest's CPU time is too noisy to judge.
. /vm/lib.sh
T=$TINYCTR
CG=/sys/fs/cgroup

# Every tinyctr-* cgroup directory on the host, on one line.
leftovers() { find $CG -name 'tinyctr-*' -type d 2>/dev/null | tr '\n' ' '; }

# wait_for FILE TEXT: up to 10 s for FILE to contain TEXT.
wait_for() {
	n=0
	while [ $n -lt 100 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# --- bare: no /proc, no cgroups ---
if [ "$VM_LAYOUT" = bare ]; then
	check_status 0 "bare: a run without limits touches no cgroup" "$T" run /bin/true
	err=$("$T" run -m 32m /bin/true 2>&1)
	check_eq 125 "$?" "bare: -m without /proc is 125"
	check_match "tinyctr: read \"/proc/self/cgroup\": ENOENT*mount -t proc*" "$err" "bare: the error says to mount proc"
	check_status 1 "bare: check exits 1" "$T" check
	check_match "*cannot work here*" "$("$T" check)" "bare: check says why"
	exit 0
fi

# --- check ---
out=$("$T" check)
check_eq 0 "$?" "check exits 0"
check_match "*cgroups:    $VM_LAYOUT*" "$out" "check names the layout $VM_LAYOUT"
check_match "*cgroup test: created, limited and removed a cgroup*" "$out" "check creates and removes a cgroup"
check_eq "" "$(leftovers)" "check leaves nothing"

# --- every limit read back while the container runs ---
rm -f /tmp/go /tmp/rb.out
mkfifo /tmp/go
"$T" run --name rb -m 48m -c 512 --cpus 0.5 --cpuset-cpus 0 --pids-limit 30 \
	/bin/sh -c 'echo ready; read x </tmp/go' >/tmp/rb.out &
tpid=$!
if wait_for /tmp/rb.out ready; then
	case $VM_LAYOUT in
	v2)
		d=$CG/tinyctr-rb
		check_eq 50331648 "$(cat $d/memory.max)" "v2: memory.max"
		if [ -e $d/memory.swap.max ]; then
			check_eq 0 "$(cat $d/memory.swap.max)" "v2: memory.swap.max 0 (no swap beyond --memory)"
		else
			skip "v2: memory.swap.max (no swap accounting in this kernel)"
		fi
		check_eq 59 "$(cat $d/cpu.weight)" "v2: cpu.weight 59 for 512 shares"
		check_eq "50000 100000" "$(cat $d/cpu.max)" "v2: cpu.max"
		check_eq 0 "$(cat $d/cpuset.cpus)" "v2: cpuset.cpus"
		check_eq 30 "$(cat $d/pids.max)" "v2: pids.max"
		check_match "*memory*" "$(cat $CG/cgroup.subtree_control)" "v2: memory enabled in the root's subtree_control"
		check_match "[0-9]*" "$(cat $d/cgroup.procs)" "v2: the container is in its cgroup"
		;;
	v1 | hybrid)
		check_eq 50331648 "$(cat $CG/memory/tinyctr-rb/memory.limit_in_bytes)" "$VM_LAYOUT: memory.limit_in_bytes"
		if [ -e $CG/memory/tinyctr-rb/memory.memsw.limit_in_bytes ]; then
			check_eq 50331648 "$(cat $CG/memory/tinyctr-rb/memory.memsw.limit_in_bytes)" "$VM_LAYOUT: memsw = memory"
		else
			skip "$VM_LAYOUT: memory.memsw.limit_in_bytes (no swap accounting in this kernel)"
		fi
		check_eq 512 "$(cat $CG/cpu,cpuacct/tinyctr-rb/cpu.shares)" "$VM_LAYOUT: cpu.shares (co-mounted cpu,cpuacct)"
		check_eq 100000 "$(cat $CG/cpu,cpuacct/tinyctr-rb/cpu.cfs_period_us)" "$VM_LAYOUT: cpu.cfs_period_us"
		check_eq 50000 "$(cat $CG/cpu,cpuacct/tinyctr-rb/cpu.cfs_quota_us)" "$VM_LAYOUT: cpu.cfs_quota_us"
		check_eq 0 "$(cat $CG/cpuset/tinyctr-rb/cpuset.cpus)" "$VM_LAYOUT: cpuset.cpus"
		check_eq "$(cat $CG/cpuset/cpuset.mems)" "$(cat $CG/cpuset/tinyctr-rb/cpuset.mems)" "$VM_LAYOUT: cpuset.mems copied"
		check_eq 30 "$(cat $CG/pids/tinyctr-rb/pids.max)" "$VM_LAYOUT: pids.max"
		p=$(cat $CG/pids/tinyctr-rb/cgroup.procs)
		check_match "[0-9]*" "$p" "$VM_LAYOUT: the container is in its pids cgroup"
		check_eq "$p" "$(cat $CG/memory/tinyctr-rb/cgroup.procs)" "$VM_LAYOUT: and in its memory cgroup"
		if [ "$VM_LAYOUT" = hybrid ]; then
			check_eq no "$([ -e $CG/unified/tinyctr-rb ] && echo yes || echo no)" "hybrid: no cgroup on cgroup2, which drives none of these controllers"
			check_eq "" "$(cat $CG/unified/cgroup.subtree_control)" "hybrid: nothing enabled on cgroup2"
		fi
		;;
	esac
else
	fail "the read-back container did not start: $(cat /tmp/rb.out)"
fi
echo go >/tmp/go
wait $tpid
check_eq 0 "$?" "the read-back container exits 0"
check_eq "" "$(leftovers)" "no cgroup left after success"

# --- the container sees its own cgroup as / ---
check_eq "" "$("$T" run --pids-limit 5 cat /proc/self/cgroup | grep -v ':/$')" "cgroup namespace rooted at the container's cgroup"

# --- OOM: 137 and a message ---
err=$("$T" run -m 32m dd if=/dev/zero of=/dev/null bs=80M count=1 2>&1)
check_eq 137 "$?" "a memory hog under -m 32m ends with 137"
check_match "*tinyctr: the container was killed: out of memory (limit 32 MiB)*" "$err" "the OOM kill is reported"
check_status 0 "within the limit no OOM" "$T" run -m 64m dd if=/dev/zero of=/dev/null bs=8M count=1

# --- a fork bomb held by --pids-limit, and the run still ends ---
# shellcheck disable=SC2016
out=$("$T" run --pids-limit 10 /bin/sh -c '(i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null; set -- /proc/[0-9]*; echo $#')
check_eq 0 "$?" "the fork-bomb run ends with 0"
if [ "${out:-99}" -le 10 ] 2>/dev/null; then pass "at most 10 processes under --pids-limit 10 ($out)"; else fail "$out processes under --pids-limit 10"; fi

# --- cpuset ---
check_eq 0 "$("$T" run --cpuset-cpus 0 grep Cpus_allowed_list /proc/self/status | awk '{ print $2 }')" "--cpuset-cpus 0 in Cpus_allowed_list"
err=$("$T" run --cpuset-cpus 7 /bin/true 2>&1)
check_eq 125 "$?" "a CPU this guest lacks: 125"
check_match "*cpuset.cpus\": E*the CPUs available here are 0*" "$err" "the error names the CPUs available"

# --- bad values ---
err=$("$T" run -m 64x /bin/true 2>&1)
check_eq 125 "$?" "-m 64x: 125"
check_eq "tinyctr: -m: '64x' is not a size (try 64m)" "$err" "-m 64x: the message"
check_status 125 "--cpus 0: 125" "$T" run --cpus 0 /bin/true
check_status 125 "--pids-limit 0: 125" "$T" run --pids-limit 0 /bin/true
check_eq "" "$(leftovers)" "no cgroup left after failures"

# --- a name in use ---
rm -f /tmp/go /tmp/dup.out
mkfifo /tmp/go
"$T" run --name dup --pids-limit 5 /bin/sh -c 'echo ready; read x </tmp/go' >/tmp/dup.out &
tpid=$!
if wait_for /tmp/dup.out ready; then
	err=$("$T" run --name dup --pids-limit 5 /bin/true 2>&1)
	check_eq 125 "$?" "a second --name dup: 125"
	check_match "*--name: 'dup' is in use by a running container*" "$err" "the name in use is named"
	# other limits would put its cgroups in other hierarchies: refused all the same
	"$T" run --name dup -m 32m /bin/true 2>/dev/null
	check_eq 125 "$?" "a second --name dup with other limits: 125"
else
	fail "the --name dup container did not start"
fi
echo go >/tmp/go
wait $tpid
check_eq "" "$(leftovers)" "no cgroup left after the name test"

# --- SIGKILL of tinyctr: the next run removes what it left ---
"$T" run --name sk -m 32m --pids-limit 5 /bin/sleep 30 &
tpid=$!
n=0
while [ $n -lt 100 ] && [ -z "$(leftovers)" ]; do sleep 0.1; n=$((n + 1)); done
sleep 0.3
kill -KILL $tpid
wait $tpid 2>/dev/null
sleep 0.3
check_match "*tinyctr-sk*" "$(leftovers)" "a SIGKILLed run leaves its cgroup"
check_status 0 "the next run succeeds" "$T" run -m 32m --pids-limit 5 /bin/true
check_eq "" "$(leftovers)" "and removed the dead run's cgroup"

# --- killed runs leave cgroups in hierarchies the next run does not use ---
# 20 runs with -m and --pids-limit SIGKILLed, then 3 with --pids-limit alone, then one
# run with -m alone: it removes them all, the pids ones included (on v1 a hierarchy of
# its own, which the last run never makes a cgroup in).
i=0
while [ $i -lt 23 ]; do
	if [ $i -lt 20 ]; then
		"$T" run -m 32m --pids-limit 32 /bin/sleep 30 &
	else
		"$T" run --pids-limit 32 /bin/sleep 30 &
	fi
	tpid=$!
	sleep 0.3
	kill -KILL $tpid
	wait $tpid 2>/dev/null
	i=$((i + 1))
done
sleep 0.3
check_match "*tinyctr-*" "$(leftovers)" "23 SIGKILLed runs leave their cgroups"
check_status 0 "a run with -m alone succeeds" "$T" run -m 16m /bin/true
check_eq "" "$(leftovers)" "and removed every dead run's cgroup, in every hierarchy"

# --- 50 parallel runs ---
i=0
pids=
while [ $i -lt 50 ]; do
	"$T" run -m 32m --pids-limit 10 /bin/true &
	pids="$pids $!"
	i=$((i + 1))
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
check_eq 0 "$bad" "50 parallel runs all exit 0"
check_eq "" "$(leftovers)" "no cgroup left after 50 parallel runs"

# --- v2: the no-internal-process rule ---
if [ "$VM_LAYOUT" = v2 ]; then
	# tinyctr alone in a non-root cgroup: it moves itself into a leaf below it.
	mkdir -p $CG/t1
	# shellcheck disable=SC2016
	out=$(sh -c 'echo $$ >'$CG'/t1/cgroup.procs && exec "$0" run -m 32m --pids-limit 5 /bin/true' "$T" 2>&1)
	check_eq 0 "$?" "v2: tinyctr alone in a busy cgroup runs (self-move): $out"
	check_match "*memory*" "$(cat $CG/t1/cgroup.subtree_control)" "v2: memory enabled in tinyctr's own cgroup"
	check_eq "" "$(leftovers)" "v2: the self-move leaf is gone too"
	rmdir $CG/t1
	# Other processes in tinyctr's cgroup: a clear error, nothing left.
	mkdir -p $CG/t2
	# shellcheck disable=SC2016
	err=$(sh -c 'echo $$ >'$CG'/t2/cgroup.procs && { sleep 30 </dev/null >/dev/null 2>&1 & } && exec "$0" run -m 32m /bin/true' "$T" 2>&1)
	check_eq 125 "$?" "v2: other processes in tinyctr's cgroup: 125"
	check_match "*processes other than tinyctr are in this cgroup*" "$err" "v2: the error explains the rule"
	check_eq "" "$(leftovers)" "v2: nothing left after the refusal"
	echo 1 >$CG/t2/cgroup.kill
	n=0
	while ! rmdir $CG/t2 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
fi
exit 0
