#!/usr/bin/env bats
# Escapes through what a runtime holds open between clone/fork and execve
# (docs/security.md): each test tries to reach a file of the host through an
# fd of the runtime, and asserts it cannot.

load helpers

setup() {
	setup_bundle
	HOSTDIR=$TESTTMP/hostdir
	mkdir -p "$HOSTDIR"
	SECRET=host-secret-$RANDOM$RANDOM
	echo "$SECRET" >"$HOSTDIR/secret"
}
teardown() {
	[ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	vs_teardown
	teardown_bundle
}

# the secret's path from a cgroup directory of the host (any depth) and
# from the host directory itself
UP=../../../../../../../../../../..

@test "escape: process.cwd=/proc/self/fd/N finds no fd of the host (CVE-2024-21626)" {
	# the cgroup directory of CLONE_INTO_CGROUP (the host's /sys/fs/cgroup,
	# so $UP is the host's /), and a directory the caller holds on fd 9
	local fd id out leaked=
	for fd in $(seq 3 20); do
		id=$ID-$fd
		jq_config ".process.cwd = \"/proc/self/fd/$fd\" |
			.process.args = [\"sh\",\"-c\",\"cat secret $UP$HOSTDIR/secret; true\"]"
		out=$("$VSRUN" --root "$ROOT" run -b "$BUNDLE" "$id" 9<"$HOSTDIR" 2>&1) || true
		echo "fd $fd: $out"
		[[ "$out" != *"$SECRET"* ]] || leaked="$leaked $fd"
		vsrun delete --force "$id" >/dev/null 2>&1 || true
	done
	echo "leaked:$leaked"
	[ -z "$leaked" ]
}

@test "escape: a cwd outside the root is refused even through a preserved fd" {
	jq_config ".process.cwd = \"/proc/self/fd/3\" |
		.process.args = [\"sh\",\"-c\",\"cat secret\"]"
	run bash -c '"$VSRUN" --root "$1" run --preserve-fds 1 -b "$2" "$3" 3<"$4"' \
		_ "$ROOT" "$BUNDLE" "$ID" "$HOSTDIR"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" != *"$SECRET"* ]]
	[[ "$output" == *"process: cwd /proc/self/fd/3: outside the container's root: refused"* ]]
	[ "$(echo "$output" | wc -l)" -eq 1 ]
}

@test "escape: vsrun exec --cwd /proc/self/fd/N finds no fd of the host" {
	vsrun_detached -b "$BUNDLE" "$ID"
	local fd out leaked=
	for fd in $(seq 3 20); do
		out=$("$VSRUN" --root "$ROOT" exec --cwd "/proc/self/fd/$fd" "$ID" \
			sh -c "cat secret $UP$HOSTDIR/secret; true" 9<"$HOSTDIR" 2>&1) || true
		echo "fd $fd: $out"
		[[ "$out" != *"$SECRET"* ]] || leaked="$leaked $fd"
	done
	echo "leaked:$leaked"
	[ -z "$leaked" ]
	# a preserved directory of the host is refused as cwd, with one line
	run bash -c '"$VSRUN" --root "$1" exec --preserve-fds 1 --cwd /proc/self/fd/3 "$2" cat secret 3<"$3"' \
		_ "$ROOT" "$ID" "$HOSTDIR"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" != *"$SECRET"* ]]
	[[ "$output" == *"outside the container's root: refused"* ]]
}

@test "escape: a process of the container cannot open the fds of a created init" {
	# init waits for `start` in the exec fifo, with its channels open
	vsrun create -b "$BUNDLE" "$ID" 9<"$HOSTDIR" </dev/null >/dev/null
	[ "$(state_of "$ID")" = created ]
	run vsrun exec "$ID" sh -c "
		readlink /proc/1/cwd && echo READLINK-OK
		for f in /proc/1/fd/* /proc/1/cwd /proc/1/root; do
			readlink \$f && echo READLINK-OK
			cat \$f/secret \$f/$UP$HOSTDIR/secret
		done 2>&1; true"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"$SECRET"* ]]
	# not dumpable: its fds, cwd and root cannot be followed
	[[ "$output" != *READLINK-OK* ]]
	[[ "$output" == *"Permission denied"* ]]
}

@test "escape: the container cannot reach the fds of a vsrun exec process before its execve (CVE-2016-9962)" {
	command -v cc >/dev/null || skip "no C compiler for the seccomp agent"
	cc -O2 -o "$TESTTMP/holdexec" "$BATS_TEST_DIRNAME/tools/holdexec.c"
	local rootfs=$BUNDLE/rootfs
	"$TESTTMP/holdexec" "$TESTTMP/agent.sock" "$rootfs/tmp" &
	AGENT=$!
	wait_for test -S "$TESTTMP/agent.sock"
	# every execve goes through the agent; the first of `vsrun exec` waits
	# there (caps dropped, filter on, the caller's fds still there in the
	# old code) until the container has looked at it
	mkfifo "$rootfs/tmp/wake"
	# the scanner runs no program until it is done (its execve would wait
	# for the agent): shell builtins only
	cat >"$rootfs/scan.sh" <<-EOF
	read x </tmp/wake
	for f in /proc/[0-9]*/fd/* /proc/[0-9]*/cwd /proc/[0-9]*/root; do
		[ -e \$f ] && echo "open \$f"
		for s in \$f/secret \$f/$UP$HOSTDIR/secret; do
			[ -r \$s ] && read v <\$s && echo "\$s: \$v"
		done
	done >/tmp/found 2>&1
	: >/tmp/scanned
	exec sleep 1000
	EOF
	jq_config ".linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\",
		listenerPath: \"$TESTTMP/agent.sock\",
		syscalls: [{names: [\"execve\"], action: \"SCMP_ACT_NOTIFY\"}]} |
		.root.readonly = false | .process.args = [\"sh\", \"/scan.sh\"]"
	vsrun_detached -b "$BUNDLE" "$ID"
	# the caller holds a directory of the host on fd 9
	run bash -c '"$VSRUN" --root "$1" exec "$2" true 9<"$3"' _ "$ROOT" "$ID" "$HOSTDIR"
	echo "exec: $output"
	[ "$status" -eq 0 ]
	[ -e "$rootfs/tmp/held" ]
	wait_for test -e "$rootfs/tmp/scanned"
	cat "$rootfs/tmp/found"
	# the scanner sees its own fds; those of the held process it must not
	local held_fds
	held_fds=$(grep -v "^open /proc/1/" "$rootfs/tmp/found" | grep -c "^open /proc/[0-9]*/fd/" || true)
	[ "$held_fds" -eq 0 ]
	run cat "$rootfs/tmp/found"
	[[ "$output" != *"$SECRET"* ]]
}

# userns_timens_bundle ARGS_JSON: the bundle in a new user namespace (uids
# from 100000) with a time namespace, boottime +10 days and oomScoreAdj 100:
# the two owner-only /proc/self writes of a process that is not dumpable
userns_timens_bundle() {
	chmod 755 "$TESTTMP"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	jq_config ".linux.namespaces += [{\"type\":\"user\"},{\"type\":\"time\"}] |
		.linux.uidMappings = [{\"containerID\":0,\"hostID\":100000,\"size\":65536}] |
		.linux.gidMappings = [{\"containerID\":0,\"hostID\":100000,\"size\":65536}] |
		.linux.timeOffsets = {\"boottime\":{\"secs\":864000,\"nanosecs\":0}} |
		.process.oomScoreAdj = 100 | .process.args = $1"
}

@test "escape: not dumpable in a user namespace, init still gets oom_score_adj and time offsets" {
	# owner-only /proc/self files are the host root's while not dumpable:
	# the runtime writes them through /proc/PID (procattr.c, SYNC_TIMENS)
	userns_timens_bundle '["sh","-c","cat /proc/self/oom_score_adj; cut -d. -f1 /proc/uptime"]'
	run vsrun run -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 100 ]
	[ "${lines[1]}" -ge 864000 ]
}

@test "escape: init and an exec'd process are never made dumpable before their execve" {
	# a dumpable moment (even one write long) lets a process of the
	# container open /proc/PID/mem or ptrace a process that still has the
	# runtime's capabilities and no seccomp filter: only vsrun itself (the
	# top pid of the trace, restoring its own value) may set it back to 1
	command -v strace >/dev/null || skip "strace is not installed (apt-get install strace)"
	userns_timens_bundle '["true"]'
	# strace -f waits for every traced process: a run of true, then an exec
	# into a container started outside the trace
	strace -f -qq -e trace=prctl -o "$TESTTMP/create.st" "$VSRUN" --root "$ROOT" run -b "$BUNDLE" "$ID-r" </dev/null
	jq_config '.process.args = ["sleep","1000"]'
	vsrun create -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
	vsrun start "$ID"
	strace -f -qq -e trace=prctl -o "$TESTTMP/exec.st" "$VSRUN" --root "$ROOT" exec "$ID" true </dev/null
	local f top bad
	for f in create exec; do
		top=$(head -n 1 "$TESTTMP/$f.st" | awk '{ print $1 }')
		grep -Eq "PR_SET_DUMPABLE, (0|SUID_DUMP_DISABLE)\)" "$TESTTMP/$f.st"
		bad=$(grep -E "PR_SET_DUMPABLE, (1|SUID_DUMP_USER)\)" "$TESTTMP/$f.st" | awk -v t="$top" '$1 != t') || true
		[ -z "$bad" ] || { echo "$f: $bad"; false; }
	done
	[ "$(cat "/proc/$(vsrun state "$ID" | jq -r .pid)/oom_score_adj")" = 100 ]
}

@test "escape: a symlink at /dev/console of the image does not redirect the console's bind" {
	cc -O2 -o "$TESTTMP/recvtty" "$BATS_TEST_DIRNAME/tools/recvtty.c"
	# no /dev tmpfs: /dev is the image's, with /dev/console -> /tmp/target
	local dev=$BUNDLE/rootfs/dev
	mkdir -p "$dev/pts"
	mknod -m 666 "$dev/null" c 1 3
	ln -s pts/ptmx "$dev/ptmx"
	ln -s /tmp/target "$dev/console"
	echo original >"$BUNDLE/rootfs/tmp/target"
	jq_config '.process.terminal = true | .root.readonly = false |
		.mounts |= map(select(.destination != "/dev")) |
		.process.args = ["sh","-c","test -t 3 3</tmp/target && echo TARGET-IS-TTY; echo done"]'
	"$TESTTMP/recvtty" "$TESTTMP/sock" >"$TESTTMP/tty.out" 2>/dev/null &
	AGENT=$!
	wait_for test -S "$TESTTMP/sock"
	run vsrun run -d --console-socket "$TESTTMP/sock" -b "$BUNDLE" "$ID"
	echo "$output"
	if [ "$status" -eq 0 ]; then
		wait "$AGENT" || true
		AGENT=
	fi
	cat "$TESTTMP/tty.out"
	[[ "$(cat "$TESTTMP/tty.out")" != *TARGET-IS-TTY* ]]
	[ "$status" -ne 0 ]
	[ "$output" = "vsrun: console: /dev/console is not a file or a device: refused" ]
	[ "$(cat "$BUNDLE/rootfs/tmp/target")" = original ]
}

logs_have() { vs logs "$1" 2>/dev/null | grep -q "$2"; }

@test "escape: an image's WorkingDir /proc/self/fd/N does not reach the host (vserver)" {
	command -v umoci >/dev/null || skip "umoci is not installed"
	vs_setup
	local w=${VSP}w fd out leaked=
	busybox_rootfs "$VSTMP/bb"
	umoci init --layout "$VSTMP/oci"
	umoci new --image "$VSTMP/oci:bb"
	umoci unpack --image "$VSTMP/oci:bb" "$VSTMP/bundle" >/dev/null
	cp -a "$VSTMP/bb/." "$VSTMP/bundle/rootfs/"
	umoci repack --image "$VSTMP/oci:bb" "$VSTMP/bundle"
	echo "$SECRET" >"$VSTMP/secret"
	for fd in $(seq 3 24); do
		cp -a "$VSTMP/oci" "$VSTMP/oci$fd"
		umoci config --image "$VSTMP/oci$fd:bb" --config.workingdir "/proc/self/fd/$fd" \
			--config.cmd sh --config.cmd -c \
			--config.cmd "cat secret $UP$VSTMP/secret; echo tried; sleep 1000"
		vs image import "$VSTMP/oci$fd" --name "wd:$fd" >/dev/null
		vs create "$w$fd" --image "wd:$fd" >/dev/null
		# started, its command has run once it logged "tried"
		if vs start "$w$fd" >"$VSTMP/start" 2>&1; then
			wait_for logs_have "$w$fd" tried
		fi
		out=$(cat "$VSTMP/start"; vs logs "$w$fd" 2>&1) || true
		echo "fd $fd: $out"
		[[ "$out" != *"$SECRET"* ]] || leaked="$leaked $fd"
		vs destroy --force "$w$fd" >/dev/null 2>&1 || true
	done
	echo "leaked:$leaked"
	[ -z "$leaked" ]
}

@test "escape: --preserve-fds over fds the caller left closed passes /dev/null, no fd of the runtime" {
	# fds 3..10 closed in the caller: the runtime's own next opens (the
	# host's namespace fds, its sync socket) must not take those numbers
	# and go to the container as "preserved"
	jq_config '.process.args = ["sh","-c","for f in 3 4 5 6 7 8 9 10; do readlink /proc/self/fd/$f; done"]'
	run bash -c 'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- 10>&-; "$0" --root "$1" run --preserve-fds 8 -b "$2" "$3" </dev/null' \
		"$VSRUN" "$ROOT" "$BUNDLE" "$ID-r"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 8 ]
	local l
	for l in "${lines[@]}"; do [ "$l" = /dev/null ]; done
	jq_config '.process.args = ["sleep","1000"]'
	vsrun create -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
	vsrun start "$ID"
	run bash -c 'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- 10>&-; "$0" --root "$1" exec --preserve-fds 8 "$2" sh -c "for f in 3 4 5 6 7 8 9 10; do readlink /proc/self/fd/\$f; done" </dev/null' \
		"$VSRUN" "$ROOT" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 8 ]
	for l in "${lines[@]}"; do [ "$l" = /dev/null ]; done
}
