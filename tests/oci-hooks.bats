#!/usr/bin/env bats
# OCI hooks: all six kinds, their order, the state on stdin, failures and
# timeouts.

load helpers

setup() {
	setup_bundle
	LOGDIR=$TESTTMP/hooklog
	mkdir -p "$LOGDIR"
	LOG=$LOGDIR/log
	: >"$LOG"
	# a host hook: "kind status pid" from the state on stdin, via jq
	cat >"$TESTTMP/hook.sh" <<-EOF
	#!/bin/sh
	jq -r --arg k "\$1" '"\(\$k) \(.status) \(.pid)"' >>"$LOG"
	EOF
	chmod +x "$TESTTMP/hook.sh"
	# a container hook (startContainer resolves in the container: no jq
	# there): the status by sed, into the bind-mounted log directory
	cat >"$BUNDLE/rootfs/bin/inhook" <<-'EOF'
	#!/bin/sh
	read -r s
	st=$(echo "$s" | sed 's/.*"status":"\([a-z]*\)".*/\1/')
	pid=$(echo "$s" | sed 's/.*"pid":\([0-9]*\).*/\1/')
	echo "$1 $st $pid inside=$(cat /etc/inside-marker 2>/dev/null)" >>/hooklog/log
	EOF
	chmod +x "$BUNDLE/rootfs/bin/inhook"
	echo yes >"$BUNDLE/rootfs/etc/inside-marker"
	jqc --arg d "$LOGDIR" '.mounts += [{"destination":"/hooklog","type":"bind","source":$d,"options":["rbind","rw"]}]'
}
teardown() { teardown_bundle; }

# jqc JQ-ARGS... FILTER: jq_config with --arg/--argjson
jqc() {
	local tmp=$BUNDLE/config.json.new
	jq "$@" "$BUNDLE/config.json" >"$tmp" && mv "$tmp" "$BUNDLE/config.json"
}

hook() { # hook KIND -> a hook object calling hook.sh KIND
	jq -n --arg p "$TESTTMP/hook.sh" --arg k "$1" '{"path":$p,"args":["hook.sh",$k],"env":["PATH=/usr/bin:/bin"]}'
}

@test "hooks: all six run in order with the right status on stdin" {
	jqc --argjson pre "$(hook prestart)" --argjson cr "$(hook createRuntime)" \
		--argjson cc "$(hook createContainer)" --argjson ps "$(hook poststart)" \
		--argjson pst "$(hook poststop)" \
		'.hooks = {"prestart":[$pre],"createRuntime":[$cr],"createContainer":[$cc],
		  "startContainer":[{"path":"/bin/inhook","args":["inhook","startContainer"]}],
		  "poststart":[$ps],"poststop":[$pst]}'
	vsrun create --bundle "$BUNDLE" "$ID"
	pid=$(vsrun state "$ID" | jq -r .pid)
	run cat "$LOG"
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "prestart created $pid" ]
	[ "${lines[1]}" = "createRuntime created $pid" ]
	[ "${lines[2]}" = "createContainer created $pid" ]
	vsrun start "$ID"
	run cat "$LOG"
	[ "${#lines[@]}" -eq 5 ]
	# startContainer ran inside the container (it saw the container's /etc)
	[ "${lines[3]}" = "startContainer creating $pid inside=yes" ] ||
		[ "${lines[3]}" = "startContainer created $pid inside=yes" ]
	[ "${lines[4]}" = "poststart running $pid" ]
	vsrun kill "$ID" KILL
	wait_for status_is "$ID" stopped
	vsrun delete "$ID"
	run cat "$LOG"
	[ "${#lines[@]}" -eq 6 ]
	[[ "${lines[5]}" == "poststop stopped "* ]]
}

@test "hooks: a hook sees env and args exactly as given" {
	cat >"$TESTTMP/envhook.sh" <<-EOF
	#!/bin/sh
	echo "args=\$*" >>"$LOG"
	env | grep -v '^PWD=' | sort >>"$LOG"
	EOF
	chmod +x "$TESTTMP/envhook.sh"
	jqc --arg p "$TESTTMP/envhook.sh" \
		'.hooks.prestart = [{"path":$p,"args":["envhook","a","b"],"env":["FOO=bar"]}]'
	vsrun create --bundle "$BUNDLE" "$ID"
	# only the config's env: not the runtime's (no PATH, no HOME)
	[ "$(cat "$LOG")" = "$(printf 'args=a b\nFOO=bar')" ]
}

@test "hooks: a failing createRuntime hook fails create and leaves nothing" {
	jq_config '.hooks.createRuntime = [{"path":"/bin/sh","args":["sh","-c","echo hook-said-no; exit 5"]}]'
	run vsrun create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *createRuntime* ]]
	[[ "$output" == *"status 5"* ]]
	[[ "$output" == *hook-said-no* ]]
	[ ! -e "$ROOT/$ID" ]
	for c in memory pids cpu freezer devices; do
		[ ! -d "/sys/fs/cgroup/$c/vsrun/$ID" ]
	done
	run vsrun state "$ID"
	[ "$status" -ne 0 ]
}

@test "hooks: a failing prestart hook fails run and kills the init" {
	jq_config '.hooks.prestart = [{"path":"/bin/false"}]'
	run vsrun run --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *prestart* ]]
	[ ! -e "$ROOT/$ID" ]
	[ ! -d "/sys/fs/cgroup/memory/vsrun/$ID" ]
}

@test "hooks: a failing createContainer hook fails create" {
	jq_config '.hooks.createContainer = [{"path":"/bin/false"}]'
	run vsrun create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *createContainer* ]]
	[ ! -e "$ROOT/$ID" ]
	[ ! -d "/sys/fs/cgroup/memory/vsrun/$ID" ]
}

@test "hooks: a hook that outlives its timeout is killed and fails create" {
	jq_config '.hooks.createRuntime = [{"path":"/bin/sleep","args":["sleep","100"],"timeout":1}]'
	run vsrun create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"timed out"* ]]
	[ ! -e "$ROOT/$ID" ]
	# the hook's sleep is gone too
	run pgrep -f "^/bin/sleep 100$|^sleep 100$"
	[ "$status" -ne 0 ]
}

@test "hooks: a failing poststart hook is only a warning" {
	jq_config '.hooks.poststart = [{"path":"/bin/false"}]'
	vsrun create --bundle "$BUNDLE" "$ID"
	run vsrun start "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *warning*poststart* ]]
	[ "$(state_of "$ID")" = running ]
}

@test "hooks: poststop runs once, on delete of a stopped container" {
	jqc --argjson pst "$(hook poststop)" '.process.args = ["true"] | .hooks.poststop = [$pst]'
	vsrun run --keep --bundle "$BUNDLE" "$ID"
	[ ! -s "$LOG" ]
	vsrun delete "$ID"
	run cat "$LOG"
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "poststop stopped "* ]]
}

@test "hooks: a hook with a relative path is refused" {
	jq_config '.hooks.prestart = [{"path":"false"}]'
	run vsrun create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$ROOT/$ID" ]
}
