#!/usr/bin/env bats
# process.terminal: the pty sent to --console-socket, the proxy of `run`.

load helpers

setup_file() {
	export RECVTTY=$BATS_FILE_TMPDIR/recvtty
	cc -Wall -Wextra -Werror -O2 -o "$RECVTTY" "$BATS_TEST_DIRNAME/tools/recvtty.c"
}

setup() {
	setup_bundle
	SOCK=$TESTTMP/console.sock
}
teardown() {
	[ -n "${RPID:-}" ] && kill "$RPID" 2>/dev/null
	teardown_bundle
}

# start_recvtty [INPUT]: recvtty in the background, output in $TESTTMP/tty.out
start_recvtty() {
	"$RECVTTY" "$SOCK" "$@" >"$TESTTMP/tty.out" 2>"$TESTTMP/tty.err" &
	RPID=$!
	wait_for test -S "$SOCK"
}

@test "console: the process has a pty as stdio, /dev/pts/0, /dev/console" {
	jq_config '.process.terminal = true |
		.process.args = ["sh","-c","tty; test -t 0 && test -t 1 && echo stdio-is-tty; test -t 3 3<>/dev/console && echo console-is-tty"]'
	start_recvtty
	vsrun run -d --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
	wait "$RPID"
	RPID=
	tr -d '\r' <"$TESTTMP/tty.out" >"$TESTTMP/tty.txt"
	cat "$TESTTMP/tty.txt"
	grep -qx /dev/pts/0 "$TESTTMP/tty.txt"
	grep -qx stdio-is-tty "$TESTTMP/tty.txt"
	grep -qx console-is-tty "$TESTTMP/tty.txt"
	grep -q "got /dev/pts/" "$TESTTMP/tty.err"
}

@test "console: input written to the master reaches the process" {
	jq_config '.process.terminal = true | .process.args = ["sh","-c","read -r line; echo got:$line"]'
	start_recvtty $'hello-input\n'
	vsrun create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
	vsrun start "$ID"
	wait "$RPID"
	RPID=
	grep -q "got:hello-input" "$TESTTMP/tty.out"
}

@test "console: consoleSize sets the window size" {
	jq_config '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 111} |
		.process.args = ["stty","size"]'
	start_recvtty
	vsrun run -d --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
	wait "$RPID"
	RPID=
	grep -q "^33 111" "$TESTTMP/tty.out"
}

@test "console: exec -t with --console-socket" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	start_recvtty
	run vsrun exec -t --console-socket "$SOCK" "$ID" sh -c 'tty'
	[ "$status" -eq 0 ]
	wait "$RPID"
	RPID=
	grep -q "^/dev/pts/[0-9]" "$TESTTMP/tty.out"
}

@test "console: terminal true without --console-socket on create is a clear error" {
	jq_config '.process.terminal = true'
	run vsrun create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"--console-socket"* ]]
	[ ! -e "$ROOT/$ID" ]
}

@test "console: --console-socket with terminal false is refused" {
	run vsrun create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"terminal"* ]]
	[ ! -e "$ROOT/$ID" ]
}

@test "console: a console socket nobody listens on is a clear error" {
	jq_config '.process.terminal = true'
	run vsrun create --console-socket "$TESTTMP/nobody.sock" --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"nobody.sock"* ]]
	[ ! -e "$ROOT/$ID" ]
	[ ! -d "/sys/fs/cgroup/memory/vsrun/$ID" ]
}

@test "console: run with a terminal and no socket proxies the pty" {
	jq_config '.process.terminal = true | .process.args = ["sh","-c","echo hi; tty"]'
	run vsrun run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *hi* ]]
	[[ "$output" == *"/dev/pts/0"* ]]
}

@test "console: run proxies under a real tty (script) and the exit status" {
	command -v script >/dev/null || skip "script(1) is not installed"
	jq_config '.process.terminal = true | .process.args = ["sh","-c","echo hi-from-pty; exit 4"]'
	run script -qec "$VSRUN --root $ROOT run --bundle $BUNDLE $ID" /dev/null
	[ "$status" -eq 4 ]
	[[ "$output" == *hi-from-pty* ]]
}
