#!/usr/bin/env bats
# vsrun with run.oci.handler=vm (as crun with krun): the bundle's rootfs
# becomes the guest's disk, process.args run under our agent in Debian's
# cloud kernel (not the host's), through create/start/state/exec/kill/delete,
# and on the network of a namespace the bundle names (made here, as podman
# would: a veth eth0 with an address; a peer namespace on its other end).
# Under software emulation (the developers' machines) a boot takes 3-6 s.

load helpers

setup_file() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
	KERNEL=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1)
	[ -n "$KERNEL" ] || skip "no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)"
	export KERNEL KVER=${KERNEL##*/vmlinuz-}
}

setup() {
	setup_bundle sh -c 'echo vm-bundle-up $(uname -r); while :; do sleep 1; done'
	jq_config ".annotations = {\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$KERNEL\"}"
}

teardown() {
	[ -f "$ROOT/$ID/console.log" ] && tail -n 8 "$ROOT/$ID/console.log" | sed 's/^/# console: /' >&3
	teardown_bundle
	ip netns del "vsvm$$n" 2>/dev/null || true
	ip netns del "vsvm$$p" 2>/dev/null || true
}

# wait_con PATTERN SECS
wait_con() {
	local i
	for i in $(seq $(($2 * 5))); do
		grep -q "$1" "$ROOT/$ID/console.log" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

@test "vsrun vm: create (vCPUs stopped), start, exec, kill is the power button, delete leaves nothing" {
	run vsrun create --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "$(state_of "$ID")" = created ]
	pid=$(vsrun state "$ID" | jq .pid)
	# the pid is the VMM's, in the container's cgroup
	grep -q qemu "/proc/$pid/comm"
	grep -q "/vsrun/$ID" "/proc/$pid/cgroup"
	# nothing ran yet: its vCPUs wait for start
	sleep 1
	! grep -q vm-bundle-up "$ROOT/$ID/console.log"
	vsrun start "$ID"
	[ "$(state_of "$ID")" = running ]
	wait_con "vm-bundle-up $KVER" 90
	run vsrun exec "$ID" sh -c 'uname -r; exit 5'
	[ "$status" -eq 5 ]
	[ "$output" = "$KVER" ]
	vsrun kill "$ID" TERM
	wait_for sh -c "[ \$($VSRUN --root $ROOT state $ID | jq -r .status) = stopped ]"
	grep -q "power button" "$ROOT/$ID/console.log"
	vsrun delete "$ID"
	[ ! -e "$ROOT/$ID" ]
	! ls -d /sys/fs/cgroup/*/vsrun/"$ID" 2>/dev/null
}

@test "vsrun vm: the process's exit stops the container; delete --force of a created one; a bad kernel is one line" {
	jq_config '.process.args = ["sh", "-c", "echo bye; exit 0"]'
	vsrun create --bundle "$BUNDLE" "$ID"
	vsrun start "$ID"
	wait_con "workload exited with status 0" 90
	wait_for sh -c "[ \$($VSRUN --root $ROOT state $ID | jq -r .status) = stopped ]"
	vsrun delete "$ID"
	vsrun create --bundle "$BUNDLE" "$ID"
	vsrun delete --force "$ID"
	[ ! -e "$ROOT/$ID" ]
	jq_config '.annotations["run.oci.vm.kernel"] = "/etc/passwd"'
	run vsrun create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"/etc/passwd: not a linux kernel image"* ]]
	[ ! -e "$ROOT/$ID" ]
}

@test "vsrun vm: in the bundle's network namespace the guest takes eth0's place (tap + tc redirect)" {
	local ns=vsvm$$n peer=vsvm$$p
	ip netns add "$ns"
	ip netns add "$peer"
	ip link add eth0 netns "$ns" type veth peer name p0 netns "$peer"
	ip -n "$ns" addr add 10.199.0.2/24 dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via 10.199.0.1
	ip -n "$peer" addr add 10.199.0.1/24 dev p0
	ip -n "$peer" link set p0 up
	mac=$(ip -n "$ns" -o link show eth0 | grep -o 'link/ether [^ ]*' | cut -d' ' -f2)
	jq_config "(.linux.namespaces[] | select(.type == \"network\")) += {\"path\": \"/run/netns/$ns\"}"
	vsrun create --bundle "$BUNDLE" "$ID"
	vsrun start "$ID"
	wait_con "vm-bundle-up" 90
	# the guest has eth0's address and MAC, the default route, and reaches the peer
	run vsrun exec "$ID" ip addr show eth0
	[[ "$output" == *"10.199.0.2/24"* ]]
	[[ "$(vsrun exec "$ID" cat /sys/class/net/eth0/address)" == "$mac" ]]
	vsrun exec "$ID" ip route | grep -q "default via 10.199.0.1"
	vsrun exec "$ID" ping -c1 -W5 10.199.0.1 >/dev/null
	# the peer reaches the guest (the namespace's own stack sees nothing)
	nsenter --net="/run/netns/$peer" busybox ping -c1 -W5 10.199.0.2 >/dev/null
	vsrun delete --force "$ID"
	# eth0 is the namespace's again: no redirect, no tap
	[ -z "$(tc -n "$ns" qdisc show dev eth0 ingress 2>/dev/null)" ]
	! ip -n "$ns" link show vstap0 2>/dev/null
	ip netns del "$ns"
	ip netns del "$peer"
}

@test "vsrun vm: a create that fails after QEMU started (the pid file) leaves no tap or redirect in the bundle's namespace" {
	local ns=vsvm$$n
	ip netns add "$ns"
	ip -n "$ns" link add eth0 type veth peer name p0
	ip -n "$ns" addr add 10.199.0.2/24 dev eth0
	ip -n "$ns" link set eth0 up
	jq_config "(.linux.namespaces[] | select(.type == \"network\")) += {\"path\": \"/run/netns/$ns\"}"
	run vsrun create --pid-file "$TESTTMP/no/such/dir/pid" --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"write pid file $TESTTMP/no/such/dir/pid"* ]]
	# rolled back: QEMU, its state, and eth0's ingress redirect (the tap went with QEMU)
	[ ! -e "$ROOT/$ID" ]
	! pgrep -f "qemu-system.*$ID" >/dev/null
	[ -z "$(tc -n "$ns" qdisc show dev eth0 ingress)" ]
	[ -z "$(tc -n "$ns" filter show dev eth0 ingress)" ]
	! ip -n "$ns" link show vstap0 2>/dev/null
	ip netns del "$ns"
}

@test "vsrun vm: process.user (uid, gid, additionalGids), cwd and env apply in the guest, to the process and to exec" {
	jq_config '.process.args = ["sh", "-c", "echo who-$(id -u)-$(id -g)-$(id -G | tr \" \" ,)-$(pwd)-$GREETING; while :; do sleep 1; done"]
		| .process.user = {"uid": 1000, "gid": 100, "additionalGids": [10, 20]}
		| .process.cwd = "/tmp" | .process.env += ["GREETING=hello-guest"]'
	vsrun create --bundle "$BUNDLE" "$ID"
	vsrun start "$ID"
	wait_con "who-" 90
	grep -q "who-1000-100-100,10,20-/tmp-hello-guest" "$ROOT/$ID/console.log"
	# exec inherits the process's user, cwd and env (as for a container) ...
	probe='echo $(id -u)-$(id -g)-$(id -G | tr " " ,)-$(pwd)-$GREETING-$X'
	[ "$(vsrun exec "$ID" sh -c "$probe")" = "1000-100-100,10,20-/tmp-hello-guest-" ]
	# ... and its options override them (--additional-gids adds to them)
	run vsrun exec --user 1001:101 --additional-gids 30 --cwd /etc --env X=y "$ID" sh -c "$probe"
	echo "$output"
	[ "$output" = "1001-101-101,10,20,30-/etc-hello-guest-y" ]
	# a cwd the user cannot enter is the exec's error, not a root shell
	run vsrun exec --cwd /no/such/dir "$ID" pwd
	[ "$status" -eq 126 ]
	[[ "$output" == *"chdir /no/such/dir"* ]]
	vsrun delete --force "$ID"
	[ ! -e "$ROOT/$ID" ]
}
