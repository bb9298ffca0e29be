#!/usr/bin/env bats
# Crash safety: vsrun killed with SIGKILL at each step of create and during a
# foreground run leaves only what `delete --force` removes completely; and
# concurrent calls on one container are safe.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# cg_tasks ID: every pid in the container's cgroups (all v1 hierarchies)
cg_tasks() { cat /sys/fs/cgroup/*/vsrun/"$1"/cgroup.procs 2>/dev/null | sort -u; }

is_status() { [ "$(state_of "$1" 2>/dev/null)" = "$2" ]; }
has_tasks() { [ "$(cg_tasks "$1" | wc -l)" -ge "$2" ]; }

# gone ID: no state, no cgroup, no process, not listed
gone() {
	local id=$1 d
	[ ! -e "$ROOT/$id" ]
	for d in /sys/fs/cgroup/*/vsrun/"$id"; do [ ! -e "$d" ] || { echo "left: $d"; return 1; }; done
	! grep -q " $BUNDLE" /proc/self/mountinfo
	! vsrun list | grep -q "^$id "
}

# kill_while_hook KIND: vsrun create blocks in a KIND hook; kill -9 vsrun.
kill_while_hook() {
	local kind=$1 mark=$TESTTMP/hook-$1
	local script="echo \$\$ >$mark.tmp; mv $mark.tmp $mark; exec sleep 60"
	jq_config ".hooks = {\"$kind\": [{\"path\": \"/bin/sh\", \"args\": $(jq -cn --arg s "$script" '["sh","-c",$s]')}]}"
	"$VSRUN" --root "$ROOT" create -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 &
	local vp=$!
	wait_for test -e "$mark"
	kill -9 $vp
	wait $vp || true
	# the container's init dies with its parent (pdeathsig); whatever is
	# left, delete --force removes
	run vsrun list
	[ "$status" -eq 0 ]
	run vsrun state "$ID"
	[ "$status" -eq 0 ]
	local st
	st=$(jq -r .status <<<"$output")
	[ "$st" = creating ] || [ "$st" = stopped ]
	run vsrun delete --force "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	gone "$ID"
	# the hook itself did not outlive the runtime
	local hp
	hp=$(cat "$mark")
	[ -n "$hp" ]
	wait_for sh -c "! kill -0 $hp 2>/dev/null"
}

@test "crash: kill -9 of vsrun create while a createRuntime hook runs" {
	kill_while_hook createRuntime
}

@test "crash: kill -9 of vsrun create while a prestart hook runs" {
	kill_while_hook prestart
}

@test "crash: kill -9 of vsrun create before the container init is cloned (strace)" {
	command -v strace >/dev/null || skip "strace is not installed"
	# stop vsrun at the mkfifo of the exec fifo: the state and cgroup exist
	local out=$TESTTMP/strace.out
	strace -f -o "$out" -e trace=mknodat,mknod -e inject=mknodat,mknod:signal=SIGKILL \
		"$VSRUN" --root "$ROOT" create -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 || true
	[ -d "$ROOT/$ID" ]
	run vsrun list
	[ "$status" -eq 0 ]
	run vsrun delete --force "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	gone "$ID"
}

@test "crash: create returns, the init is killed before start; delete --force cleans" {
	# (the init inherits stdio: keep it off bats' pipes)
	vsrun create -b "$BUNDLE" "$ID" </dev/null >/dev/null
	local pid
	pid=$(vsrun state "$ID" | jq .pid)
	[ -n "$(cg_tasks "$ID")" ]
	kill -9 "$pid"
	wait_for is_status "$ID" stopped
	run vsrun start "$ID"
	[ "$status" -ne 0 ]
	run vsrun delete --force "$ID"
	[ "$status" -eq 0 ]
	gone "$ID"
}

@test "crash: kill -9 of a foreground vsrun run leaves a running container that delete --force removes" {
	jq_config '.process.args = ["sh","-c","sleep 1000 & sleep 1000"]'
	"$VSRUN" --root "$ROOT" run -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 &
	local vp=$!
	wait_for is_status "$ID" running
	wait_for has_tasks "$ID" 2
	local pids
	pids=$(cg_tasks "$ID")
	kill -9 $vp
	wait $vp || true
	run vsrun list
	[ "$status" -eq 0 ]
	[[ "$output" == *"$ID"* ]]
	run vsrun delete --force "$ID"
	[ "$status" -eq 0 ]
	gone "$ID"
	local p
	for p in $pids; do ! kill -0 "$p" 2>/dev/null; done
}

@test "crash: 10 parallel start/kill/state calls on one container are safe" {
	# (the init inherits stdio: keep it off bats' pipes)
	vsrun create -b "$BUNDLE" "$ID" </dev/null >/dev/null
	local i
	for i in $(seq 10); do
		case $((i % 3)) in
		0) vsrun start "$ID" >"$TESTTMP/p$i.out" 2>&1 & ;;
		1) vsrun state "$ID" >"$TESTTMP/p$i.out" 2>&1 & ;;
		2) vsrun kill "$ID" 0 >"$TESTTMP/p$i.out" 2>&1 & ;;
		esac
	done
	wait
	# exactly one start won
	local ok=0
	for i in 3 6 9; do grep -q . "$TESTTMP/p$i.out" || ok=$((ok + 1)); done
	[ "$ok" -eq 1 ]
	for i in 1 4 7 10; do jq -e .status "$TESTTMP/p$i.out" >/dev/null; done
	[ "$(state_of "$ID")" = running ]
	for i in $(seq 10); do vsrun kill "$ID" KILL 2>/dev/null & done
	wait
	wait_for is_status "$ID" stopped
	run vsrun delete "$ID"
	[ "$status" -eq 0 ]
	gone "$ID"
}

@test "crash: 5 parallel creates of one id: exactly one succeeds" {
	local i
	for i in $(seq 5); do
		vsrun create -b "$BUNDLE" "$ID" </dev/null >"$TESTTMP/c$i.out" 2>&1 &
	done
	wait
	local ok=0 exists=0
	for i in $(seq 5); do
		cat "$TESTTMP/c$i.out"
		if [ ! -s "$TESTTMP/c$i.out" ]; then ok=$((ok + 1))
		elif grep -q "already exists" "$TESTTMP/c$i.out"; then exists=$((exists + 1)); fi
	done
	[ "$ok" -eq 1 ]
	[ "$exists" -eq 4 ]
	[ "$(state_of "$ID")" = created ]
	run vsrun delete --force "$ID"
	[ "$status" -eq 0 ]
	gone "$ID"
}

@test "crash: state.json is always valid JSON while containers come and go" {
	local stop=$TESTTMP/stop i
	(
		for i in $(seq 8); do
			vsrun create -b "$BUNDLE" "$ID-$i" >/dev/null 2>&1
			vsrun start "$ID-$i" >/dev/null 2>&1
			vsrun delete --force "$ID-$i" >/dev/null 2>&1
		done
		touch "$stop"
	) &
	local bad=0 n=0 f
	while [ ! -e "$stop" ]; do
		for f in "$ROOT"/*/state.json; do
			[ -e "$f" ] || continue
			local s
			s=$(cat "$f" 2>/dev/null) || continue   # deleted under us
			n=$((n + 1))
			jq -e .id <<<"$s" >/dev/null 2>&1 || { echo "bad: $s"; bad=$((bad + 1)); }
		done
		run vsrun list --format json
		[ "$status" -eq 0 ] || { echo "$output"; bad=$((bad + 1)); }
	done
	wait
	echo "read $n state files"
	[ "$bad" -eq 0 ]
	for i in $(seq 8); do gone "$ID-$i"; done
}
