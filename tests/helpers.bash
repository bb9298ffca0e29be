# Shared bats helpers. Every test runs as root on the real machine: real
# namespaces, cgroups and mounts. Each test gets its own state root and bundle
# under a temporary directory, and teardown removes whatever it made.

: "${VSRUN:=$BATS_TEST_DIRNAME/../build/vsrun}"
: "${VSERVER:=$BATS_TEST_DIRNAME/../build/vserver}"
export VSRUN VSERVER

# A busybox rootfs shared by the tests of one file (made once, read-only use).
busybox_rootfs() {
	local dir=$1 bb
	bb=$(command -v busybox) || { echo "busybox-static is not installed" >&2; return 1; }
	mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin,var}
	cp "$bb" "$dir/bin/busybox"
	local a
	for a in $("$dir/bin/busybox" --list); do
		[ -e "$dir/bin/$a" ] || ln -s busybox "$dir/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$dir/etc/passwd"
	printf 'root:x:0:\nnobody:x:65534:\n' >"$dir/etc/group"
}

# setup_bundle [args...]: makes $BUNDLE with a busybox rootfs and a config
# from `vsrun spec`, process.args set to the args (default: sleep 1000),
# terminal off. Sets $ROOT (state root) and $ID (a fresh container id).
setup_bundle() {
	TESTTMP=$(mktemp -d /tmp/vsrun-test.XXXXXX)
	ROOT=$TESTTMP/state
	BUNDLE=$TESTTMP/bundle
	ID=t$$-${BATS_TEST_NUMBER:-0}-$RANDOM
	mkdir -p "$ROOT" "$BUNDLE"
	busybox_rootfs "$BUNDLE/rootfs"
	(cd "$BUNDLE" && "$VSRUN" spec) || return 1
	local args='["sleep","1000"]'
	if [ $# -gt 0 ]; then args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .); fi
	jq_config ".process.terminal = false | .process.args = $args"
}

# jq_config FILTER: edits $BUNDLE/config.json in place.
jq_config() {
	local tmp=$BUNDLE/config.json.new
	jq "$1" "$BUNDLE/config.json" >"$tmp" && mv "$tmp" "$BUNDLE/config.json"
}

vsrun() { "$VSRUN" --root "$ROOT" "$@"; }

# state_of ID: the status field of vsrun state.
state_of() { vsrun state "$1" | jq -r .status; }

# wait_for CMD...: retries a command up to ~5 s (for state that settles).
wait_for() {
	local i
	for i in $(seq 50); do "$@" && return 0; sleep 0.1; done
	"$@"
}

teardown_bundle() {
	local c
	if [ -n "${ROOT:-}" ] && [ -d "$ROOT" ]; then
		for c in $(ls "$ROOT" 2>/dev/null); do
			"$VSRUN" --root "$ROOT" delete --force "$c" >/dev/null 2>&1 || true
		done
	fi
	if [ -n "${TESTTMP:-}" ]; then
		# never leave a mount behind under our temporary directory
		grep -o " $TESTTMP[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done
		rm -rf "$TESTTMP"
	fi
}

# cgroup_v1_dir CONTROLLER PATH: host path of a v1 cgroup.
cgroup_dir() {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup$2"
	else echo "/sys/fs/cgroup/$1$2"; fi
}

is_cgroup_v2() { [ -f /sys/fs/cgroup/cgroup.controllers ]; }

# status_is ID STATUS: true when vsrun state says STATUS (for wait_for, which
# re-runs it; a $(state_of) argument would be expanded only once).
status_is() { [ "$(state_of "$1" 2>/dev/null)" = "$2" ]; }

# pid_dead PID: the process is gone, a zombie, or in exit (a zombie's
# reaper may be a host init that reaps late).
pid_dead() {
	local st flags
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	case "$st" in Z*|X*) return 0 ;; esac
	flags=$(echo "$st" | cut -d' ' -f7)
	[ $((flags & 4)) -ne 0 ]
}

# ---- vserver (tests/vserver*.bats) ----
# vs_setup: a fresh VSERVER_ROOT under /tmp and a network namespace $VNS that
# plays the host: every vserver call runs in it, so the bridge, NAT and
# published ports exist only there. nsenter --net, not `ip netns exec`: the
# latter remounts /sys in a new mount namespace, hiding the cgroup
# hierarchies and every mount vserver makes. Server names carry $VSP, a
# per-test prefix, because cgroup paths (/vsrun-vserver/<name>) are global.
vs_setup() {
	VSTMP=$(mktemp -d /tmp/vserver-test.XXXXXX)
	export VSERVER_ROOT=$VSTMP
	VSP=v$$n${BATS_TEST_NUMBER:-0}
	VNS=vst-$$-${BATS_TEST_NUMBER:-0}
	VS_NETNS="$VNS"
	ip netns add "$VNS"
	ip -n "$VNS" link set lo up
}

# vs ARGS...: vserver, in the test's host namespace
vs() { nsenter --net="/run/netns/$VNS" "$VSERVER" "$@"; }
# in_vns NS CMD...: a command in one of the test's namespaces
in_vns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }
# vs_add_ns NAME: one more namespace (a client, "the outside"), removed at teardown
vs_add_ns() {
	ip netns add "$1" && ip -n "$1" link set lo up
	VS_NETNS="$VS_NETNS $1"
}
# vs_status NAME: the status column of vserver info
vs_status() { vs info --format json "$1" 2>/dev/null | jq -r .status; }
vs_status_is() { [ "$(vs_status "$1")" = "$2" ]; }
# vs_monitors: pids of the vserver monitors of this test's VSERVER_ROOT
vs_monitors() {
	local p
	for p in $(pgrep -x vserver-mon); do
		tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qx "VSERVER_ROOT=$VSTMP" && echo "$p"
	done
	return 0
}
# vs_leftovers NAME...: prints what the named servers still hold on the host:
# cgroups, mounts, loop devices, monitors (a monitor keeps its server's
# console.log open). With --all, anything under the test's state root.
vs_leftovers() {
	local n d p all=
	if [ "${1:-}" = --all ]; then all=1; shift; fi
	for n in "$@"; do
		for d in /sys/fs/cgroup/*/vsrun-vserver/"$n"; do
			[ -d "$d" ] && echo "cgroup $d"
		done
		grep -F " $VSTMP/lib/servers/$n/" /proc/self/mountinfo | awk '{print "mount " $5}'
		losetup -a 2>/dev/null | grep -F "$VSTMP/lib/servers/$n/" | sed 's/^/loop /'
		for p in $(vs_monitors); do
			ls -l "/proc/$p/fd" 2>/dev/null | grep -qF "/servers/$n/console.log" &&
				echo "monitor $p"
		done
	done
	if [ -n "$all" ]; then
		grep -F " $VSTMP/" /proc/self/mountinfo | awk '{print "mount " $5}'
		losetup -a 2>/dev/null | grep -F "$VSTMP/" | sed 's/^/loop /'
		for p in $(vs_monitors); do echo "monitor $p"; done
	fi
	return 0
}

vs_teardown() {
	[ -n "${VSTMP:-}" ] || return 0
	local n names="" left ns p
	for n in $(ls "$VSTMP/lib/servers" 2>/dev/null); do
		names="$names $n"
		vs destroy --force "$n" >/dev/null 2>&1 || true
	done
	for n in ${VS_NAMES:-}; do names="$names $n"; done
	left=$(vs_leftovers --all $names)
	# clean up whatever leaked, then fail the test over it
	for p in $(vs_monitors); do kill -9 "$p" 2>/dev/null || true; done
	grep -F " $VSTMP/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	for ns in $VS_NETNS; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	for n in $names; do
		for p in /sys/fs/cgroup/*/vsrun-vserver/"$n"; do
			[ -d "$p" ] && rmdir "$p" 2>/dev/null
		done
	done
	rm -rf "$VSTMP"
	if [ -n "$left" ]; then
		echo "left behind: $left" >&2
		return 1
	fi
}

# vs_veths: how many veth host ends the test's host namespace holds
vs_veths() { ip -n "$VNS" -o link show type veth | grep -c '^[0-9]*: vs' || true; }
# vs_cg CONTROLLER NAME FILE: a v1 cgroup file of a server
vs_cg() { cat "/sys/fs/cgroup/$1/vsrun-vserver/$2/$3"; }

# vsrun_detached [create/run options] ID: `vsrun run -d` with the container's
# stdio away from the caller (a detached container inherits vsrun's stdio, so
# under bats' `run` the output pipe would never close). vsrun's own error, if
# any, is printed on stderr.
vsrun_detached() {
	local errf
	errf=$(mktemp "${TESTTMP:-/tmp}/detached-err.XXXXXX")
	if ! vsrun run -d "$@" </dev/null >/dev/null 2>"$errf"; then
		cat "$errf" >&2
		return 1
	fi
}
