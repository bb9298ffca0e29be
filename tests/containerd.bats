#!/usr/bin/env bats
# containerd (Debian's 1.6, its runc v2 shim) driving $VSRUN as the shim's
# runc binary (`ctr run --runc-binary`), offline: a private containerd with
# its own root, state and socket under a temporary directory, the CRI plugin
# off, a busybox rootfs given with --rootfs (no image, no snapshotter), one
# containerd namespace of our own (so the shim's state root and the cgroup
# parent are ours alone). The host's containerd, if any, is never touched.
#   bats tests/containerd.bats                       # $VSRUN (build/vsrun)
#   VSRUN=/usr/sbin/runc bats tests/containerd.bats  # proves this file with runc

load helpers

setup_file() {
	if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends containerd \
			>"${BATS_FILE_TMPDIR:-/tmp}/containerd-install.log" 2>&1 || true
	fi
	export CD_WHY=
	if ! command -v containerd >/dev/null || ! command -v containerd-shim-runc-v2 >/dev/null; then
		CD_WHY="containerd cannot be installed: $(tail -n 1 "${BATS_FILE_TMPDIR:-/tmp}/containerd-install.log" 2>/dev/null)"
		return 0
	fi
	if [ ! -x "$VSRUN" ] || ! "$VSRUN" --version >/dev/null 2>&1; then
		CD_WHY="vsrun not built ($VSRUN missing or --version fails)"
		return 0
	fi
	export CTMP CNS
	CTMP=$(mktemp -d /tmp/vsrun-ctrd.XXXXXX)
	CNS=vsctrd${CTMP##*.}
	mkdir -p "$CTMP"/{root,state}
	cat >"$CTMP/config.toml" <<-EOF
	version = 2
	root = "$CTMP/root"
	state = "$CTMP/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
	  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
	  "io.containerd.snapshotter.v1.aufs"]
	[grpc]
	  address = "$CTMP/containerd.sock"
	[ttrpc]
	  address = "$CTMP/containerd.sock.ttrpc"
	[debug]
	  address = "$CTMP/debug.sock"
	EOF
	busybox_rootfs "$CTMP/rootfs" || { CD_WHY="cannot make a busybox rootfs"; return 0; }
	containerd --config "$CTMP/config.toml" >"$CTMP/containerd.log" 2>&1 3>&- &
	echo $! >"$CTMP/containerd.pid"
	local i
	for i in $(seq 100); do
		ctr --address "$CTMP/containerd.sock" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	CD_WHY="containerd did not come up: $(tail -n 1 "$CTMP/containerd.log")"
}

teardown_file() {
	[ -n "${CTMP:-}" ] && [ -d "$CTMP" ] || return 0
	local t
	for t in $(c task ls -q 2>/dev/null); do c task kill -s KILL "$t" >/dev/null 2>&1; done
	sleep 0.2
	for t in $(c task ls -q 2>/dev/null); do c task rm -f "$t" >/dev/null 2>&1; done
	for t in $(c containers ls -q 2>/dev/null); do c containers rm "$t" >/dev/null 2>&1; done
	[ -s "$CTMP/containerd.pid" ] && kill "$(cat "$CTMP/containerd.pid")" 2>/dev/null
	sleep 0.2
	grep -o " $CTMP[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	find /sys/fs/cgroup -depth -type d -path "*/$CNS*" -exec rmdir {} + 2>/dev/null
	rm -rf "$CTMP" "/run/containerd/runc/$CNS"
}

setup() {
	[ -z "$CD_WHY" ] || skip "$CD_WHY"
}

c() { ctr --address "$CTMP/containerd.sock" -n "$CNS" "$@"; }
# crun NAME [ctr run options...] -- CMD...: ctr run with $VSRUN as the runtime
crun_() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	local name=$1; shift
	c run --runc-binary "$VSRUN" "${opts[@]}" --rootfs "$CTMP/rootfs" "$name" "$@"
}
# task_pid NAME: the host pid of a task's init
task_pid() { c task ls | awk -v n="$1" '$1 == n { print $2 }'; }
# cg_file PID CONTROLLER FILE: the file of that controller's cgroup of PID
cg_file() {
	local rel
	rel=$(awk -F: -v k="$2" '$2 ~ "(^|,)"k"(,|$)" { print $3 }' "/proc/$1/cgroup")
	echo "/sys/fs/cgroup/$2$rel/$3"
}
# cg_gone NAME: no cgroup of that container is left in any hierarchy
cg_gone() { [ -z "$(find /sys/fs/cgroup -type d -path "*/$CNS/$1" 2>/dev/null)" ]; }

@test "containerd run: output, exit status, the runtime's error reaches ctr" {
	run crun_ --rm -- c1 /bin/sh -c 'echo hello from containerd; exit 3'
	[ "$status" -eq 3 ] || { echo "$output"; false; }
	[ "$output" = "hello from containerd" ]
	# the shim reads the runtime's --log-format json log: our line must come through
	run crun_ --rm -- c1b /nonexistent
	[ "$status" -ne 0 ]
	[[ "$output" == *"/nonexistent"*ENOENT* ]] || [[ "$output" == *"/nonexistent"*"no such file"* ]] ||
		{ echo "$output"; false; }
	run c containers ls -q
	[ -z "$output" ]
	cg_gone c1 && cg_gone c1b
}

@test "containerd: task exec, ps, pause/resume, kill, rm leave nothing" {
	run crun_ -d -- c2 /bin/sleep 1000
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	local pid
	pid=$(task_pid c2)
	[ -n "$pid" ] && [ -d "/proc/$pid" ]
	run c task exec --exec-id e1 c2 /bin/sh -c 'echo exec ok; cat /proc/1/cmdline | tr "\0" " "'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "${lines[0]}" = "exec ok" ]
	[ "${lines[1]}" = "/bin/sleep 1000 " ]
	run c task exec --exec-id e2 c2 /bin/sh -c 'exit 5'
	[ "$status" -eq 5 ]
	# ps goes through the runtime's `ps --format json`
	run c task ps c2
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"$pid"* ]]
	c task pause c2
	[ "$(c task ls | awk '$1 == "c2" { print $3 }')" = PAUSED ]
	grep -q State /proc/$pid/status
	c task resume c2
	[ "$(c task ls | awk '$1 == "c2" { print $3 }')" = RUNNING ]
	c task kill -s KILL c2
	local i
	for i in $(seq 50); do [ "$(c task ls | awk '$1 == "c2" { print $3 }')" = STOPPED ] && break; sleep 0.1; done
	[ "$(c task ls | awk '$1 == "c2" { print $3 }')" = STOPPED ]
	run c task rm c2
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	c containers rm c2
	[ ! -d "/proc/$pid" ] || ! grep -q sleep "/proc/$pid/cmdline"
	cg_gone c2
	[ -z "$(ls "/run/containerd/runc/$CNS" 2>/dev/null)" ]
}

@test "containerd run -t: the process gets a terminal from the console socket" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	run script -qec "ctr --address $CTMP/containerd.sock -n $CNS run --rm -t --runc-binary $VSRUN --rootfs $CTMP/rootfs c3 /bin/sh -c 'tty; [ -t 0 ] && echo stdin-is-tty'" /dev/null </dev/null
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == */dev/pts/0* ]] || { echo "$output"; false; }
	[[ "$output" == *stdin-is-tty* ]]
	cg_gone c3
}

@test "containerd run --memory-limit --cpus: the limits land in the container's cgroup" {
	run crun_ -d --memory-limit 67108864 --cpus 0.5 -- c4 /bin/sleep 1000
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	local pid mem cpu
	pid=$(task_pid c4)
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		mem=$(cat "/sys/fs/cgroup$(awk -F: '$1 == 0 { print $3 }' /proc/$pid/cgroup)/memory.max")
		cpu=$(cat "/sys/fs/cgroup$(awk -F: '$1 == 0 { print $3 }' /proc/$pid/cgroup)/cpu.max")
		[ "$mem" = 67108864 ]
		[ "$cpu" = "50000 100000" ]
	else
		mem=$(cat "$(cg_file "$pid" memory memory.limit_in_bytes)")
		cpu=$(cat "$(cg_file "$pid" cpu cpu.cfs_quota_us)")
		[ "$mem" = 67108864 ]
		[ "$cpu" = 50000 ]
	fi
	# the metrics containerd reads from that cgroup agree
	run c task metrics c4
	[[ "$output" == *67108864* ]] || { echo "$output"; false; }
	c task kill -s KILL c4
	sleep 0.3
	c task rm -f c4 >/dev/null 2>&1 || true
	c containers rm c4
	cg_gone c4
}

@test "containerd run --seccomp: containerd's default profile is enforced" {
	run crun_ --rm --seccomp -- c5 /bin/sh -c 'grep "^Seccomp:" /proc/self/status; unshare -U true && echo crossed'
	[ "$status" -ne 0 ] || [[ "$output" != *crossed* ]]
	[[ "$output" == *"Seccomp:"*2* ]] || { echo "$output"; false; }
	[[ "$output" != *crossed* ]]
}
