#!/bin/sh
# Runs every fuzz target for its budget and prints one summary line per target.
#   fuzz/run.sh [RUNS] [JOBS] [TARGET...]   (defaults: 10000000 runs, 1 at a time, all)
# New inputs go to fuzz/work/<target> (not committed); fuzz/corpus/<target> holds the
# committed seeds and is only read. Crashes land in fuzz/artifacts/<target>/.
# Needs: rustup nightly, `cargo install cargo-fuzz`. Built for glibc (--target): the
# repository's default target is musl, and the sanitizers need glibc.
set -eu
cd "$(dirname "$0")"
RUNS=${1:-10000000}
JOBS=${2:-1}
[ $# -ge 2 ] && shift 2 || shift $#
TARGETS=${*:-"argv size cpulist mountinfo cgroup pathjoin layout ocijson"}
TRIPLE=x86_64-unknown-linux-gnu
mkdir -p work/logs
cargo +nightly fuzz build --target $TRIPLE >/dev/null
one() {
    t=$1
    mkdir -p work/$t
    start=$(date +%s)
    if cargo +nightly fuzz run "$t" --target $TRIPLE "work/$t" "corpus/$t" -- \
        -runs="$RUNS" -print_final_stats=1 >"work/logs/$t.log" 2>&1; then
        verdict=ok
    else
        verdict=CRASH
    fi
    secs=$(( $(date +%s) - start ))
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "work/logs/$t.log" | tail -1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "work/logs/$t.log" | tail -1)
    echo "$t: $verdict, ${execs:-?} executions in ${secs}s; ${done_line#*DONE   }"
}
running=0
for t in $TARGETS; do
    one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait
        running=0
    fi
done
wait
