#!/usr/bin/env bats
# vserver: every verb, for real (cgroups v1, overlay disks, a monitor per
# server), but contained: each test has its own VSERVER_ROOT and runs every
# vserver call inside a network namespace of its own ($VNS, see vs_setup), so
# the bridge, NAT and ports exist only there. Teardown destroys the servers
# and fails the test if a cgroup, mount, loop device or monitor is left.

load helpers

setup() {
	vs_setup
	W=${VSP}w
	LOOP='while true; do sleep 1; done'
}

teardown() { vs_teardown; }

# a server that prints a line and then idles
mk_idle() { vs create "$@" -- sh -c "echo hello-from-\$HOSTNAME; $LOOP"; }

@test "vserver create: defaults to the busybox image, limits land in config.json and the cgroups" {
	run vs create "$W" --memory 64M --cpus 0.5 --pids 64 --env FOO=bar --hostname box1 \
		-- sh -c "echo \$FOO; $LOOP"
	[ "$status" -eq 0 ]
	[[ $output == *"created $W (image default:latest, address 172.30.0.2)"* ]]
	cfg=$VSTMP/lib/servers/$W/config.json
	[ "$(jq -r .linux.resources.memory.limit "$cfg")" = 67108864 ]
	[ "$(jq -r .linux.resources.cpu.quota "$cfg")" = 50000 ]
	[ "$(jq -r .linux.resources.cpu.period "$cfg")" = 100000 ]
	[ "$(jq -r .linux.resources.pids.limit "$cfg")" = 64 ]
	[ "$(jq -r .hostname "$cfg")" = box1 ]
	jq -e '.process.env | index("FOO=bar")' "$cfg" >/dev/null
	[ "$(jq -c .process.args "$cfg")" = "[\"sh\",\"-c\",\"echo \$FOO; $LOOP\"]" ]
	[ "$(jq -r .image "$VSTMP/lib/servers/$W/server.json")" = default:latest ]
	vs image ls | grep -qx default:latest
	# not started: no cgroup yet, status stopped
	[ "$(vs_status "$W")" = stopped ]
	[ ! -d /sys/fs/cgroup/memory/vsrun-vserver/$W ]

	vs start "$W"
	[ "$(vs_status "$W")" = running ]
	[ "$(vs_cg memory "$W" memory.limit_in_bytes)" = 67108864 ]
	[ "$(vs_cg cpu "$W" cpu.cfs_quota_us)" = 50000 ]
	[ "$(vs_cg pids "$W" pids.max)" = 64 ]
	[ "$(vs exec "$W" hostname)" = box1 ]
	[ "$(vs exec "$W" sh -c 'echo $FOO')" = bar ]
	wait_for grep -qx bar "$VSTMP/lib/servers/$W/console.log"
}

@test "vserver start/stop/restart/destroy: status, pid and what is left" {
	mk_idle "$W" --memory 32M
	run vs stop "$W"
	[ "$status" -ne 0 ]
	[[ $output == *"is not running"* ]]
	vs start "$W"
	pid1=$(vs info --format json "$W" | jq .pid)
	[ "$pid1" -gt 0 ]
	kill -0 "$pid1"
	run vs start "$W"
	[ "$status" -ne 0 ]
	[[ $output == *"already running"* ]]
	[ "${#lines[@]}" -eq 1 ]
	run vs restart --timeout 1 "$W"
	[ "$status" -eq 0 ]
	pid2=$(vs info --format json "$W" | jq .pid)
	[ "$pid2" -gt 0 ] && [ "$pid2" != "$pid1" ]
	wait_for pid_dead "$pid1"
	run vs destroy "$W"
	[ "$status" -ne 0 ]
	[[ $output == *"is running: stop it first, or use --force"* ]]
	vs stop --timeout 1 "$W"
	[ "$(vs_status "$W")" = stopped ]
	wait_for pid_dead "$pid2"
	[ -z "$(vs_leftovers "$W")" ]
	[ "$(vs_veths)" -eq 0 ]
	# stopped keeps the server; restart of a stopped server starts it
	vs restart "$W"
	[ "$(vs_status "$W")" = running ]
	vs destroy --force "$W"
	[ ! -e "$VSTMP/lib/servers/$W" ]
	run vs info "$W"
	[ "$status" -ne 0 ]
	[ "$output" = "vserver: server \"$W\" does not exist" ]
	[ -z "$(vs_leftovers "$W")" ]
	# the address went back: the next server gets it
	run vs create "${W}2"
	[[ $output == *"address 172.30.0.2)"* ]]
}

@test "vserver list and info: table and json" {
	mk_idle "$W" --memory 48M --cpus 0.25
	vs create "${W}b" --autostart --restart on-failure
	vs start "$W"
	run vs list
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == NAME*STATUS*IMAGE*ADDRESS*CPUS*MEMORY*DISK*PID*KIND ]]
	echo "$output" | grep -E "^$W +running +default:latest +172\.30\.0\.2 +0\.25 +48M .* container$"
	echo "$output" | grep -E "^${W}b +stopped +default:latest +172\.30\.0\.3 "
	run vs list --format json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq length)" -eq 2 ]
	[ "$(echo "$output" | jq -r ".[] | select(.name == \"$W\") | .status")" = running ]
	[ "$(echo "$output" | jq -r ".[] | select(.name == \"$W\") | .memory")" = 50331648 ]
	[ "$(echo "$output" | jq -r ".[] | select(.name == \"${W}b\") | .autostart")" = true ]
	[ "$(echo "$output" | jq -r ".[] | select(.name == \"${W}b\") | .restart")" = on-failure ]
	run vs info "$W"
	[ "$status" -eq 0 ]
	[[ $output == *"status:     running"* ]]
	[[ $output == *"address 172.30.0.2"* ]]
	[[ $output == *"memory:     48M"* ]]
	[[ $output == *"cpus:       0.25"* ]]
	[[ $output == *"kind:       container"* ]]
	run vs info --format json "$W"
	echo "$output" | jq -e ".name == \"$W\" and .status == \"running\" and .pid > 0 and .monitor > 0 and .ip == \"172.30.0.2\" and .cpus == 0.25 and .kind == \"container\""
	run vs list --format yaml
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	# empty list is valid json too
	vs destroy --force "$W"
	vs destroy --force "${W}b"
	[ "$(vs list --format json | jq length)" -eq 0 ]
}

@test "vserver exec: exit status, the server's namespaces, only its processes" {
	mk_idle "$W" --hostname inner
	vs start "$W"
	run vs exec "$W" sh -c 'exit 7'
	[ "$status" -eq 7 ]
	[ "$(vs exec "$W" hostname)" = inner ]
	[ "$(vs exec "$W" cat /etc/hostname)" = inner ]
	# pid 1 is the server's command; nothing of the host is visible
	run vs exec "$W" ps -o pid,args
	[ "$status" -eq 0 ]
	echo "$output" | grep -E '^ *1 +sh -c echo hello'
	[ "$(echo "$output" | grep -vc -e '^ *PID' -e 'sleep' -e 'sh -c' -e 'ps -o')" -eq 0 ]
	# its own network namespace: eth0 with its address
	vs exec "$W" ip -4 addr show eth0 | grep -q 'inet 172.30.0.2/24'
	[ "$(vs exec -e X=1 "$W" sh -c 'echo $X')" = 1 ]
	run vs exec "$W" /no/such/cmd
	[ "$status" -ne 0 ]
	run vs exec "${W}nope" true
	[ "$status" -ne 0 ]
	[[ $output == *"is not running"* || $output == *"does not exist"* ]]
}

@test "vserver enter: a shell fed from a pipe" {
	mk_idle "$W"
	vs start "$W"
	run bash -c "echo 'echo hi; echo \$HOSTNAME; exit 3' | nsenter --net=/run/netns/$VNS $VSERVER enter $W"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = hi ]
	[ "${lines[1]}" = "$W" ]
}

@test "vserver logs and console: output, follow, console exits when the server stops" {
	vs create "$W" -- sh -c "echo first-line; sleep 1; echo second-line; $LOOP"
	run vs logs "$W"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	vs start "$W"
	wait_for sh -c "nsenter --net=/run/netns/$VNS $VSERVER logs $W | grep -q first-line"
	timeout 20 nsenter --net="/run/netns/$VNS" "$VSERVER" logs -f "$W" >"$VSTMP/follow" 2>&1 &
	fpid=$!
	timeout 20 nsenter --net="/run/netns/$VNS" "$VSERVER" console "$W" >"$VSTMP/console" 2>&1 &
	cpid=$!
	wait_for grep -q second-line "$VSTMP/follow"
	wait_for grep -q second-line "$VSTMP/console"
	vs exec "$W" sh -c 'echo via-exec-not-logged'
	vs stop --timeout 1 "$W"
	# console notices the stop by itself; logs -f keeps following
	wait "$cpid"
	grep -q 'exited with status' "$VSTMP/console"
	kill -0 "$fpid"
	kill "$fpid"
	wait "$fpid" || true
	grep -q first-line "$VSTMP/follow"
	run vs logs "$W"
	[[ $output == *first-line*second-line* ]]
	run vs logs "${W}x"
	[ "$status" -ne 0 ]
}

@test "vserver console: typed lines reach the server's shell, output is live, ctrl-] detaches" {
	PTYDRIVE=$BATS_TEST_DIRNAME/tools/ptydrive.py
	command -v python3 >/dev/null || skip "python3 is missing: the console is driven through a pty by tests/tools/ptydrive.py"
	# a shell reading its commands from its standard input: the console's pipe
	vs create "$W" -- sh
	vs start "$W"
	run timeout 60 nsenter --net="/run/netns/$VNS" python3 "$PTYDRIVE" 'expect:[console of' \
		'send:echo typed-$((6*7))\n' 'expect:typed-42' 'send:\x1d' 'exit:0' -- "$VSERVER" console "$W"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"detached from $W"* ]]
	# the server runs on and logged what it printed
	[ "$(vs_status "$W")" = running ]
	grep -qx typed-42 "$VSTMP/lib/servers/$W/console.log"
	# docker's --detach-keys: a broken sequence (ctrl-p, newline) is plain
	# input passed on (the shell says ^P is not a command); the full one detaches
	run timeout 60 nsenter --net="/run/netns/$VNS" python3 "$PTYDRIVE" 'expect:[console of' \
		'send:\x10\n' 'expect:not found' 'send:echo again-$((2+3))\n' 'expect:again-5' 'send:\x10\x11' 'exit:0' \
		-- "$VSERVER" console --detach-keys ctrl-p,ctrl-q "$W"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"detached from $W"* ]]
	[ "$(vs_status "$W")" = running ]
	# the history: a new console first prints the log so far
	run timeout 60 nsenter --net="/run/netns/$VNS" python3 "$PTYDRIVE" 'expect:typed-42' \
		'expect:again-5' 'send:\x1d' 'exit:0' -- "$VSERVER" console "$W"
	[ "$status" -eq 0 ]
	# the shell exits: the server stops, the console ends by itself
	run timeout 60 nsenter --net="/run/netns/$VNS" python3 "$PTYDRIVE" 'expect:[console of' \
		'send:exit 3\n' 'expect:exited with status 3' 'exit:0' -- "$VSERVER" console "$W"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_for vs_status_is "$W" stopped
	# refusals: one line each
	run vs console "$W"
	[ "$status" -ne 0 ]
	[ "$output" = "vserver: server \"$W\" is not running under a monitor" ]
	run vs console --detach-keys ctrl-1 "$W"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"--detach-keys: expected keys like"* ]]
	run vs console "${W}x"
	[ "$status" -ne 0 ]
	[ "$output" = "vserver: server \"${W}x\" does not exist" ]
}

@test "vserver console relay (--init): a console nobody reads or a log that cannot keep up stalls nothing" {
	command -v python3 >/dev/null || skip "python3 is missing: the relay is driven by tests/tools/relaydrive.py"
	local drive=$BATS_TEST_DIRNAME/tools/relaydrive.py mon
	mon=$(dirname "$VSERVER")/vserver-monitor
	# the relay alone, as the start helper runs it, with a sleep as init:
	# typed input nobody reads inside fills the pty, console output still
	# reaches the log
	run timeout 60 python3 "$drive" "$mon" input
	echo "$output"
	[ "$status" -eq 0 ]
	# the log's pipe is full: the console still takes what is written
	# (the relay drops what it cannot keep, and says so), and the relay
	# ends with init
	run timeout 60 python3 "$drive" "$mon" output
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "vserver set: limits change live in the cgroups and persist" {
	mk_idle "$W" --memory 64M --cpus 0.5 --pids 64
	vs start "$W"
	run vs set "$W" --memory 128M --cpus 1.5 --pids 100 --bandwidth 10mbit
	[ "$status" -eq 0 ]
	[ "$(vs_cg memory "$W" memory.limit_in_bytes)" = 134217728 ]
	[ "$(vs_cg cpu "$W" cpu.cfs_quota_us)" = 150000 ]
	[ "$(vs_cg pids "$W" pids.max)" = 100 ]
	rec=$VSTMP/lib/servers/$W/server.json
	[ "$(jq .memory "$rec")" = 134217728 ]
	[ "$(jq .cpuMilli "$rec")" = 1500 ]
	[ "$(jq .pids "$rec")" = 100 ]
	[ "$(jq .bandwidthIn "$rec")" = 10000000 ]
	[ "$(jq .linux.resources.memory.limit "$VSTMP/lib/servers/$W/config.json")" = 134217728 ]
	# the cap is a tbf on the host end of the veth, live
	tc -n "$VNS" qdisc show | grep -q 'tbf.*rate 10Mbit'
	vs set "$W" --bandwidth none
	! tc -n "$VNS" qdisc show | grep -q tbf
	# still the same server, still running; survives a restart
	[ "$(vs_status "$W")" = running ]
	vs restart --timeout 1 "$W"
	[ "$(vs_cg memory "$W" memory.limit_in_bytes)" = 134217728 ]
	[ "$(vs_cg pids "$W" pids.max)" = 100 ]
	# on a stopped server: saved for the next start
	vs stop --timeout 1 "$W"
	vs set "$W" --memory 96M
	[ "$(jq .memory "$rec")" = 100663296 ]
	run vs set "$W" --image other
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "vserver stats: one shot, json, watch" {
	mk_idle "$W" --memory 64M --pids 50
	run vs stats "$W"
	[ "$status" -ne 0 ]
	[[ $output == *"is not running"* ]]
	vs start "$W"
	run vs stats "$W"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == NAME*CPU*MEMORY*PIDS* ]]
	[[ ${lines[1]} == "$W "*"/ 64M"* ]]
	run vs stats --format xml "$W"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	run vs stats --format json "$W"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e ".name == \"$W\" and .memoryUsage > 0 and .memoryLimit == 67108864 and .pids >= 1 and .pidsLimit == 50"
	run timeout 3 nsenter --net="/run/netns/$VNS" "$VSERVER" stats --watch "$W"
	[ "$status" -eq 124 ]
	[ "$(echo "$output" | grep -c "^$W ")" -ge 2 ]
}

@test "vserver snapshot/restore: a deleted file comes back" {
	mk_idle "$W"
	vs start "$W"
	vs exec "$W" sh -c 'echo keep-me >/root/data'
	run vs snapshot "$W" s1
	[ "$status" -ne 0 ]
	[[ $output == *"is running: stop it first"* ]]
	vs stop --timeout 1 "$W"
	vs snapshot "$W" s1
	run vs snapshot "$W" s1
	[ "$status" -ne 0 ]
	[[ $output == *"already exists"* ]]
	vs start "$W"
	vs exec "$W" rm /root/data
	vs stop --timeout 1 "$W"
	vs restore "$W" s1
	vs start "$W"
	[ "$(vs exec "$W" cat /root/data)" = keep-me ]
	run vs restore "$W" nosuch
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "vserver clone: the copy has the file and its own address" {
	mk_idle "$W"
	vs start "$W"
	vs exec "$W" sh -c 'echo cloned >/root/data'
	run vs clone "$W" "${W}c"
	[ "$status" -ne 0 ]
	vs stop --timeout 1 "$W"
	vs clone "$W" "${W}c"
	ip1=$(vs info --format json "$W" | jq -r .ip)
	ip2=$(vs info --format json "${W}c" | jq -r .ip)
	[ "$ip1" = 172.30.0.2 ] && [ "$ip2" = 172.30.0.3 ]
	vs start "${W}c"
	vs start "$W"
	[ "$(vs exec "${W}c" cat /root/data)" = cloned ]
	vs exec "${W}c" ip -4 addr show eth0 | grep -q "inet $ip2/"
	[ "$(vs exec "${W}c" hostname)" = "${W}c" ]
	run vs clone "$W" "${W}c"
	[ "$status" -ne 0 ]
}

@test "vserver export/import: destroy the original, import, the file is there" {
	mk_idle "$W" --memory 40M
	vs start "$W"
	vs exec "$W" sh -c 'echo exported >/root/data && mkdir /root/l && ln /root/data /root/l/again'
	vs stop --timeout 1 "$W"
	vs export "$W" "$VSTMP/w.tar"
	[ -s "$VSTMP/w.tar" ]
	vs destroy "$W"
	run vs import "$VSTMP/w.tar"
	[ "$status" -eq 0 ]
	[ "$(vs info --format json "$W" | jq .memory)" = 41943040 ]
	vs start "$W"
	[ "$(vs exec "$W" cat /root/data)" = exported ]
	# the hard link is one still: same inode, 2 links
	run vs exec "$W" stat -c '%i %h' /root/data /root/l/again
	echo "$output"
	[ "${lines[0]}" = "${lines[1]}" ] && [ "${lines[0]#* }" = 2 ]
	# under another name, next to the first
	vs import "$VSTMP/w.tar" "${W}i"
	vs start "${W}i"
	[ "$(vs exec "${W}i" cat /root/data)" = exported ]
	run vs import "$VSTMP/nosuch.tar" x
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "vserver image: import a rootfs tarball, ls, inspect, rm refused while used, gc" {
	busybox_rootfs "$VSTMP/bb"
	echo from-tarball >"$VSTMP/bb/etc/marker"
	tar -C "$VSTMP/bb" -cf "$VSTMP/bb.tar" .
	run vs image import "$VSTMP/bb.tar" --name mybox:1
	[ "$status" -eq 0 ]
	vs image ls | grep -qx mybox:1
	[ "$(vs image ls --format json | jq -r '.[].name' | grep -c mybox:1)" -eq 1 ]
	vs image inspect mybox:1 | jq -e '.name == "mybox:1" and (.layers | length) == 1'
	vs create "$W" --image mybox:1 -- sh -c "$LOOP"
	vs start "$W"
	[ "$(vs exec "$W" cat /etc/marker)" = from-tarball ]
	run vs image rm mybox:1
	[ "$status" -ne 0 ]
	[ "$output" = "vserver: image \"mybox:1\" is used by server \"$W\"" ]
	vs destroy --force "$W"
	vs image rm mybox:1
	! vs image ls | grep -qx mybox:1
	run vs image gc
	[ "$status" -eq 0 ]
	[[ $output == "removed "[1-9]* ]]
	run vs image inspect mybox:1
	[ "$status" -ne 0 ]
	run vs image import "$VSTMP/nosuch.tar"
	[ "$status" -ne 0 ]
}

@test "vserver image import: a progress bar only on a terminal (bytes/total, rate), none with --quiet, json or no tty" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	busybox_rootfs "$VSTMP/bb"
	# 24 MiB that do not compress, gzip'd: long enough to be redrawn a few times
	head -c 25165824 /dev/urandom >"$VSTMP/bb/blob"
	tar -C "$VSTMP/bb" -czf "$VSTMP/big.tar.gz" .
	local size
	size=$(stat -c %s "$VSTMP/big.tar.gz")
	# not a tty: the one "importing" line on stderr, no bar
	vs image import "$VSTMP/big.tar.gz" --name p1:1 >"$VSTMP/out" 2>"$VSTMP/err"
	cat "$VSTMP/err"
	[ "$(cat "$VSTMP/out")" = "imported $VSTMP/big.tar.gz" ]
	[ "$(cat "$VSTMP/err")" = "importing $VSTMP/big.tar.gz ..." ]
	# a tty (script gives it one): the bar, redrawn with \r, both phases at 100%
	script -qec "nsenter --net=/run/netns/$VNS $VSERVER image import $VSTMP/big.tar.gz --name p2:1" \
		/dev/null >"$VSTMP/tty" 2>&1
	tr '\r' '\n' <"$VSTMP/tty" | tail -n 5
	local total
	total=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')
	grep -q $'\r\033\\[K' "$VSTMP/tty"
	tr '\r' '\n' <"$VSTMP/tty" | grep -q "copy .*\] 100% $total/$total MiB [0-9.]* MiB/s"
	tr '\r' '\n' <"$VSTMP/tty" | grep -q "unpack .*\] 100% $total/$total MiB [0-9.]* MiB/s"
	grep -q "imported $VSTMP/big.tar.gz" "$VSTMP/tty"
	# a tty with --quiet, or --format json: no bar
	script -qec "nsenter --net=/run/netns/$VNS $VSERVER image import $VSTMP/big.tar.gz --name p3:1 --quiet" \
		/dev/null >"$VSTMP/tty" 2>&1
	! grep -q 'MiB' "$VSTMP/tty"
	! grep -q importing "$VSTMP/tty"
	grep -q "imported $VSTMP/big.tar.gz" "$VSTMP/tty"
	script -qec "nsenter --net=/run/netns/$VNS $VSERVER image import $VSTMP/big.tar.gz --format json" \
		/dev/null >"$VSTMP/tty" 2>&1
	! grep -q 'MiB' "$VSTMP/tty"
	tr -d '\r' <"$VSTMP/tty" | jq -e --arg p "$VSTMP/big.tar.gz" '.name == "big:latest" and .source == $p'
	vs image ls | grep -qx big:latest
	run vs image import "$VSTMP/big.tar.gz" --format yaml
	[ "$status" -ne 0 ]
	[ "$output" = 'vserver: image import: --format: expected json, got "yaml"' ]
}

@test "vserver image: import an OCI layout made with umoci" {
	command -v umoci >/dev/null || skip "umoci is not installed"
	busybox_rootfs "$VSTMP/bb"
	umoci init --layout "$VSTMP/oci"
	umoci new --image "$VSTMP/oci:bb"
	umoci unpack --rootless --image "$VSTMP/oci:bb" "$VSTMP/bundle" >/dev/null 2>&1 ||
		umoci unpack --image "$VSTMP/oci:bb" "$VSTMP/bundle"
	cp -a "$VSTMP/bb/." "$VSTMP/bundle/rootfs/"
	echo from-oci >"$VSTMP/bundle/rootfs/etc/marker"
	umoci repack --image "$VSTMP/oci:bb" "$VSTMP/bundle"
	umoci config --image "$VSTMP/oci:bb" --config.env OCIVAR=yes --config.cmd sh \
		--config.cmd -c --config.cmd "$LOOP"
	run vs image import "$VSTMP/oci" --name ocibox:2
	[ "$status" -eq 0 ]
	vs image inspect ocibox:2 | jq -e '.name == "ocibox:2"'
	vs create "$W" --image ocibox:2
	vs start "$W"
	[ "$(vs exec "$W" cat /etc/marker)" = from-oci ]
	[ "$(vs exec "$W" sh -c 'echo $OCIVAR')" = yes ]
	# the image's cmd is the server's command: pid 1 is the loop
	vs exec "$W" cat /proc/1/cmdline | tr '\0' ' ' | grep -q 'sleep 1'
}

@test "vserver net: a second network with its own subnet" {
	run vs net create lan2 --bridge vsbr9 --subnet 10.77.0.0/24
	[ "$status" -eq 0 ]
	vs net ls | grep -qx lan2
	ip -n "$VNS" -4 addr show vsbr9 | grep -q 'inet 10.77.0.1/24'
	mk_idle "$W" --net lan2
	[ "$(vs info --format json "$W" | jq -r .ip)" = 10.77.0.2 ]
	[ "$(vs info --format json "$W" | jq -r .net)" = lan2 ]
	vs start "$W"
	vs exec "$W" ip -4 addr show eth0 | grep -q 'inet 10.77.0.2/24'
	vs exec "$W" ping -c1 -W2 10.77.0.1 >/dev/null
	run vs net rm lan2
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	vs destroy --force "$W"
	vs net rm lan2
	! vs net ls | grep -qx lan2
	! ip -n "$VNS" link show vsbr9 2>/dev/null
	# the last network gone: our nftables table goes too
	[ -z "$(vs net ls)" ]
	! ip netns exec "$VNS" nft list table inet vserver >/dev/null 2>&1
	run vs create "$W" --net lan2
	[ "$status" -ne 0 ]
	[ ! -e "$VSTMP/lib/servers/$W" ]
}

@test "vserver boot: autostart servers start, the others do not" {
	mk_idle "${W}a" --autostart
	mk_idle "${W}m"
	run vs boot
	[ "$status" -eq 0 ]
	[ "$output" = "started 1 autostart server" ]
	[ "$(vs_status "${W}a")" = running ]
	[ "$(vs_status "${W}m")" = stopped ]
	# again: nothing more to start
	run vs boot
	[ "$output" = "started 0 autostart servers" ]
	# set can turn autostart on
	vs set "${W}m" --autostart
	vs boot
	[ "$(vs_status "${W}m")" = running ]
}

@test "vserver shutdown: every running server stops, unmonitored ones too" {
	mk_idle "${W}a"
	mk_idle "${W}b" --restart always
	mk_idle "${W}c"
	vs start "${W}a"
	vs start "${W}b"
	vs start "${W}c"
	kill -9 "$(vs info --format json "${W}c" | jq .monitor)"
	wait_for vs_status_is "${W}c" unmonitored
	run vs shutdown --timeout 2
	[ "$status" -eq 0 ]
	[ "$output" = "stopped 3 servers" ]
	for n in a b c; do [ "$(vs_status "$W$n")" = stopped ]; done
	[ -z "$(vs_monitors)" ]
	run vs shutdown
	[ "$output" = "stopped 0 servers" ]
	run vs shutdown "${W}a"
	[ "$status" -eq 2 ]
	[ "$output" = "vserver: shutdown takes no server name (it stops them all)" ]
}

@test "vserver install: the monitor goes to libexec, vserver-boot.service to lib/systemd/system" {
	local prefix=$VSTMP/prefix build
	build=$(cd "$(dirname "$VSERVER")" && pwd)
	make -s -C "$BATS_TEST_DIRNAME/.." install PREFIX="$prefix" BUILD="$build" >/dev/null
	[ -x "$prefix/libexec/vserver/vserver-monitor" ]
	unit=$prefix/lib/systemd/system/vserver-boot.service
	grep -qx "ExecStart=$prefix/sbin/vserver boot" "$unit"
	grep -qx "ExecStop=$prefix/sbin/vserver shutdown --timeout 30" "$unit"
	# the installed vserver finds its monitor in ../libexec/vserver
	mk_idle "$W" --autostart
	run in_vns "$VNS" "$prefix/sbin/vserver" boot
	[ "$status" -eq 0 ]
	[ "$output" = "started 1 autostart server" ]
	mon=$(vs info --format json "$W" | jq .monitor)
	[ "$(readlink "/proc/$mon/exe")" = "$prefix/libexec/vserver/vserver-monitor" ]
	run in_vns "$VNS" "$prefix/sbin/vserver" shutdown
	[ "$output" = "stopped 1 server" ]
	if ! command -v systemd-analyze >/dev/null; then
		skip "systemd-analyze is missing: vserver-boot.service installed but not verified"
	fi
	# --man=no: the man page is not installed where man(1) looks
	run systemd-analyze verify --man=no "$unit"
	echo "$output"
	[ "$status" -eq 0 ]
	# and verify does catch a unit whose command is not there
	rm "$prefix/sbin/vserver"
	run systemd-analyze verify --man=no "$unit"
	[ "$status" -ne 0 ]
}

@test "vserver alert: a memory rule fires its command and shows in info" {
	vs create "$W" --memory 64M -- sh -c "dd if=/dev/zero of=/dev/shm/fill bs=1M count=4 2>/dev/null; $LOOP"
	vs start "$W"
	run vs alert add "$W" 'memory > 1% for 1s' --exec "touch $VSTMP/fired"
	[ "$status" -eq 0 ]
	run vs alert ls "$W"
	[ "$output" = "1  memory > 1% for 1s => touch $VSTMP/fired" ]
	vs alert add "$W" 'pids > 1000'
	[ "$(vs alert ls "$W" | wc -l)" -eq 2 ]
	wait_for test -e "$VSTMP/fired"
	run vs info "$W"
	[[ $output == *"alert history:"* ]]
	[[ $output == *"memory > 1% for 1s:"* ]]
	run vs alert rm "$W" 2
	[ "$status" -eq 0 ]
	[ "$(vs alert ls "$W" | wc -l)" -eq 1 ]
	vs alert rm "$W" "memory > 1% for 1s => touch $VSTMP/fired"
	[ -z "$(vs alert ls "$W")" ]
	run vs alert rm "$W" 1
	[ "$status" -ne 0 ]
	run vs alert add "$W" 'disk > 5'
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "vserver restart policy: on-failure restarts, no stays stopped, stop ends a loop" {
	vs create "${W}f" --restart on-failure -- sh -c 'sleep 0.2; exit 1'
	vs create "${W}n" --restart no -- sh -c 'exit 1'
	vs start "${W}n"
	wait_for vs_status_is "${W}n" stopped
	[ "$(vs info --format json "${W}n" | jq .lastExit)" = 1 ]
	[ "$(vs info --format json "${W}n" | jq .restarts)" = 0 ]
	vs start "${W}f"
	wait_for sh -c "[ \$(nsenter --net=/run/netns/$VNS $VSERVER info --format json ${W}f | jq .restarts) -ge 2 ]"
	[ "$(vs info --format json "${W}f" | jq .lastExit)" = 1 ]
	run vs stop --timeout 1 "${W}f"
	[ "$status" -eq 0 ]
	[ "$(vs_status "${W}f")" = stopped ]
	n=$(vs info --format json "${W}f" | jq .restarts)
	sleep 1.5
	[ "$(vs info --format json "${W}f" | jq .restarts)" = "$n" ]
	[ "$(vs_status "${W}f")" = stopped ]
	[ -z "$(vs_monitors)" ]
}

@test "vserver --help: every verb documents itself" {
	for v in create start stop restart destroy list info exec enter console logs set stats \
		snapshot restore clone export import boot image net alert; do
		run "$VSERVER" "$v" --help
		[ "$status" -eq 0 ] || { echo "$v --help: $status"; false; }
		[[ $output == usage:* ]] || { echo "$v --help: $output"; false; }
		# a page, not just a usage line
		[ "${#lines[@]}" -ge 2 ] || { echo "$v --help: $output"; false; }
	done
	run "$VSERVER" --help
	[ "$status" -eq 0 ]
	run "$VSERVER" frobnicate
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "vserver create --disk: a quota'd disk, full at its size, nothing left after destroy" {
	mk_idle "$W" --disk 16M
	[ "$(vs info --format json "$W" | jq .disk)" = 16777216 ]
	vs start "$W"
	run vs exec "$W" sh -c 'dd if=/dev/zero of=/root/big bs=1M count=64 2>&1'
	[ "$status" -ne 0 ]
	[[ $output == *"No space left"* ]]
	vs exec "$W" rm /root/big
	vs exec "$W" sh -c 'echo small >/root/small'
	vs restart --timeout 1 "$W"
	[ "$(vs exec "$W" cat /root/small)" = small ]
	vs destroy --force "$W"
	[ -z "$(vs_leftovers --all "$W")" ]
}
