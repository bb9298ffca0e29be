#!/usr/bin/env bats
# cgroup limits through vsrun on this host's v1 hierarchies: each is read
# back from cgroupfs or felt by a process inside.

load helpers

setup() {
	is_cgroup_v2 && skip "these tests are for the v1 hierarchies of this host"
	setup_bundle
}
teardown() {
	teardown_bundle
	[ -z "${LOOPDEV:-}" ] || losetup -d "$LOOPDEV" 2>/dev/null || true
	[ -z "${TOP:-}" ] || rm_top "$TOP"
	# what the hugetlb test changed on the host, put back (vsrun puts the
	# unified root back itself when no cgroup is left below it; this is for
	# a failed test)
	[ -z "${HP_OLD:-}" ] || echo "$HP_OLD" >/proc/sys/vm/nr_hugepages
	[ -z "${UNI_SC_OFF:-}" ] || echo -hugetlb >/sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null || true
	[ -z "${NETCLS:-}" ] || drop_netcls
}
# drop_netcls: ends the net_cls hierarchy a test mounted privately. A v1
# hierarchy whose last mount goes while a removed cgroup is still dying
# lingers, unmounted, listed in every process's /proc/PID/cgroup: mounting
# it once more (privately) and unmounting it, with no cgroups left, ends it.
netcls_hierarchy() { awk '$1 == "net_cls" { print $2 }' /proc/cgroups; }
drop_netcls() {
	local d i
	d=$(mktemp -d /tmp/vstest-netcls.XXXXXX)
	for i in $(seq 20); do
		[ "$(netcls_hierarchy)" = 0 ] && break
		unshare -m --propagation private sh -c "mount -t cgroup -o net_cls vstest $d &&
			rmdir $d/vsrun 2>/dev/null; umount $d" 2>/dev/null || true
		sleep 0.1
	done
	rmdir "$d"
	[ "$(netcls_hierarchy)" = 0 ]
}
# rm_top TOP: the parent cgroup /TOP a test made (and /TOP/c) in every hierarchy
rm_top() {
	local c
	for c in /sys/fs/cgroup/*/"$1"/c /sys/fs/cgroup/*/"$1"; do
		[ -d "$c" ] && rmdir "$c" 2>/dev/null
	done
	true
}

# v1 CONTROLLER [ID]: the container's cgroup dir in one hierarchy
v1() { echo "/sys/fs/cgroup/$1/vsrun/${2:-$ID}"; }

# run_detached_with FILTER: applies a jq filter, starts the container detached
run_detached_with() {
	jq_config "$1"
	vsrun_detached -b "$BUNDLE" "$ID"
}

@test "cgroups: the container lands in its own cgroup in every v1 hierarchy" {
	run_detached_with '.'
	local pid c
	pid=$(vsrun state "$ID" | jq .pid)
	for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
		grep -q ":$c:/vsrun/$ID\$" /proc/$pid/cgroup || { cat /proc/$pid/cgroup; false; }
		grep -qx "$pid" "$(v1 $c)/cgroup.procs"
	done
}

@test "cgroups: the container's /sys/fs/cgroup shows its own cgroup in each hierarchy, made while init was being moved there" {
	# a sibling whose cgroup must stay out of view
	cp -a "$BUNDLE" "$TESTTMP/sib"
	vsrun_detached -b "$TESTTMP/sib" "$ID-sib"
	jq_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 77}
		| .process.args = ["sh", "-c", "for c in memory pids cpu unified; do echo $c $(head -n 1 /sys/fs/cgroup/$c/cgroup.procs) $(ls -d /sys/fs/cgroup/$c/*/ 2>/dev/null | wc -l); done; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"]'
	run vsrun run -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	# its own processes (its init is pid 1 in its namespace), no child
	# cgroup (a bind of /vsrun would show the sibling's), its limits
	[ "${lines[0]}" = "memory 1 0" ]
	[ "${lines[1]}" = "pids 1 0" ]
	[ "${lines[2]}" = "cpu 1 0" ]
	[ "${lines[3]}" = "unified 1 0" ]
	[ "${lines[4]}" = 67108864 ]
	[ "${lines[5]}" = 77 ]
}

@test "cgroups: memory.limit_in_bytes from linux.resources.memory.limit" {
	run_detached_with '.linux.resources.memory = {"limit": 67108864}'
	[ "$(cat "$(v1 memory)/memory.limit_in_bytes")" = 67108864 ]
}

@test "cgroups: a memory hog is OOM-killed and the host stays fine" {
	run_detached_with '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	local before
	before=$(sed -n 's/^oom_kill //p' "$(v1 memory)/memory.oom_control")
	# 128 MiB into a tmpfs-free place: a shell variable that keeps growing
	run vsrun exec "$ID" sh -c 'x=$(head -c 134217728 /dev/zero | tr "\0" a); echo ${#x}'
	echo "status=$status $output"
	[ "$status" -ne 0 ]
	[ "$status" -eq 137 ] || [[ "$output" != *134217728* ]]
	local after
	after=$(sed -n 's/^oom_kill //p' "$(v1 memory)/memory.oom_control")
	[ "$after" -gt "$before" ]
	# the container itself is still there and the host can still run things
	[ "$(state_of "$ID")" = running ]
	run vsrun exec "$ID" true
	[ "$status" -eq 0 ]
}

@test "cgroups: pids.max refuses forks" {
	run_detached_with '.linux.resources.pids = {"limit": 10}'
	[ "$(cat "$(v1 pids)/pids.max")" = 10 ]
	run vsrun exec "$ID" sh -c 'for i in $(seq 30); do sleep 5 & done 2>&1; wait'
	echo "$output"
	[[ "$output" == *"can't fork"* || "$output" == *"Resource temporarily unavailable"* ]]
	[ "$(cat "$(v1 pids)/pids.current")" -le 10 ]
}

@test "cgroups: a 20% cpu quota holds a spinner to about 20% (cpuacct counters)" {
	run_detached_with '.linux.resources.cpu = {"quota": 20000, "period": 100000} |
			   .process.args = ["sh","-c","while :; do :; done"]'
	[ "$(cat "$(v1 cpu)/cpu.cfs_quota_us")" = 20000 ]
	[ "$(cat "$(v1 cpu)/cpu.cfs_period_us")" = 100000 ]
	local u0 u1 p0 p1 t0 t1
	sleep 0.3
	u0=$(cat "$(v1 cpuacct)/cpuacct.usage")
	p0=$(sed -n 's/^nr_periods //p' "$(v1 cpu)/cpu.stat")
	sleep 1.5
	u1=$(cat "$(v1 cpuacct)/cpuacct.usage")
	p1=$(sed -n 's/^nr_periods //p' "$(v1 cpu)/cpu.stat")
	# elapsed from the kernel's own period counter (100 ms each), not the clock
	local pct=$(( (u1 - u0) / 1000 / ((p1 - p0) * 1000) ))
	echo "usage $((u1 - u0)) ns over $((p1 - p0)) periods: ${pct}%"
	[ $((p1 - p0)) -ge 5 ]
	[ "$pct" -ge 10 ] && [ "$pct" -le 35 ]
	grep -q '^nr_throttled [1-9]' "$(v1 cpu)/cpu.stat"
}

@test "cgroups: cpuset pins the container to a cpu" {
	run_detached_with '.linux.resources.cpu = {"cpus": "0", "mems": "0"}'
	[ "$(cat "$(v1 cpuset)/cpuset.cpus")" = 0 ]
	run vsrun exec "$ID" sh -c 'grep Cpus_allowed_list /proc/self/status'
	[[ "$output" == *$'\t'0 ]] || [[ "$output" == *" 0" ]] || [[ "$output" == *":0" ]]
	[ "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' <<<"$output")" = 0 ]
}

@test "cgroups: a device rule denying c 1:3 makes /dev/null unusable inside" {
	run_detached_with '.linux.resources.devices += [{"allow":false,"type":"c","major":1,"minor":3,"access":"rwm"}]'
	run vsrun exec "$ID" sh -c 'cat /dev/null && echo READ'
	echo "$output"
	[[ "$output" != *READ* ]]
	run vsrun exec "$ID" sh -c 'head -c1 /dev/zero | wc -c'
	[ "$output" = 1 ]
	! grep -q '^c 1:3 ' "$(v1 devices)/devices.list"
}

@test "cgroups: the config's device rules are listed first and in order, the defaults after" {
	is_cgroup_v2 && skip "v1 devices.list only (v2 rules are an eBPF program)"
	run_detached_with '.linux.resources.devices = [{"allow":false,"access":"rwm"},
		{"allow":true,"type":"c","major":10,"minor":229,"access":"rwm"},
		{"allow":true,"type":"b","major":8,"minor":20,"access":"rw"},
		{"allow":false,"type":"c","major":1,"minor":5,"access":"rwm"}]'
	local list="$(v1 devices)/devices.list"
	cat "$list"
	[ "$(sed -n 1p "$list")" = "c 10:229 rwm" ]
	[ "$(sed -n 2p "$list")" = "b 8:20 rw" ]
	# the defaults follow (/dev/null), but not /dev/zero, which the config denies
	grep -qx 'c 1:3 rwm' "$list"
	! grep -q '^c 1:5 ' "$list"
	run vsrun exec "$ID" sh -c 'head -c1 /dev/zero | wc -c'
	[ "$output" != 1 ]
	run vsrun exec "$ID" sh -c 'echo x >/dev/null && echo null-ok'
	[ "$output" = null-ok ]
}

@test "cgroups: an allow of c *:* m leaves the default /dev/null rwm in place" {
	is_cgroup_v2 && skip "v1 devices.list only (v2 rules are an eBPF program)"
	run_detached_with '.linux.resources.devices = [{"allow":false,"access":"rwm"},
		{"allow":true,"type":"c","access":"m"}]'
	grep -qx 'c 1:3 rwm' "$(v1 devices)/devices.list"
	run vsrun exec "$ID" sh -c 'echo x >/dev/null && echo null-ok'
	[ "$output" = null-ok ]
}

@test "cgroups: blkio throttle is written to the right file" {
	[ -e /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device ] || skip "no blkio throttle files"
	run_detached_with '.linux.resources.blockIO = {"throttleWriteBpsDevice": [{"major":254,"minor":0,"rate":1048576}],
						       "throttleReadIOPSDevice": [{"major":254,"minor":0,"rate":100}]}'
	grep -qx '254:0 1048576' "$(v1 blkio)/blkio.throttle.write_bps_device"
	grep -qx '254:0 100' "$(v1 blkio)/blkio.throttle.read_iops_device"
}

@test "cgroups: blkio throttles O_DIRECT writes and reads on a loop device (bytes counted, seconds stalled)" {
	[ -e /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device ] || skip "no blkio throttle files"
	truncate -s 16M "$TESTTMP/disk"
	local mm maj min
	LOOPDEV=$(losetup --find --show "$TESTTMP/disk")
	mm=$(lsblk -dno MAJ:MIN "$LOOPDEV" | tr -d ' ')
	maj=${mm%:*} min=${mm#*:}
	run_detached_with ".linux.devices += [{\"path\":\"/dev/vsdisk\",\"type\":\"b\",\"major\":$maj,\"minor\":$min}]
		| .linux.resources.devices += [{\"allow\":true,\"type\":\"b\",\"major\":$maj,\"minor\":$min,\"access\":\"rw\"}]
		| .linux.resources.blockIO = {\"throttleWriteBpsDevice\": [{\"major\":$maj,\"minor\":$min,\"rate\":1048576}],
					      \"throttleReadIOPSDevice\": [{\"major\":$maj,\"minor\":$min,\"rate\":50}]}"
	local psi=/sys/fs/cgroup/unified/vsrun/$ID/io.pressure
	stall() { sed -n 's/^some .*total=\([0-9]*\).*/\1/p' "$psi"; }
	local s0 s1 s2 out
	s0=$(stall)
	run vsrun exec "$ID" dd if=/dev/zero of=/dev/vsdisk bs=65536 count=64 oflag=direct
	echo "$output"
	[ "$status" -eq 0 ]
	s1=$(stall)
	run vsrun exec "$ID" dd if=/dev/vsdisk of=/dev/null bs=4096 count=150 iflag=direct
	echo "$output"
	[ "$status" -eq 0 ]
	s2=$(stall)
	out=$(cat "$(v1 blkio)/blkio.throttle.io_service_bytes" "$(v1 blkio)/blkio.throttle.io_serviced")
	echo "stalled: writes $((s1 - s0)) us, reads $((s2 - s1)) us; $out"
	grep -qx "$mm 1048576" "$(v1 blkio)/blkio.throttle.write_bps_device"
	grep -qx "$mm 50" "$(v1 blkio)/blkio.throttle.read_iops_device"
	# the kernel counted exactly what dd did, in this cgroup
	grep -qx "$mm Write 4194304" "$(v1 blkio)/blkio.throttle.io_service_bytes"
	grep -qx "$mm Read 150" "$(v1 blkio)/blkio.throttle.io_serviced"
	# and made it wait: 4 MiB at 1 MiB/s, 150 reads at 50/s (the first slice is free)
	[ -n "$s0" ] || skip "no io.pressure in the unified cgroup (PSI off): throttling itself not measured"
	[ $((s1 - s0)) -ge 1000000 ]
	[ $((s2 - s1)) -ge 1000000 ]
}

@test "cgroups: update changes a live limit" {
	run_detached_with '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 50}'
	run vsrun update --memory 134217728 --pids-limit 20 "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$(v1 memory)/memory.limit_in_bytes")" = 134217728 ]
	[ "$(cat "$(v1 pids)/pids.max")" = 20 ]
	echo '{"cpu": {"quota": 30000, "period": 100000}}' >"$TESTTMP/r.json"
	run vsrun update -r "$TESTTMP/r.json" "$ID"
	[ "$status" -eq 0 ]
	[ "$(cat "$(v1 cpu)/cpu.cfs_quota_us")" = 30000 ]
}

@test "cgroups: pause freezes every process, resume thaws" {
	run_detached_with '.process.args = ["sh","-c","sleep 1000 & sleep 1000 & sleep 1000"]'
	wait_for test "$(wc -l <"$(v1 freezer)/cgroup.procs")" -ge 3
	run vsrun pause "$ID"
	[ "$status" -eq 0 ]
	[ "$(cat "$(v1 freezer)/freezer.state")" = FROZEN ]
	[ "$(state_of "$ID")" = paused ]
	local p
	for p in $(cat "$(v1 freezer)/cgroup.procs"); do
		grep -q '^State:.*[DS]' /proc/$p/status
		grep -q 'frozen\|FROZEN' "$(v1 freezer)/freezer.state"
	done
	run vsrun resume "$ID"
	[ "$status" -eq 0 ]
	[ "$(cat "$(v1 freezer)/freezer.state")" = THAWED ]
	[ "$(state_of "$ID")" = running ]
}

@test "cgroups: delete leaves no cgroup directory" {
	run_detached_with '.linux.resources.memory = {"limit": 67108864}'
	[ -d "$(v1 memory)" ]
	run vsrun delete --force "$ID"
	[ "$status" -eq 0 ]
	local c
	for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
		[ ! -e "$(v1 $c)" ]
	done
}

@test "cgroups: a nested cgroupsPath is made and fully removed" {
	local top=vsrun-test-$$-$RANDOM
	run_detached_with ".linux.cgroupsPath = \"/$top/a/b\" | .linux.resources.pids = {\"limit\": 30}"
	local pid c
	pid=$(vsrun state "$ID" | jq .pid)
	for c in cpu memory pids freezer; do
		grep -q ":$c:/$top/a/b\$" /proc/$pid/cgroup
	done
	[ "$(cat /sys/fs/cgroup/pids/$top/a/b/pids.max)" = 30 ]
	run vsrun delete --force "$ID"
	[ "$status" -eq 0 ]
	for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
		[ ! -e "/sys/fs/cgroup/$c/$top" ] || { echo "left: /sys/fs/cgroup/$c/$top"; false; }
	done
}

@test "cgroups: a delegated cgroup holds the processes in every hierarchy, the limits stay above, delete removes both" {
	run_detached_with '.annotations["org.vserver.delegate-cgroup"] = "guest" | .linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 40}'
	local pid c
	pid=$(vsrun state "$ID" | jq .pid)
	# the cgroup namespace is rooted at the inner cgroup: "/" from inside
	for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
		grep -qx "$pid" "$(v1 $c)/guest/cgroup.procs"
		[ -z "$(cat "$(v1 $c)/cgroup.procs")" ]
		grep -q ":$c:/\$" <(vsrun exec "$ID" cat /proc/self/cgroup)
	done
	[ "$(cat "$(v1 memory)/memory.limit_in_bytes")" = 67108864 ]
	[ "$(cat "$(v1 pids)/pids.max")" = 40 ]
	[ "$(cat "$(v1 pids)/guest/pids.max")" = max ]
	# an exec'd process joins the inner cgroup, never the outer one
	vsrun exec "$ID" sh -c 'sleep 1000 </dev/null >/dev/null 2>&1 &'
	[ "$(wc -l <"$(v1 pids)/guest/cgroup.procs")" -ge 2 ]
	[ -z "$(cat "$(v1 pids)/cgroup.procs")" ]
	# live limits on the outer one; the inner one is bounded by it
	run vsrun update --pids-limit 20 "$ID"
	[ "$status" -eq 0 ]
	[ "$(cat "$(v1 pids)/pids.max")" = 20 ]
	run vsrun exec "$ID" sh -c 'i=0; while [ $i -lt 30 ]; do sleep 60 </dev/null >/dev/null 2>&1 & i=$((i + 1)); done; echo forked $i'
	[[ $output != *"forked 30"* ]]
	# v1 counts the refusal where the forking process is: the inner cgroup
	echo "# pids.events: outer $(cat "$(v1 pids)/pids.events"), inner $(cat "$(v1 pids)/guest/pids.events")" >&3
	[ "$(awk '{ print $2 }' "$(v1 pids)/guest/pids.events")" -ge 1 ]
	[ "$(cat "$(v1 pids)/pids.current")" -le 20 ]
	run vsrun delete --force "$ID"
	[ "$status" -eq 0 ]
	for c in /sys/fs/cgroup/*/vsrun/"$ID"; do
		[ ! -e "$c" ] || { echo "left: $c"; false; }
	done
}

@test "cgroups: a delegated cgroup is in every hierarchy the outer one is in (net_cls): the limit holds for init" {
	grep -q '^net_cls' /proc/cgroups || skip "the kernel has no net_cls controller"
	[ "$(netcls_hierarchy)" = 0 ] || skip "net_cls is a hierarchy on this host already: the test mounts its own"
	NETCLS=1
	# a net_cls hierarchy this host lacks, in a mount namespace of the test's
	# own: a tmpfs with the host's hierarchies bound in and net_cls mounted,
	# named by VS_CGROUP_ROOT; no cgroup mount inside the container
	jq_config '.annotations["org.vserver.delegate-cgroup"] = "guest" |
		.linux.resources.network = {"classID": 1048593} |
		.mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	run env TESTTMP="$TESTTMP" ROOT="$ROOT" BUNDLE="$BUNDLE" ID="$ID" \
		unshare -m --propagation private bash -c '
		set -e
		cg=$TESTTMP/cgroot
		mkdir -p "$cg" && mount -t tmpfs vstest "$cg"
		for c in /sys/fs/cgroup/*; do
			[ -d "$c" ] || continue
			mkdir "$cg/${c##*/}" && mount --bind "$c" "$cg/${c##*/}"
		done
		mkdir "$cg/net_cls" && mount -t cgroup -o net_cls vstest "$cg/net_cls"
		export VS_CGROUP_ROOT=$cg
		"$VSRUN" --root "$ROOT" run -d -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>"$TESTTMP/err" ||
			{ cat "$TESTTMP/err"; exit 1; }
		pid=$("$VSRUN" --root "$ROOT" state "$ID" | jq .pid)
		echo "cgroup: $(grep net_cls /proc/$pid/cgroup)"
		echo "outer classid: $(cat "$cg/net_cls/vsrun/$ID/net_cls.classid")"
		echo "inner classid: $(cat "$cg/net_cls/vsrun/$ID/guest/net_cls.classid" 2>&1)"
		echo "inner procs: $(cat "$cg/net_cls/vsrun/$ID/guest/cgroup.procs" 2>&1 | tr "\n" " ")"
		"$VSRUN" --root "$ROOT" delete --force "$ID"
		echo "left: $(ls "$cg/net_cls/vsrun" 2>/dev/null)"
		rmdir "$cg/net_cls/vsrun" 2>/dev/null || true
	'
	echo "$output"
	[ "$status" -eq 0 ]
	pid_line=$(grep '^cgroup:' <<<"$output")
	[[ $pid_line == *":net_cls:/vsrun/$ID/guest" ]]
	grep -qx "outer classid: 1048593" <<<"$output"
	grep -qx "inner classid: 1048593" <<<"$output"
	[[ $(grep '^inner procs:' <<<"$output") == "inner procs: "[0-9]* ]]
	grep -qx "left: " <<<"$output"
	drop_netcls
}

@test "cgroups: a delegated cgroup name that is not one path component is refused, leaving nothing" {
	local bad
	for bad in ../x a/b "" .; do
		jq_config ".annotations[\"org.vserver.delegate-cgroup\"] = \"$bad\""
		run vsrun create -b "$BUNDLE" "$ID"
		echo "$output"
		[ "$status" -ne 0 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ $output == *"org.vserver.delegate-cgroup"*"expected one path component"* ]]
		[ -z "$(ls -A "$ROOT")" ]
		[ -z "$(ls -d /sys/fs/cgroup/*/vsrun/"$ID" 2>/dev/null)" ]
	done
}

# oom_event_in TOP CONTAINER-LIMIT PARENT-LIMIT: a container under
# /TOP/c with its own memory limit and its parent /TOP's; `vsrun events`
# watches while a 128 MiB hog runs; prints the oom event
oom_event_in() {
	local top=$1 own=$2 parent=$3 c
	mkdir -p "/sys/fs/cgroup/memory/$top"
	echo "$parent" >"/sys/fs/cgroup/memory/$top/memory.limit_in_bytes"
	local res='{}'
	[ "$own" = - ] || res="{\"limit\": $own}"
	run_detached_with ".linux.cgroupsPath = \"/$top/c\" | .linux.resources.memory = $res"
	vsrun events --interval 60s "$ID" >"$TESTTMP/events" 2>&1 &
	local ev=$!
	sleep 0.3
	vsrun exec "$ID" sh -c 'x=$(head -c 134217728 /dev/zero | tr "\0" a); echo ${#x}' || true
	wait_for grep -q '"type":"oom"' "$TESTTMP/events" || true
	kill "$ev" 2>/dev/null; wait "$ev" 2>/dev/null || true
	cat "$TESTTMP/events" >&2
	grep '"type":"oom"' "$TESTTMP/events" | head -n 1
}

@test "cgroups: events names the container's own cgroup when its memory limit fires" {
	local ev
	TOP=vstest-oom-$$-$RANDOM
	ev=$(oom_event_in "$TOP" 33554432 268435456)
	echo "event: $ev"
	[ "$(echo "$ev" | jq -r .id)" = "$ID" ]
	[ "$(echo "$ev" | jq -r .data.cgroup)" = "/$TOP/c" ]
	[ "$(echo "$ev" | jq -r .data.own)" = true ]
	[ "$(echo "$ev" | jq -r .data.limit)" = 33554432 ]
	[ "$(echo "$ev" | jq -r .data.kills)" -ge 1 ]
}

@test "cgroups: events names the parent cgroup when the parent's memory limit fires" {
	local ev
	TOP=vstest-oom-$$-$RANDOM
	ev=$(oom_event_in "$TOP" 268435456 33554432)
	echo "event: $ev"
	[ "$(echo "$ev" | jq -r .data.cgroup)" = "/$TOP" ]
	[ "$(echo "$ev" | jq -r .data.own)" = false ]
	[ "$(echo "$ev" | jq -r .data.limit)" = 33554432 ]
	[ "$(echo "$ev" | jq -r .data.kills)" -ge 1 ]
}

@test "cgroups: realtime cpu time beyond the parent's is refused naming the parent" {
	[ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] || skip "LOUD: no cpu.rt_runtime_us: this kernel lacks CONFIG_RT_GROUP_SCHED, realtime limits not exercised"
	jq_config '.linux.resources.cpu = {"realtimeRuntime": 10000, "realtimePeriod": 100000}'
	run vsrun run -d -b "$BUNDLE" "$ID" </dev/null
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$output" = "vsrun: cgroup: cpu.realtimeRuntime 10000 per 100000 us does not fit in the parent cgroup's realtime time (/sys/fs/cgroup/cpu/vsrun: cpu.rt_runtime_us 0 per 1000000 us); raise the parent's first" ]
	[ ! -e "$(v1 cpu)" ] && [ ! -e "$(v1 memory)" ]
}

@test "cgroups: realtime cpu time within the parent's is written and lets a SCHED_FIFO process run; without it SCHED_FIFO is refused" {
	[ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] || skip "LOUD: no cpu.rt_runtime_us: this kernel lacks CONFIG_RT_GROUP_SCHED, realtime limits not exercised"
	local top=vstest-rt-$$-$RANDOM
	TOP=$top
	mkdir "/sys/fs/cgroup/cpu/$top"
	echo 50000 >"/sys/fs/cgroup/cpu/$top/cpu.rt_runtime_us"
	jq_config ".linux.cgroupsPath = \"/$top/c\"
		| .linux.resources.cpu = {\"realtimeRuntime\": 5000, \"realtimePeriod\": 100000}
		| .process.scheduler = {\"policy\": \"SCHED_FIFO\", \"priority\": 10}
		| .process.args = [\"sleep\", \"1000\"]"
	local status=0
	vsrun_detached -b "$BUNDLE" "$ID" || status=$?
	echo "with realtime time: $status"
	local rp rr pol=
	rp=$(cat "/sys/fs/cgroup/cpu/$top/c/cpu.rt_period_us" 2>&1)
	rr=$(cat "/sys/fs/cgroup/cpu/$top/c/cpu.rt_runtime_us" 2>&1)
	[ "$status" -ne 0 ] || pol=$(grep -E '^policy' "/proc/$(vsrun state "$ID" | jq .pid)/sched")
	echo "rt_period_us $rp, rt_runtime_us $rr, $pol"
	vsrun delete --force "$ID" >/dev/null 2>&1 || true
	# the same process with no realtime time in its cgroup: the kernel says no
	jq_config 'del(.linux.resources.cpu)'
	local st2 out2
	out2=$(vsrun run -b "$BUNDLE" "$ID-b" 2>&1 </dev/null) && st2=0 || st2=$?
	echo "without: $st2 $out2"
	[ "$status" -eq 0 ]
	# SCHED_FIFO is policy 1 in /proc/PID/sched
	[[ "$pol" =~ policy[[:space:]]*:[[:space:]]*1$ ]]
	[ "$rp" = 100000 ] && [ "$rr" = 5000 ]
	[ "$st2" -ne 0 ]
	[[ "$out2" == *"sched_setattr policy 1 priority 10"*"EPERM"* ]]
}

@test "cgroups: rdma limits on a kernel without the rdma controller are refused naming why" {
	grep -qw '^rdma' /proc/cgroups && skip "LOUD: this kernel has the rdma controller: the refusal is not exercised here (rdma.max is, in check-vm)"
	jq_config '.linux.resources.rdma = {"mlx5_0": {"hcaHandles": 3, "hcaObjects": 100}}'
	run vsrun run -d -b "$BUNDLE" "$ID" </dev/null
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$output" = "vsrun: cgroup: the rdma controller is not in this kernel (not in /proc/cgroups: built without CONFIG_CGROUP_RDMA)" ]
	[ ! -e "$(v1 cpu)" ] && [ ! -e "$(v1 memory)" ]
}

# create_refused: a vsrun create that must fail with one line, which is
# left in $output (through a file: a create that wrongly succeeds must fail
# the test, not hang it on a pipe the container holds open)
create_refused() {
	local st=0
	vsrun create -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>"$TESTTMP/create.err" || st=$?
	output=$(cat "$TESTTMP/create.err")
	echo "$output"
	[ "$st" -ne 0 ]
	[ "$(wc -l <"$TESTTMP/create.err")" -eq 1 ]
}

# kmem_kept: true if this kernel keeps a v1 kmem limit (probed in a
# throwaway cgroup: newer kernels accept the write and keep no limit)
kmem_kept() {
	local d=/sys/fs/cgroup/memory/vstest-kmem-$$ v
	mkdir "$d"
	echo 12582912 >"$d/memory.kmem.limit_in_bytes" 2>/dev/null || true
	v=$(cat "$d/memory.kmem.limit_in_bytes" 2>/dev/null || true)
	rmdir "$d"
	[ "$v" = 12582912 ]
}

@test "cgroups: a memory.kernel limit the kernel does not keep is refused at create, leaving no cgroup and no state" {
	jq_config '.linux.resources.memory = {"limit": 67108864, "kernel": 12582912}'
	if kmem_kept; then
		echo "# this kernel keeps kmem limits: checking that it is applied instead" >&3
		vsrun_detached -b "$BUNDLE" "$ID"
		[ "$(cat "$(v1 memory)/memory.kmem.limit_in_bytes")" = 12582912 ]
		return
	fi
	create_refused
	[[ $output == "vsrun: cgroup: memory.kernel: not supported on this host ("* ]]
	if [ -e /sys/fs/cgroup/memory/memory.kmem.limit_in_bytes ]; then
		[[ $output == *"keeps no limit: 12582912 reads back as "* ]]
	fi
	[ -z "$(ls -A "$ROOT")" ]
	[ -z "$(ls -d /sys/fs/cgroup/*/vsrun/"$ID" 2>/dev/null)" ]
}

@test "cgroups: update with a memory.kernel limit the kernel does not keep is refused and changes nothing" {
	run_detached_with '.linux.resources.memory = {"limit": 67108864}'
	kmem_kept && skip "LOUD: this kernel keeps kmem limits: the refusal at update is not exercised here"
	echo '{"memory": {"limit": 134217728, "kernel": 12582912}}' >"$TESTTMP/r.json"
	run vsrun update -r "$TESTTMP/r.json" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == "vsrun: cgroup: memory.kernel: not supported on this host ("* ]]
	# refused before any other write: the memory limit is the old one
	[ "$(cat "$(v1 memory)/memory.limit_in_bytes")" = 67108864 ]
	run vsrun update --kernel-memory 12582912 "$ID"
	[ "$status" -ne 0 ]
	[[ $output == *"memory.kernel: not supported on this host"* ]]
	[ "$(state_of "$ID")" = running ]
}

@test "cgroups: memory.kernelTCP is still applied (create and update) where the kernel keeps it" {
	local d=/sys/fs/cgroup/memory/vstest-kmemtcp-$$ v
	mkdir "$d"
	echo 8388608 >"$d/memory.kmem.tcp.limit_in_bytes" 2>/dev/null || true
	v=$(cat "$d/memory.kmem.tcp.limit_in_bytes" 2>/dev/null || true)
	rmdir "$d"
	[ "$v" = 8388608 ] || skip "LOUD: this kernel does not keep memory.kmem.tcp.limit_in_bytes (reads \"$v\"): kernelTCP is refused here"
	run_detached_with '.linux.resources.memory = {"limit": 67108864, "kernelTCP": 8388608}'
	[ "$(cat "$(v1 memory)/memory.kmem.tcp.limit_in_bytes")" = 8388608 ]
	run vsrun update --kernel-memory-tcp 16777216 "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$(v1 memory)/memory.kmem.tcp.limit_in_bytes")" = 16777216 ]
}

# hugetlb_ready: skips loudly unless this host is the hybrid kind whose
# hugetlb lives on cgroup2, and makes sure 4 huge pages of 2 MiB are free
# (raising vm.nr_hugepages for the test; teardown puts it back)
hugetlb_ready() {
	local u=/sys/fs/cgroup/unified free
	[ -d /sys/fs/cgroup/hugetlb ] && skip "LOUD: this host has a v1 hugetlb hierarchy: the hybrid cgroup2 placement is not exercised"
	grep -qw hugetlb "$u/cgroup.controllers" 2>/dev/null ||
		skip "LOUD: no hugetlb in $u/cgroup.controllers: hugepage limits cannot be given on this host"
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "LOUD: this kernel has no 2 MiB huge pages"
	grep -qw hugetlb "$u/cgroup.subtree_control" || UNI_SC_OFF=1
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	if [ "$free" -lt 4 ]; then
		HP_OLD=$(cat /proc/sys/vm/nr_hugepages)
		echo $((HP_OLD + 4 - free)) >/proc/sys/vm/nr_hugepages || true
		free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
		[ "$free" -ge 4 ] || skip "LOUD: could not reserve 4 free 2 MiB huge pages (HugePages_Free $free): the limit is not felt"
	fi
	cc -static -O2 -Wall -Wextra -Werror -o "$BUNDLE/rootfs/bin/hugemap" "$BATS_TEST_DIRNAME/tools/hugemap.c"
}

@test "cgroups: hugepageLimits on the hybrid's cgroup2: the limit reads back and is felt, stats count it, update raises it, delete removes the cgroup" {
	hugetlb_ready
	# outside any limit 3 pages map, so what fails inside is the limit
	run "$BUNDLE/rootfs/bin/hugemap" 3
	[ "$output" = "mapped 3" ]
	run_detached_with '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	local d=/sys/fs/cgroup/unified/vsrun/$ID
	[ "$(cat "$d/hugetlb.2MB.max")" = 4194304 ]
	[ ! -e "$d/hugetlb.2MB.rsvd.max" ] || [ "$(cat "$d/hugetlb.2MB.rsvd.max")" = 4194304 ]
	grep -qw hugetlb /sys/fs/cgroup/unified/vsrun/cgroup.subtree_control
	run vsrun exec "$ID" hugemap 2
	[ "$output" = "mapped 2" ]
	run vsrun exec "$ID" hugemap 3
	echo "$output"
	[ "$status" -ne 0 ]
	# refused at mmap (rsvd.max) or killed at the touch (max alone)
	[[ $output == "mmap 3 x 2048 KiB: Cannot allocate memory" || $output == *"killed by signal 7" ]]
	run vsrun events --stats "$ID"
	echo "$output"
	[ "$(echo "$output" | jq '.data.hugetlb["2MB"].failcnt')" -ge 1 ]
	[ "$(echo "$output" | jq '.data.hugetlb["2MB"].usage')" = 0 ]
	echo '{"hugepageLimits": [{"pageSize": "2MB", "limit": 6291456}]}' >"$TESTTMP/r.json"
	run vsrun update -r "$TESTTMP/r.json" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$d/hugetlb.2MB.max")" = 6291456 ]
	run vsrun exec "$ID" hugemap 3
	[ "$output" = "mapped 3" ]
	run vsrun delete --force "$ID"
	[ "$status" -eq 0 ]
	[ ! -e "$d" ]
	[ -z "$(ls -d /sys/fs/cgroup/*/vsrun/"$ID" 2>/dev/null)" ]
	# the unified root as it was, once no cgroup is left below it (others'
	# containers may be running: then it must stay enabled for them)
	if [ -n "${UNI_SC_OFF:-}" ]; then
		if [ -z "$(find /sys/fs/cgroup/unified -mindepth 1 -maxdepth 1 -type d)" ]; then
			! grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control
		else
			echo "# other cgroups below the unified root: hugetlb left enabled for them" >&3
		fi
	fi
}

@test "cgroups: a hugepage size the host lacks is refused on the hybrid's cgroup2, leaving no cgroup and no state" {
	hugetlb_ready
	jq_config '.linux.resources.hugepageLimits = [{"pageSize": "64KB", "limit": 65536}]'
	create_refused
	[ "$output" = "vsrun: cgroup: hugepageLimits: 64KB: not supported on this host (no hugetlb.64KB.max)" ]
	[ -z "$(ls -A "$ROOT")" ]
	[ -z "$(ls -d /sys/fs/cgroup/*/vsrun/"$ID" 2>/dev/null)" ]
	if [ -n "${UNI_SC_OFF:-}" ] && [ -z "$(find /sys/fs/cgroup/unified -mindepth 1 -maxdepth 1 -type d)" ]; then
		! grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control
	fi
}
