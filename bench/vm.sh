#!/usr/bin/env bash
# VM servers side by side (called by bench/run.sh, or alone):
#   boot ms     from `vserver start` (or the hand-started QEMU's spawn) to the
#               agent's "vserver-agent: started" line on the console: the
#               guest's userspace is running (median of BENCH_VM_N)
#   VMM RSS     VmRSS of QEMU once the guest runs
# for: our shim (`vserver start` of a --vm server: jailed QEMU, initramfs
# built each start), the same QEMU command line started by hand (read from
# the shim's QEMU, no jail, same initramfs), and a container server of the
# same image and command (start to its first output line; its RSS is its
# monitor's plus its init's). Timings are information, never asserted.
# Environment: BUILD=build, BENCH_VM_N=3.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${BENCH_VM_N:-3}
V=$PWD/$BUILD/vserver
command -v qemu-system-x86_64 >/dev/null || { echo "vm bench: skipped (no qemu-system-x86_64)"; exit 0; }
ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || { echo "vm bench: skipped (no cloud kernel)"; exit 0; }

export VSERVER_ROOT
VSERVER_ROOT=$(mktemp -d /tmp/vsbench-vm.XXXXXX)
# everything in a private network namespace: the servers have no network
unshare -n bash -s "$V" "$N" "$VSERVER_ROOT" <<'INNER'
set -u
V=$1 N=$2 R=$3
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
wait_line() {
	local i
	for ((i = 0; i < 2400; i++)); do
		grep -q "$2" "$1" 2>/dev/null && { now_ms; return 0; }
		sleep 0.05
	done
	return 1
}
cmd='echo bench-ready; while :; do sleep 3600; done'
$V create vmb --vm --net none -- sh -c "$cmd" >/dev/null 2>&1 || { echo "vm bench: create failed"; exit 0; }
$V create ctb --net none -- sh -c "$cmd" >/dev/null 2>&1
log=$R/lib/servers/vmb/console.log
: >"$R/shim.ms"; : >"$R/shim.rss"; : >"$R/hand.ms"; : >"$R/hand.rss"; : >"$R/ct.ms"; : >"$R/ct.rss"
for ((i = 0; i < N; i++)); do
	: >"$log"
	t0=$(now_ms)
	$V start vmb >/dev/null 2>&1 || { echo "vm bench: start failed"; break; }
	t1=$(wait_line "$log" "vserver-agent: started") || { echo "vm bench: no boot"; break; }
	echo $((t1 - t0)) >>"$R/shim.ms"
	sleep 1
	pid=$($V info --format json vmb | jq .pid)
	rss_kib "$pid" >>"$R/shim.rss"
	# the same command line, by hand: console to a file of ours, no jail (the
	# shim's console is its monitor's pipe: QEMU's stdio, or fd 101)
	tr '\0' '\n' <"/proc/$pid/cmdline" >"$R/argv"
	cp "$R/lib/servers/vmb/initrd.cpio" "$R/hand.cpio"
	sed -i -e "s|^stdio,id=con0.*|file,id=con0,path=$R/hand.log,append=on|" \
		-e "s|^file,id=con0,path=[^,]*|file,id=con0,path=$R/hand.log|" \
		-e "s|^$R/lib/servers/vmb/initrd.cpio\$|$R/hand.cpio|; s|vm/vmb\.|vm/hand.|" "$R/argv"
	$V stop --timeout 10 vmb >/dev/null 2>&1
	: >"$R/hand.log"
	mapfile -t argv <"$R/argv"
	t0=$(now_ms)
	"${argv[@]}" </dev/null >/dev/null 2>&1 &
	hp=$!
	t1=$(wait_line "$R/hand.log" "vserver-agent: started") && echo $((t1 - t0)) >>"$R/hand.ms"
	sleep 1
	rss_kib "$hp" >>"$R/hand.rss"
	kill -9 "$hp"; wait "$hp" 2>/dev/null
	# the container server
	: >"$R/lib/servers/ctb/console.log"
	t0=$(now_ms)
	$V start ctb >/dev/null 2>&1
	t1=$(wait_line "$R/lib/servers/ctb/console.log" "bench-ready") && echo $((t1 - t0)) >>"$R/ct.ms"
	j=$($V info --format json ctb)
	echo $(( $(rss_kib "$(echo "$j" | jq .monitor)") + $(rss_kib "$(echo "$j" | jq .pid)") )) >>"$R/ct.rss"
	$V stop --timeout 2 ctb >/dev/null 2>&1
done
accel=$(cat "$R/lib/servers/vmb/vm.accel" 2>/dev/null)
$V destroy --force vmb >/dev/null 2>&1
$V destroy --force ctb >/dev/null 2>&1
s=$(median <"$R/shim.ms") h=$(median <"$R/hand.ms") c=$(median <"$R/ct.ms")
sr=$(median <"$R/shim.rss") hr=$(median <"$R/hand.rss") cr=$(median <"$R/ct.rss")
echo
echo "VM servers (accelerator: ${accel:-?}; median of $N; boot = start to the guest's userspace)"
printf '| %-34s | %9s | %12s | %s |\n' what "boot ms" "RSS MiB" "ratio to the container (boot / RSS)"
printf '|%s|%s|%s|%s|\n' "------------------------------------" "-----------" "--------------" "------"
row() { awk -v n="$1" -v ms="$2" -v kb="$3" -v cms="$c" -v ckb="$cr" 'BEGIN {
	printf "| %-34s | %9.0f | %12.1f | %s |\n", n, ms, kb / 1024,
		(cms > 0 && ckb > 0) ? sprintf("%.0fx / %.0fx", ms / cms, kb / ckb) : "" }'; }
row "vserver --vm (our shim)" "$s" "$sr"
row "the same qemu by hand" "$h" "$hr"
row "container server (monitor + init)" "$c" "$cr"
awk -v s="$s" -v h="$h" -v sr="$sr" -v hr="$hr" 'BEGIN { if (h > 0 && hr > 0)
	printf "shim / by hand: boot %.2fx, RSS %.2fx\n", s / h, sr / hr }'
INNER
rm -rf "$VSERVER_ROOT"
