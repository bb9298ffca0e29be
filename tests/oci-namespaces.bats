#!/usr/bin/env bats
# Namespace layouts beyond "all new": no mount namespace (the container is a
# chroot whose mounts live in the host's namespace, as with runc and crun),
# and new namespaces inside a user namespace joined by path.

load helpers
bats_require_minimum_version 1.5.0

setup() { setup_bundle; }
teardown() {
	[ -n "${HOLDER:-}" ] && kill -9 "$HOLDER" 2>/dev/null
	teardown_bundle
}

no_mount_ns() { jq_config '.linux.namespaces |= map(select(.type != "mount"))'; }
# mounts_under DIR: how many mounts of ours are at or under DIR
mounts_under() { grep -c " $1[/ ]" /proc/self/mountinfo || true; }

@test "namespaces: no mount namespace: a chroot with its own /proc, /dev and masked paths" {
	no_mount_ns
	echo marker-in-rootfs >"$BUNDLE/rootfs/marker"
	jq_config '.process.args = ["sh", "-c", "cat /marker; echo pid=$$; ls /dev/null /dev/pts/ptmx >/dev/null && echo dev-ok; [ -c /proc/kcore ] || [ ! -e /proc/kcore ] && echo kcore-masked; readlink /proc/self/ns/mnt"]'
	run vsrun run -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = marker-in-rootfs ]
	[ "${lines[1]}" = pid=1 ]
	[ "${lines[2]}" = dev-ok ]
	[ "${lines[3]}" = kcore-masked ]
	# the host's mount namespace, not a new one
	[ "${lines[4]}" = "$(readlink /proc/self/ns/mnt)" ]
	# and nothing of it is left on the host after run
	[ "$(mounts_under "$BUNDLE/rootfs")" -eq 0 ]
}

@test "namespaces: no mount namespace: mounts visible on the host until delete, exec chroots" {
	no_mount_ns
	echo marker-in-rootfs >"$BUNDLE/rootfs/marker"
	jq_config '.root.readonly = true'
	vsrun_detached -b "$BUNDLE" "$ID"
	# the container's /proc and /dev are under its rootfs in our namespace
	grep -q " $BUNDLE/rootfs/proc " /proc/self/mountinfo
	grep -q " $BUNDLE/rootfs/dev " /proc/self/mountinfo
	[ "$(mounts_under "$BUNDLE/rootfs")" -gt 3 ]
	# the host's / keeps its propagation (never made rslave by us)
	local before=$(awk '$5 == "/" { print $7 }' /proc/1/mountinfo | head -n 1)
	# exec runs inside the container's root
	run vsrun exec "$ID" cat /marker
	[ "$output" = marker-in-rootfs ]
	run vsrun exec "$ID" sh -c 'touch /x 2>&1 || echo read-only'
	[[ "$output" == *read-only* ]]
	[ ! -e "$BUNDLE/rootfs/x" ]
	vsrun delete --force "$ID"
	[ "$(mounts_under "$BUNDLE/rootfs")" -eq 0 ]
	[ "$(awk '$5 == "/" { print $7 }' /proc/1/mountinfo | head -n 1)" = "$before" ]
	[ -f "$BUNDLE/rootfs/marker" ]
}

@test "namespaces: no mount namespace: a container that mounts over its own root leaves nothing at delete" {
	no_mount_ns
	# CAP_SYS_ADMIN: it may mount; a tmpfs on its "/" lands on the runtime's
	# bind of the rootfs in our namespace, then one more on top of that
	jq_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] |
		.process.capabilities.effective += ["CAP_SYS_ADMIN"] |
		.process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	jq_config '.process.args = ["sh", "-c", "mount -t tmpfs over1 / && mount -t tmpfs over2 / && exec sleep 1000"]'
	vsrun_detached -b "$BUNDLE" "$ID"
	wait_for grep -q "^[0-9]* [0-9]* [^ ]* / $BUNDLE/rootfs .* over2 " /proc/self/mountinfo
	grep -q " $BUNDLE/rootfs .* over1 " /proc/self/mountinfo
	vsrun delete --force "$ID"
	grep -F " $BUNDLE/rootfs" /proc/self/mountinfo || true
	[ "$(mounts_under "$BUNDLE/rootfs")" -eq 0 ]
	[ ! -e "$ROOT/$ID" ]
}

@test "namespaces: no mount namespace: a failed create leaves no mount on the host" {
	no_mount_ns
	jq_config '.process.args = ["/no/such/program"]'
	run --separate-stderr vsrun run -b "$BUNDLE" "$ID"
	echo "status=$status stderr=$stderr"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"/no/such/program"* ]]
	[ "$(mounts_under "$BUNDLE/rootfs")" -eq 0 ]
	[ ! -e "$ROOT/$ID" ]
}

@test "namespaces: no mount namespace: kill -9 of vsrun mid-create, delete --force cleans the mounts" {
	no_mount_ns
	# a createRuntime hook that waits: create stops there with every mount made
	jq_config ".hooks.createRuntime = [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo \$\$ >$TESTTMP/hook.pid; exec sleep 30\"]}]"
	"$VSRUN" --root "$ROOT" create -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 &
	local vp=$!
	wait_for grep -q " $BUNDLE/rootfs/proc " /proc/self/mountinfo
	kill -9 $vp
	wait $vp || true
	wait_for test -s "$TESTTMP/hook.pid"
	kill -9 "$(cat "$TESTTMP/hook.pid")" 2>/dev/null || true
	vsrun delete --force "$ID"
	[ "$(mounts_under "$BUNDLE/rootfs")" -eq 0 ]
	[ ! -e "$ROOT/$ID" ]
}

# hold_userns MAP: a process in a new user namespace whose uid and gid maps
# are MAP ("inside outside count"), written by us (root); sets $HOLDER
# own_userns PID: PID is in a user namespace other than ours (a function, so
# that wait_for re-reads it each time)
own_userns() { [ "$(readlink "/proc/$1/ns/user")" != "$(readlink /proc/self/ns/user)" ]; }
hold_userns() {
	unshare -U sleep 1000 &
	HOLDER=$!
	wait_for own_userns "$HOLDER"
	echo "$1" >"/proc/$HOLDER/uid_map"
	echo "$1" >"/proc/$HOLDER/gid_map"
}

@test "namespaces: new namespaces inside a user namespace joined by path" {
	hold_userns "0 100000 65536"
	# the container's root is host uid 100000: it must reach its rootfs
	chmod 755 "$TESTTMP" "$BUNDLE"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	jq_config ".linux.namespaces += [{\"type\": \"user\", \"path\": \"/proc/$HOLDER/ns/user\"}]"
	jq_config '.root.readonly = false | .process.args = ["sh", "-c", "readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u; echo pid=$$; touch /tmp/ok && echo write-ok"]'
	run vsrun run -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink /proc/$HOLDER/ns/user)" ]
	# the joined namespace's maps, untouched (vsrun writes none)
	[ "$(echo "${lines[1]}" | tr -s ' ' | sed 's/^ //')" = "0 100000 65536" ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = pid=1 ]
	[ "${lines[4]}" = write-ok ]
	[ "$(stat -c %u "$BUNDLE/rootfs/tmp/ok")" = 100000 ]
}

@test "namespaces: the namespaces made inside a joined user namespace are owned by it" {
	hold_userns "0 0 65536"
	jq_config ".linux.namespaces += [{\"type\": \"user\", \"path\": \"/proc/$HOLDER/ns/user\"}]"
	vsrun_detached -b "$BUNDLE" "$ID"
	local pid
	pid=$(vsrun state "$ID" | jq .pid)
	[ "$(readlink /proc/$pid/ns/user)" = "$(readlink /proc/$HOLDER/ns/user)" ]
	local t
	for t in mnt pid net ipc uts; do
		[ "$(readlink /proc/$pid/ns/$t)" != "$(readlink /proc/self/ns/$t)" ]
	done
	# owned by the joined user namespace: from inside it (nsenter -U
	# alone, no other namespace), the container's namespaces can be entered
	# with its rights, which needs CAP_SYS_ADMIN over their owner
	run nsenter -t "$HOLDER" -U -- nsenter -t "$pid" -n -u -i -- hostname
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(jq -r .hostname "$BUNDLE/config.json")" ]
	# and it is in its cgroup, as always
	grep -q "vsrun/$ID" "/proc/$pid/cgroup"
	# exec joins it too
	run vsrun exec "$ID" readlink /proc/self/ns/user
	[ "$output" = "$(readlink /proc/$HOLDER/ns/user)" ]
}

@test "namespaces: init made inside a joined user namespace keeps no fd of the helper that made it" {
	hold_userns "0 0 65536"
	jq_config ".linux.namespaces += [{\"type\": \"user\", \"path\": \"/proc/$HOLDER/ns/user\"}]"
	# created, not started: init waits before its exec, holding what the
	# runtime gave it; vsrun runs with no fd but stdio, none of them a pipe
	(
		for fd in $(ls "/proc/$BASHPID/fd"); do
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done 2>/dev/null
		exec "$VSRUN" --root "$ROOT" create -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>"$TESTTMP/err"
	)
	local pid
	pid=$(vsrun state "$ID" | jq .pid)
	ls -l "/proc/$pid/fd"
	# the helper's report pipe (either end) is not among them
	[ "$(ls -l "/proc/$pid/fd" | grep -c 'pipe:')" -eq 0 ]
	vsrun start "$ID"
	# and after its exec it holds stdio only, as on the usual path
	run vsrun exec "$ID" ls -l /proc/1/fd
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(awk '$(NF-1) == "->" && $NF !~ /^\/proc\/[0-9]+\/fd$/ { printf "%s ", $(NF-2) }' <<<"$output")" = "0 1 2 " ]
}

@test "namespaces: user and pid namespaces joined by path, the others new" {
	# a pid namespace owned by a user namespace, both held by one sleep
	unshare -U -p --fork --kill-child sleep 1000 &
	HOLDER=$!
	local h
	wait_for pgrep -P "$HOLDER" sleep
	h=$(pgrep -P "$HOLDER" sleep)
	echo "0 0 65536" >"/proc/$h/uid_map"
	echo "0 0 65536" >"/proc/$h/gid_map"
	jq_config ".linux.namespaces = [{\"type\": \"user\", \"path\": \"/proc/$h/ns/user\"},
		{\"type\": \"pid\", \"path\": \"/proc/$h/ns/pid\"}, {\"type\": \"mount\"},
		{\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}]"
	jq_config '.process.args = ["sh", "-c", "echo pid=$$; readlink /proc/self/ns/pid"]'
	run vsrun run -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	# the sleep is pid 1 of that namespace: the container's process is not
	[ "${lines[0]}" != pid=1 ]
	[ "${lines[1]}" = "$(readlink /proc/$h/ns/pid)" ]
}

@test "namespaces: a user namespace path that is not a user namespace is refused" {
	jq_config '.linux.namespaces += [{"type": "user", "path": "/proc/self/ns/net"}]'
	run --separate-stderr vsrun run -b "$BUNDLE" "$ID"
	echo "status=$status stderr=$stderr"
	[ "$status" -ne 0 ]
	[ "$stderr" = "vsrun: namespaces: /proc/self/ns/net: not a user namespace" ]
	[ ! -e "$ROOT/$ID" ]
}
