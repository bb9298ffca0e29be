#!/usr/bin/env bats
# The bash completions of cli/: sourced into this shell and called as bash
# calls them, with COMP_WORDS/COMP_CWORD set. Server names come from a fake
# $VSERVER_ROOT, container ids from `vsrun --root DIR list -q` over a fake
# state root (directories only: nothing is run, nothing needs root).

VSRUN_BIN=$BATS_TEST_DIRNAME/../build/vsrun
VSERVER_BIN=$BATS_TEST_DIRNAME/../build/vserver

setup() {
	source "$BATS_TEST_DIRNAME/../cli/vserver.bash-completion"
	source "$BATS_TEST_DIRNAME/../cli/vsrun.bash-completion"
	TESTTMP=$(mktemp -d /tmp/vs-completion.XXXXXX)
	export VSERVER_ROOT=$TESTTMP/vserver
	local lib=$VSERVER_ROOT/lib
	mkdir -p "$lib"/servers/{web,db} "$lib"/net "$lib"/snapshots/web/{before,after} "$lib"/images
	: >"$lib/net/tenants.net"
	echo '{"version":1,"images":[{"name":"debian:12"},{"name":"default:latest"}]}' >"$lib/images/index.json"
	echo '{"name":"web","image":"default:latest","alerts":["cpu > 150","pids > 400"]}' \
		>"$lib/servers/web/server.json"
	STATE=$TESTTMP/vsrun
	mkdir -p "$STATE"/{alpha,beta}
}

teardown() {
	rm -rf "$TESTTMP"
}

# comp FUNCTION WORD... : the candidates for the last word, one a line
comp() {
	local fn=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	"$fn"
	printf '%s\n' "${COMPREPLY[@]}"
}

# has WORD: $output holds WORD as a whole line; lacks WORD: it does not
# (a function, since a bare `! cmd` never fails a bats test)
has() {
	grep -qxF -- "$1" <<<"$output"
}
lacks() {
	! has "$1"
}

@test "completion: both functions are registered" {
	run complete -p vserver
	[ "$status" -eq 0 ]
	[[ $output == *"-F _vserver vserver"* ]]
	run complete -p vsrun
	[ "$status" -eq 0 ]
	[[ $output == *"-F _vsrun vsrun"* ]]
}

@test "completion: vserver offers every command of its --help, and filters by prefix" {
	[ -x "$VSERVER_BIN" ] || skip "build/vserver is not built (run make)"
	local verbs
	verbs=$("$VSERVER_BIN" --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}')
	[ -n "$verbs" ]
	run comp _vserver vserver ""
	local v
	for v in $verbs; do
		has "$v" || { echo "missing verb $v in: $output"; return 1; }
	done
	[ "$(wc -l <<<"$output")" -eq "$(wc -w <<<"$verbs")" ]
	run comp _vserver vserver st
	[ "$output" = "$(printf 'start\nstop\nstats')" ]
}

@test "completion: vserver completes server names where a server is expected" {
	run comp _vserver vserver start ""
	[ "$output" = "$(printf 'db\nweb')" ]
	run comp _vserver vserver exec -t -e A=b w
	[ "$output" = "web" ]
	# create takes a new name: nothing offered
	run comp _vserver vserver create ""
	[ -z "$output" ]
	# the second argument of clone is a new name too
	run comp _vserver vserver clone web ""
	[ -z "$output" ]
}

@test "completion: vserver completes option values: restart policy, network, image, format" {
	run comp _vserver vserver create web --restart ""
	[ "$output" = "$(printf 'no\non-failure\nalways')" ]
	run comp _vserver vserver create web --net ""
	has tenants
	has none
	run comp _vserver vserver create web --image deb
	[ "$output" = "debian:12" ]
	run comp _vserver vserver info --format ""
	[ "$output" = "$(printf 'table\njson')" ]
	# a free value (a size) gets no candidates, not server names
	run comp _vserver vserver create web --memory ""
	[ -z "$output" ]
}

@test "completion: vserver set offers only the options set accepts" {
	run comp _vserver vserver set web --
	has --cpus
	has --memory
	has --no-autostart
	lacks --image
	lacks --disk
	lacks --publish
}

@test "completion: vserver snapshots, alert numbers, networks and images" {
	run comp _vserver vserver restore web ""
	[ "$output" = "$(printf 'after\nbefore')" ]
	run comp _vserver vserver alert rm web ""
	[ "$output" = "$(printf '1\n2')" ]
	run comp _vserver vserver alert ""
	[ "$output" = "$(printf 'add\nls\nrm')" ]
	run comp _vserver vserver net rm ""
	[ "$output" = "tenants" ]
	run comp _vserver vserver image rm ""
	[ "$output" = "$(printf 'debian:12\ndefault:latest')" ]
}

@test "completion: vsrun offers every command of its --help and the global options" {
	[ -x "$VSRUN_BIN" ] || skip "build/vsrun is not built (run make)"
	local verbs
	verbs=$("$VSRUN_BIN" --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}')
	[ -n "$verbs" ]
	run comp _vsrun "$VSRUN_BIN" ""
	local v
	for v in $verbs; do
		has "$v" || { echo "missing verb $v in: $output"; return 1; }
	done
	run comp _vsrun "$VSRUN_BIN" --
	has --root
	has --systemd-cgroup
	has --log-format
	run comp _vsrun "$VSRUN_BIN" --log-format ""
	[ "$output" = "$(printf 'text\njson')" ]
	# the command is found after global options that take values
	run comp _vsrun "$VSRUN_BIN" --log /tmp/x --log-format json sta
	[ "$output" = "$(printf 'start\nstate')" ]
}

@test "completion: vsrun completes container ids of the --root given, then signals" {
	[ -x "$VSRUN_BIN" ] || skip "build/vsrun is not built (run make)"
	run comp _vsrun "$VSRUN_BIN" --root "$STATE" start ""
	[ "$output" = "$(printf 'alpha\nbeta')" ]
	run comp _vsrun "$VSRUN_BIN" --root="$STATE" delete --force b
	[ "$output" = "beta" ]
	run comp _vsrun "$VSRUN_BIN" --root "$STATE" kill alpha SIGKI
	[ "$output" = "SIGKILL" ]
	run comp _vsrun "$VSRUN_BIN" --root "$STATE" kill alpha TE
	[ "$output" = "TERM" ]
	# create and run take a new id
	run comp _vsrun "$VSRUN_BIN" --root "$STATE" create --bundle /tmp ""
	[ -z "$output" ]
}

@test "completion: vsrun exec and update offer every long option their --help lists" {
	[ -x "$VSRUN_BIN" ] || skip "build/vsrun is not built (run make)"
	local verb opt
	for verb in exec update create run list ps; do
		run comp _vsrun "$VSRUN_BIN" "$verb" --
		local offered=$output
		for opt in $("$VSRUN_BIN" "$verb" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
			[ "$opt" = --help ] && continue
			grep -qxF -- "$opt" <<<"$offered" ||
				{ echo "vsrun $verb: $opt is in --help but not completed"; return 1; }
		done
	done
}
