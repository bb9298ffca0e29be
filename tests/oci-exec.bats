#!/usr/bin/env bats
# vsrun exec: a new process in a running container, with every option.

load helpers

setup() {
	setup_bundle
	vsrun run -d --bundle "$BUNDLE" "$ID"
	IPID=$(vsrun state "$ID" | jq -r .pid)
}
teardown() { teardown_bundle; }

@test "exec: args reach the process, stdout comes back" {
	run vsrun exec "$ID" echo one two "three four"
	[ "$status" -eq 0 ]
	[ "$output" = "one two three four" ]
	run vsrun exec "$ID" sh -c 'echo $#' x a b c
	[ "$output" = 3 ]
}

@test "exec: the exit status propagates, a signal gives 128+sig" {
	run vsrun exec "$ID" sh -c 'exit 42'
	[ "$status" -eq 42 ]
	run vsrun exec "$ID" sh -c 'kill -KILL $$'
	[ "$status" -eq 137 ]
	run vsrun exec "$ID" /no/such/binary
	[ "$status" -ne 0 ]
	[[ "$output" == *"/no/such/binary"* ]]
}

@test "exec -e: sets and overrides environment variables" {
	run vsrun exec -e FOO=bar -e PATH=/bin:/usr/bin -e EMPTY= "$ID" env
	[ "$status" -eq 0 ]
	[[ "$output" == *"FOO=bar"* ]]
	[[ "$output" == *"EMPTY="* ]]
	[ "$(echo "$output" | grep -c '^PATH=')" -eq 1 ]
	echo "$output" | grep -qx 'PATH=/bin:/usr/bin'
}

@test "exec --cwd: the working directory" {
	run vsrun exec --cwd /etc "$ID" pwd
	[ "$status" -eq 0 ]
	[ "$output" = /etc ]
	run vsrun exec --cwd /no/such/dir "$ID" pwd
	[ "$status" -ne 0 ]
	[[ "$output" == *"/no/such/dir"* ]]
}

@test "exec -u 1000:1000: id shows it" {
	run vsrun exec -u 1000:1000 "$ID" id
	[ "$status" -eq 0 ]
	[[ "$output" == "uid=1000 gid=1000"* ]]
	run vsrun exec -u 1000 "$ID" id -u
	[ "$output" = 1000 ]
	run vsrun exec -u 1000:1000 -g 44 "$ID" id -G
	[[ " $output " == *" 44 "* ]]
	run vsrun exec -u abc "$ID" id
	[ "$status" -ne 0 ]
	[[ "$output" == *"--user"* ]]
}

@test "exec --cap: adds a capability to the effective set" {
	# the default spec has no CAP_SYS_ADMIN (bit 21)
	eff=$(vsrun exec "$ID" sh -c 'grep CapEff /proc/self/status' | awk '{print $2}')
	[ $((0x$eff >> 21 & 1)) -eq 0 ]
	eff=$(vsrun exec --cap CAP_SYS_ADMIN "$ID" sh -c 'grep CapEff /proc/self/status' | awk '{print $2}')
	[ $((0x$eff >> 21 & 1)) -eq 1 ]
	run vsrun exec --cap CAP_NOPE "$ID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *CAP_NOPE* ]]
}

@test "exec -d --pid-file: detached, the pid is the process" {
	vsrun exec -d --pid-file "$TESTTMP/epid" "$ID" sleep 777
	epid=$(cat "$TESTTMP/epid")
	grep -q 777 "/proc/$epid/cmdline"
	vsrun ps --format json "$ID" | jq -e --argjson e "$epid" 'index($e) != null'
}

@test "exec --pid-file: written for a foreground exec too" {
	run vsrun exec --pid-file "$TESTTMP/fpid" "$ID" sh -c 'echo $PPID'
	[ "$status" -eq 0 ]
	[ -s "$TESTTMP/fpid" ]
	[ "$(cat "$TESTTMP/fpid")" -gt 1 ]
}

@test "exec -p process.json: the process from a file and from stdin" {
	cat >"$TESTTMP/p.json" <<-'EOF'
	{"args":["sh","-c","echo $X; pwd; id -u"],"env":["X=from-json","PATH=/bin"],"cwd":"/tmp","user":{"uid":1234,"gid":1234}}
	EOF
	run vsrun exec -p "$TESTTMP/p.json" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = from-json ]
	[ "${lines[1]}" = /tmp ]
	[ "${lines[2]}" = 1234 ]
	run vsrun exec -p - "$ID" <"$TESTTMP/p.json"
	[ "${lines[0]}" = from-json ]
	echo '{"args":' >"$TESTTMP/bad.json"
	run vsrun exec -p "$TESTTMP/bad.json" "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "exec: joins the init's pid/mnt/net/uts/ipc namespaces and cgroup" {
	vsrun exec -d --pid-file "$TESTTMP/epid" "$ID" sleep 555
	epid=$(cat "$TESTTMP/epid")
	for ns in pid mnt net uts ipc; do
		[ "$(readlink "/proc/$epid/ns/$ns")" = "$(readlink "/proc/$IPID/ns/$ns")" ]
		# and they are not the host's
		[ "$(readlink "/proc/$epid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ]
	done
	diff <(sort "/proc/$IPID/cgroup") <(sort "/proc/$epid/cgroup")
	grep -q "memory:/vsrun/$ID" "/proc/$epid/cgroup"
	# and the container sees it as its own process
	run vsrun exec "$ID" sh -c 'ls /proc | grep -c "^[0-9]"'
	[ "$output" -ge 3 ]
}

@test "exec: into a stopped container is refused" {
	vsrun kill "$ID" KILL
	wait_for status_is "$ID" stopped
	run vsrun exec "$ID" true
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *stopped* ]]
}

@test "exec: into a paused container is refused" {
	vsrun pause "$ID"
	run vsrun exec "$ID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *paused* ]]
	vsrun resume "$ID"
}

@test "exec: a container that does not exist" {
	run vsrun exec "nosuch-$ID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "exec --preserve-fds: fds 3.. reach the process, others do not" {
	echo preserved-content >"$TESTTMP/fd3"
	echo other-content >"$TESTTMP/fd4"
	run vsrun exec --preserve-fds 1 "$ID" sh -c 'cat <&3; test -e /proc/$$/fd/4 && echo has4 || echo no4' 3<"$TESTTMP/fd3" 4<"$TESTTMP/fd4"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = preserved-content ]
	# fd 4 was not passed
	[ "${lines[1]}" = no4 ]
	run vsrun exec "$ID" sh -c 'cat <&3' 3<"$TESTTMP/fd3"
	[ "$status" -ne 0 ]
}

@test "exec: no command is a usage error" {
	run vsrun exec "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *usage* ]]
}

@test "exec --no-new-privs: NoNewPrivs follows the process" {
	# the spec's default process has noNewPrivileges: exec inherits it
	run vsrun exec "$ID" grep NoNewPrivs /proc/self/status
	[[ "$output" == *"1" ]]
	echo '{"args":["grep","NoNewPrivs","/proc/self/status"],"cwd":"/","user":{"uid":0,"gid":0}}' >"$TESTTMP/p.json"
	run vsrun exec -p "$TESTTMP/p.json" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0" ]]
	run vsrun exec --no-new-privs -p "$TESTTMP/p.json" "$ID"
	[[ "$output" == *"1" ]]
}
