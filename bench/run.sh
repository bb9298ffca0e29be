#!/usr/bin/env bash
# vsrun, crun and runc side by side on one busybox bundle (made in a temporary
# directory), in one run:
#   run ms                  `RUNTIME run` of /bin/true, median of BENCH_N
#   create+start+delete ms  `create`, `start` (/bin/true), `delete --force`, median of BENCH_N
#   peak RSS MiB            ru_maxrss of the runtime's process (bench/maxrss.c), median of BENCH_RSS_N
# and the floor: /bin/true alone and `unshare --pid --fork --mount --uts --ipc --net true`;
# then the vserver monitor's memory and the network paths (bench/net.sh).
# Timings are information, never asserted.
#   bench/run.sh
# Environment: BUILD=build, VSRUN=$BUILD/vsrun, CRUN=crun, RUNC=runc,
#   BENCH_N=100, BENCH_RSS_N=5, VSRUN_BEFORE=another vsrun for a before/after row,
#   BENCH_ONLY_RUNTIMES=1: the runtime table only (no monitor, VM or network part),
#   BENCH_STATE=tmpfs (default): every runtime's --root on one tmpfs of the bench's own,
#   as their default roots (/run/vsrun, /run/crun, /run/runc) are on a Debian host;
#   BENCH_STATE=disk: on /tmp's filesystem instead (what this file did before)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${BENCH_N:-100}
RSS_N=${BENCH_RSS_N:-5}
ID=vsbench$$

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure RUNTIME BUNDLE OUT MAXRSS: the three numbers of one runtime into OUT
# ("key value" lines). Runs in the namespace the runtime needs (see below).
measure() {
	local rt=$1 bundle=$2 out=$3 maxrss=$4 state err i t0 t1 fails=0
	state=$(mktemp -d "${BENCH_STATE_DIR:-/tmp}/vsbench-state.XXXXXX")
	if ! err=$("$rt" --root "$state" run --bundle "$bundle" "$ID-check" </dev/null 2>&1 >/dev/null); then
		echo "error run failed: $(echo "$err" | head -n 1)" >"$out"
		"$rt" --root "$state" delete --force "$ID-check" >/dev/null 2>&1
		rm -rf "$state"
		return
	fi
	: >"$state/run.us"; : >"$state/csd.us"; : >"$state/rss.kib"
	for ((i = 0; i < N; i++)); do
		t0=${EPOCHREALTIME/./}
		"$rt" --root "$state" run --bundle "$bundle" "$ID-r$i" </dev/null >/dev/null 2>>"$state/err" || fails=$((fails + 1))
		t1=${EPOCHREALTIME/./}
		echo $((10#$t1 - 10#$t0)) >>"$state/run.us"
	done
	for ((i = 0; i < N; i++)); do
		t0=${EPOCHREALTIME/./}
		{ "$rt" --root "$state" create --bundle "$bundle" "$ID-c$i" &&
			"$rt" --root "$state" start "$ID-c$i" &&
			"$rt" --root "$state" delete --force "$ID-c$i"; } </dev/null >/dev/null 2>>"$state/err" || fails=$((fails + 1))
		t1=${EPOCHREALTIME/./}
		echo $((10#$t1 - 10#$t0)) >>"$state/csd.us"
	done
	for ((i = 0; i < RSS_N; i++)); do
		"$maxrss" -o "$state/one.kib" "$rt" --root "$state" run --bundle "$bundle" "$ID-m$i" </dev/null >/dev/null 2>>"$state/err" || fails=$((fails + 1))
		cat "$state/one.kib" >>"$state/rss.kib"
	done
	{
		echo "run_us $(median <"$state/run.us")"
		echo "csd_us $(median <"$state/csd.us")"
		echo "rss_kib $(median <"$state/rss.kib")"
		echo "fails $fails"
		[ $fails -gt 0 ] && echo "firsterr $(head -n 1 "$state/err")"
	} >"$out"
	for i in $(ls "$state" 2>/dev/null); do
		[ -d "$state/$i" ] && "$rt" --root "$state" delete --force "$i" >/dev/null 2>&1
	done
	rm -rf "$state"
}

# measure_cmd OUT MAXRSS CMD...: the floor rows
measure_cmd() {
	local out=$1 maxrss=$2 i t0 t1 tmpf
	shift 2
	tmpf=$(mktemp)
	for ((i = 0; i < N; i++)); do
		t0=${EPOCHREALTIME/./}; "$@" >/dev/null 2>&1; t1=${EPOCHREALTIME/./}
		echo $((10#$t1 - 10#$t0))
	done | median >"$tmpf"
	echo "run_us $(cat "$tmpf")" >"$out"
	"$maxrss" -o "$tmpf" "$@" >/dev/null 2>&1
	echo "rss_kib $(cat "$tmpf")" >>"$out"
	rm -f "$tmpf"
}

if [ "${1:-}" = --measure ]; then
	# re-entered inside the private mount namespace made for crun
	measure "$2" "$3" "$4" "$5"
	exit 0
fi

tmp=$(mktemp -d /tmp/vsbench.XXXXXX)
cleanup() {
	local d
	for d in /sys/fs/cgroup/*/"$ID" /sys/fs/cgroup/"$ID"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	[ -n "${BENCH_STATE_DIR:-}" ] && umount "$BENCH_STATE_DIR" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# the state roots: a tmpfs, as /run is on a Debian host (here /run may be on
# disk, where each file a runtime makes costs 1-1.5 ms while the disk is busy)
export BENCH_STATE_DIR=
if [ "${BENCH_STATE:-tmpfs}" = tmpfs ]; then
	mkdir -p "$tmp/state"
	if mount -t tmpfs -o size=64m,mode=0711 vsbench-state "$tmp/state"; then
		BENCH_STATE_DIR=$tmp/state
	else
		echo "# bench: cannot mount a tmpfs for the state roots; they stay on /tmp's filesystem" >&2
	fi
fi

# the helper: built by `make bench` into $BUILD/bench, or here
MAXRSS=$BUILD/bench/maxrss
if [ ! -x "$MAXRSS" ] || [ bench/maxrss.c -nt "$MAXRSS" ]; then
	MAXRSS=$tmp/maxrss
	${CC:-cc} -O2 -Wall -o "$MAXRSS" bench/maxrss.c || { echo "bench: cannot build bench/maxrss.c"; exit 1; }
fi

# one bundle for every runtime: a busybox rootfs and runc's default config
# (crun's if runc is missing) running /bin/true, one fixed cgroup
BB=$(command -v busybox) || { echo "bench: busybox-static is not installed"; exit 1; }
B=$tmp/bundle
mkdir -p "$B"/rootfs/{bin,etc,proc,sys,dev,tmp,root}
cp "$BB" "$B/rootfs/bin/busybox"
for a in $("$BB" --list); do [ -e "$B/rootfs/bin/$a" ] || ln -s busybox "$B/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$B/rootfs/etc/passwd"
CRUN=${CRUN:-$(command -v crun)}
RUNC=${RUNC:-$(command -v runc)}
VSRUN=${VSRUN:-$PWD/$BUILD/vsrun}
spec_rt=${RUNC:-$CRUN}
[ -n "$spec_rt" ] || { echo "bench: neither runc nor crun is installed"; exit 1; }
(cd "$B" && "$spec_rt" spec) || { echo "bench: $spec_rt spec failed"; exit 1; }
jq --arg cg "/$ID" '.process.terminal = false | .process.args = ["/bin/true"] | .linux.cgroupsPath = $cg' \
	"$B/config.json" >"$B/config.new" && mv "$B/config.new" "$B/config.json" || exit 1

rows=()
declare -A label
# vsrun
if [ -x "$VSRUN" ] && v=$("$VSRUN" --version 2>/dev/null); then
	label[vsrun]="vsrun $(echo "$v" | head -n 1 | grep -oE '[0-9]+\.[0-9]+[^ ]*' | head -n 1)"
	echo "# bench: vsrun ($VSRUN), N=$N" >&2
	measure "$VSRUN" "$B" "$tmp/vsrun" "$MAXRSS"
else
	label[vsrun]="vsrun"
	echo "error not built ($BUILD/vsrun missing or --version fails)" >"$tmp/vsrun"
fi
rows+=(vsrun)
# VSRUN_BEFORE: a second vsrun build (say, of the previous commit) measured in
# the same run, for before/after ratios on a loaded machine
if [ -n "${VSRUN_BEFORE:-}" ]; then
	label[before]="vsrun before"
	if [ -x "$VSRUN_BEFORE" ] && "$VSRUN_BEFORE" --version >/dev/null 2>&1; then
		echo "# bench: vsrun before ($VSRUN_BEFORE), N=$N" >&2
		measure "$VSRUN_BEFORE" "$B" "$tmp/before" "$MAXRSS"
	else
		echo "error $VSRUN_BEFORE: not a vsrun" >"$tmp/before"
	fi
	rows+=(before)
fi
# crun: 1.8 refuses the v1/v2 hybrid layout unless /sys/fs/cgroup/unified is
# hidden, so its whole loop runs in a private mount namespace with an empty
# tmpfs over it (made once: the unshare is not in the timings)
if [ -n "$CRUN" ]; then
	label[crun]="crun $("$CRUN" --version | awk 'NR == 1 { print $3 }')"
	echo "# bench: crun ($CRUN), N=$N" >&2
	if mountpoint -q /sys/fs/cgroup/unified; then
		unshare -m --propagation private sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified && exec "$@"' sh \
			"$0" --measure "$CRUN" "$B" "$tmp/crun" "$MAXRSS"
	else
		measure "$CRUN" "$B" "$tmp/crun" "$MAXRSS"
	fi
else
	label[crun]="crun"; echo "error not installed" >"$tmp/crun"
fi
rows+=(crun)
if [ -n "$RUNC" ]; then
	label[runc]="runc $("$RUNC" --version | awk 'NR == 1 { print $3 }')"
	echo "# bench: runc ($RUNC), N=$N" >&2
	measure "$RUNC" "$B" "$tmp/runc" "$MAXRSS"
else
	label[runc]="runc"; echo "error not installed" >"$tmp/runc"
fi
rows+=(runc)
echo "# bench: floor, N=$N" >&2
measure_cmd "$tmp/true" "$MAXRSS" /bin/true
label[true]="floor: /bin/true"
measure_cmd "$tmp/unshare" "$MAXRSS" unshare --pid --fork --mount --uts --ipc --net true
label[unshare]="floor: unshare -pfmuin true"
rows+=(true unshare)

get() { awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$tmp/$1"; }
ms() { awk -v u="$1" 'BEGIN { if (u == "") print "-"; else printf "%.1f", u / 1000 }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "-"; else printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a / b }'; }

echo
where="/tmp (disk)"; [ -n "$BENCH_STATE_DIR" ] && where="a tmpfs"
echo "$(uname -r), $(nproc) cpus, N=$N (median), RSS: median of $RSS_N, state roots on $where"
printf '%-28s | %8s | %22s | %12s | %s\n' runtime "run ms" "create+start+delete ms" "peak RSS MiB" "ratio to crun (run / c+s+d / RSS)"
printf '%s\n' "-----------------------------|----------|------------------------|--------------|----------------------------------"
c_run=$(get crun run_us) c_csd=$(get crun csd_us) c_rss=$(get crun rss_kib)
for r in "${rows[@]}"; do
	e=$(get "$r" error)
	if [ -n "$e" ]; then
		printf '%-28s | %s\n' "${label[$r]}" "$r: $e"
		continue
	fi
	run=$(get "$r" run_us) csd=$(get "$r" csd_us) rss=$(get "$r" rss_kib)
	if [ -n "$csd" ]; then rat="$(ratio "$run" "$c_run") / $(ratio "$csd" "$c_csd") / $(ratio "$rss" "$c_rss")"
	else rat="$(ratio "$run" "$c_run") / - / $(ratio "$rss" "$c_rss")"; fi
	printf '%-28s | %8s | %22s | %12s | %s\n' "${label[$r]}" "$(ms "$run")" "$(ms "$csd")" "$(mib "$rss")" "$rat"
	f=$(get "$r" fails)
	[ "${f:-0}" -gt 0 ] && echo "#   $r: $f of $((2 * N + RSS_N)) invocations failed, first error: $(get "$r" firsterr)"
done

[ "${BENCH_ONLY_RUNTIMES:-0}" = 1 ] && exit 0

# The vserver monitor's memory: one idle server (no network, in a private
# network namespace and state dir), its monitor's (build/vserver-monitor)
# resident set. File-backed pages (the static binary's text) are shared
# between monitors; RssAnon + RssShmem is what each further server costs.
# Goal: VmRSS under 1 MiB.
if [ -x "$BUILD/vserver" ] && [ -x "$BUILD/vserver-monitor" ]; then
	vsroot=$(mktemp -d /tmp/vsbench-vserver.XXXXXX)
	mon=$(VSERVER_ROOT=$vsroot unshare -n sh -c '
		V='"$PWD/$BUILD/vserver"'
		$V create vsbench --net none -- sh -c "while :; do sleep 3600; done" >/dev/null &&
		$V start vsbench >/dev/null && sleep 1 &&
		p=$($V info --format json vsbench | jq .monitor) &&
		awk "/^(VmRSS|RssAnon|RssFile|RssShmem):/ { print \$1, \$2 }" /proc/$p/status
		$V destroy --force vsbench >/dev/null' 2>&1)
	rm -rf "$vsroot"
	echo
	if echo "$mon" | grep -q '^VmRSS:'; then
		kb() { echo "$mon" | awk -v k="$1:" '$1 == k { print $2 }'; }
		own=$(( $(kb RssAnon) + $(kb RssShmem) ))
		echo "vserver monitor of one idle server: VmRSS $(kb VmRSS) kB (goal < 1024), own (RssAnon+RssShmem) $own kB, shared file pages $(kb RssFile) kB"
	else
		echo "vserver monitor of one idle server: not measured: ${mon:-no output}"
	fi
fi
# VM servers: boot time and the VMM's memory, our shim vs QEMU by hand vs a container
[ -x "$BUILD/vserver" ] && BUILD=$BUILD bench/vm.sh

# The network path of servers against a plain veth (in namespaces of its own)
BUILD=$BUILD bench/net.sh
exit 0
