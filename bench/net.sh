#!/usr/bin/env bash
# The network path of vserver servers against the floor: two bare network
# namespaces joined by one plain veth. Everything runs in namespaces made
# here, with addresses that exist only in them:
#   H        plays the host: vserver runs in it (bridge vsbr0, NAT), with a
#            veth to O, 198.51.100.0/24 (TEST-NET-2)
#   O        "the outside"
#   A, B     two vserver servers on the default network, no caps
#   P1, P2   two bare namespaces, one veth, 192.0.2.0/24 (TEST-NET-1)
# Paths:
#   plain veth         P1 -> P2
#   server -> server   A -> B: veth, bridge, veth
#   server -> outside  A -> O: veth, bridge, routing and masquerade, veth
# Throughput: iperf3 TCP for BENCH_NET_T seconds (3). Latency: bench/tcprr,
# BENCH_NET_RR (5000) one-byte TCP round trips on one connection, median and
# 99th percentile, both ends on CPU 0. Each BENCH_NET_RUNS (3) times, the paths taking turns;
# the table shows the medians. Information only, never asserted.
#   bench/net.sh          (also the last part of bench/run.sh)
# Environment: BUILD=build, VSERVER=$BUILD/vserver, BENCH_NET_T, BENCH_NET_RUNS,
#   BENCH_NET_RR
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VSERVER=${VSERVER:-$PWD/$BUILD/vserver}
T=${BENCH_NET_T:-3}
RUNS=${BENCH_NET_RUNS:-3}
RR=${BENCH_NET_RR:-5000}
command -v iperf3 >/dev/null || { echo "bench net: iperf3 is not installed (tests/install-deps.sh installs it)"; exit 0; }
[ -x "$VSERVER" ] || { echo "bench net: $VSERVER is not built"; exit 0; }

p=vsbn$$
H=${p}h O=${p}o P1=${p}p1 P2=${p}p2 A=${p}a B=${p}b
tmp=$(mktemp -d /tmp/vsbench-net.XXXXXX)
export VSERVER_ROOT=$tmp/vs
vs() { nsenter --net="/run/netns/$H" "$VSERVER" "$@"; }
cleanup() {
	local ns
	vs destroy --force "$A" >/dev/null 2>&1
	vs destroy --force "$B" >/dev/null 2>&1
	for ns in $H $O $P1 $P2; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

TCPRR=$tmp/tcprr
${CC:-cc} -O2 -Wall -o "$TCPRR" bench/tcprr.c || { echo "bench net: cannot build bench/tcprr.c"; exit 1; }

for ns in $H $O $P1 $P2; do ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1; done
ip -n "$H" link add up0 type veth peer name eth0 netns "$O"
ip -n "$H" addr add 198.51.100.1/24 dev up0
ip -n "$H" link set up0 up
ip -n "$O" addr add 198.51.100.2/24 dev eth0
ip -n "$O" link set eth0 up
ip -n "$P1" link add eth0 type veth peer name eth0 netns "$P2"
ip -n "$P1" addr add 192.0.2.1/24 dev eth0
ip -n "$P2" addr add 192.0.2.2/24 dev eth0
ip -n "$P1" link set eth0 up
ip -n "$P2" link set eth0 up

for s in $A $B; do
	vs create "$s" -- sh -c 'while :; do sleep 3600; done' >/dev/null &&
		vs start "$s" >/dev/null || { echo "bench net: vserver could not start a server"; exit 1; }
done
ns_of() { echo "/proc/$(vs info --format json "$1" | jq .pid)/ns/net"; }
NA=$(ns_of "$A") NB=$(ns_of "$B")
IPB=$(vs info --format json "$B" | jq -r .ip)

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# listening NSPATH PORT: waits until something listens on PORT there
listening() {
	local i
	for i in $(seq 100); do
		nsenter --net="$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
# tput SERVER_NS ADDR CLIENT_NS: Gbit/s of one iperf3 run
tput() {
	nsenter --net="$1" timeout $((T + 20)) iperf3 -s -1 -B "$2" -p 5201 >/dev/null 2>&1 &
	listening "$1" 5201 && nsenter --net="$3" timeout $((T + 15)) iperf3 -c "$2" -p 5201 \
		-t "$T" -J 2>/dev/null | jq '.end.sum_received.bits_per_second / 1e9'
	wait
}
# rr SERVER_NS ADDR CLIENT_NS: "median_us p99_us" of one tcprr run. Both
# ends on CPU 0: on this kind of (virtual) machine a wake-up on the other CPU
# costs 40-60 us and which CPU each end lands on would decide the numbers.
rr() {
	nsenter --net="$1" timeout 60 taskset -c 0 "$TCPRR" serve 7000 &
	listening "$1" 7000 && nsenter --net="$3" taskset -c 0 "$TCPRR" rr "$2" 7000 "$RR"
	wait
}

echo "# bench net: plain veth, server -> server, server -> outside (iperf3 ${T}s x $RUNS, $RR round trips x $RUNS)" >&2
# the paths take turns, round by round, so a neighbour's load hits them alike
declare -A where=([veth]="/run/netns/$P2 192.0.2.2 /run/netns/$P1" [s2s]="$NB $IPB $NA"
	[s2o]="/run/netns/$O 198.51.100.2 $NA")
for ((i = 0; i < RUNS; i++)); do
	for k in veth s2s s2o; do
		tput ${where[$k]} >>"$tmp/$k.gbit"
		rr ${where[$k]} >>"$tmp/$k.rr"
	done
done
declare -A gbit lat p99
for k in veth s2s s2o; do
	gbit[$k]=$(median <"$tmp/$k.gbit")
	lat[$k]=$(awk '{ print $1 }' "$tmp/$k.rr" | median)
	p99[$k]=$(awk '{ print $2 }' "$tmp/$k.rr" | median)
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a / b }'; }
echo
echo "network paths, $(uname -r), $(nproc) cpus: iperf3 TCP ${T} s, $RR one-byte TCP round trips (both ends on cpu 0); medians of $RUNS"
printf '%-20s | %7s | %13s | %13s | %7s | %s\n' path "Gbit/s" "ratio to veth" "round trip us" "p99 us" "ratio to veth"
printf '%s\n' "---------------------|---------|---------------|---------------|---------|--------------"
declare -A label=([veth]="plain veth (floor)" [s2s]="server -> server" [s2o]="server -> outside")
for k in veth s2s s2o; do
	printf '%-20s | %7s | %13s | %13s | %7s | %s\n' "${label[$k]}" \
		"$(awk -v g="${gbit[$k]}" 'BEGIN { if (g == "") print "-"; else printf "%.2f", g }')" \
		"$(ratio "${gbit[$k]}" "${gbit[veth]}")" "${lat[$k]:--}" "${p99[$k]:--}" \
		"$(ratio "${lat[$k]}" "${lat[veth]}")"
done
exit 0
