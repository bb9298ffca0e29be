#!/usr/bin/env bats
# Bad input: each case fails with one line on stderr that names what and
# where, exits non-zero, leaves nothing behind, and does not disturb a
# running container in the same --root.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	setup_bundle
	# the witness: must stay running and untouched through every failure
	WITNESS=$ID-w
	cp -a "$BUNDLE" "$TESTTMP/wbundle"
	vsrun_detached -b "$TESTTMP/wbundle" "$WITNESS"
	WPID=$(vsrun state "$WITNESS" | jq .pid)
	BAD=$ID-bad
}
teardown() { teardown_bundle; }

# nothing_left ID: no state dir, no cgroup in any v1 hierarchy, no mount of
# the bundle; and the witness still runs with the same pid.
nothing_left() {
	local id=$1 d
	[ ! -e "$ROOT/$id" ] || { echo "state dir left: $ROOT/$id"; return 1; }
	for d in /sys/fs/cgroup/*/vsrun/"$id" /sys/fs/cgroup/*/vsrun-errors/"$id"; do
		[ ! -e "$d" ] || { echo "cgroup left: $d"; return 1; }
	done
	! grep -q " $BUNDLE" /proc/self/mountinfo || { echo "mount left"; return 1; }
	[ "$(state_of "$WITNESS")" = running ] || { echo "witness not running"; return 1; }
	[ "$(vsrun state "$WITNESS" | jq .pid)" = "$WPID" ]
	kill -0 "$WPID"
	! vsrun list | grep -q "$id " || { echo "listed: $id"; return 1; }
}

# fails_once PATTERN CMD...: runs CMD (stderr apart), expects a non-zero exit
# and exactly one stderr line matching PATTERN (a bash glob).
fails_once() {
	local pat=$1
	shift
	run --separate-stderr "$@"
	echo "status=$status stderr=$stderr"
	[ "$status" -ne 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == $pat ]]
}

@test "errors: malformed config.json" {
	printf '{"ociVersion": "1.2.0", "process": {' >"$BUNDLE/config.json"
	fails_once "vsrun: *config.json*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
}

@test "errors: a field of the wrong type (process.args a string)" {
	jq_config '.process.args = "sleep 10"'
	fails_once "vsrun: *process.args*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
}

@test "errors: a missing rootfs, and root.path a file" {
	jq_config '.root.path = "nosuchdir"'
	fails_once "vsrun: *rootfs*nosuchdir*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
	touch "$BUNDLE/afile"
	jq_config '.root.path = "afile"'
	fails_once "vsrun: *afile*not a directory*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
}

@test "errors: a duplicate id leaves the first container running" {
	fails_once "vsrun: *\"$WITNESS\" already exists*" vsrun create -b "$BUNDLE" "$WITNESS"
	nothing_left "$BAD"
	[ -d "$ROOT/$WITNESS" ]
	[ -d /sys/fs/cgroup/pids/vsrun/"$WITNESS" ]
}

@test "errors: invalid ids" {
	local id
	for id in "../x" "a/b" ".." "" "x y"; do
		fails_once "vsrun: *invalid container id*" vsrun create -b "$BUNDLE" "$id"
	done
	[ ! -e "$TESTTMP/x" ] && [ ! -e "$ROOT/a" ]
	nothing_left "$BAD"
}

@test "errors: an unknown signal" {
	fails_once "vsrun: *unknown signal*NOSUCHSIG*" vsrun kill "$WITNESS" NOSUCHSIG
	fails_once "vsrun: *unknown signal*999*" vsrun kill "$WITNESS" 999
	nothing_left "$BAD"
}

@test "errors: a mount of an unknown filesystem type" {
	jq_config '.mounts += [{"destination":"/x","type":"nosuchfs","source":"none"}]'
	fails_once "vsrun: *mount*/x*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
}

@test "errors: a bind mount of a missing source" {
	jq_config ".mounts += [{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"$TESTTMP/nosuch\",\"options\":[\"rbind\"]}]"
	fails_once "vsrun: *$TESTTMP/nosuch*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
}

@test "errors: a missing executable fails at create, not after start" {
	jq_config '.process.args = ["/no/such/binary"]'
	fails_once "vsrun: exec: /no/such/binary: ENOENT*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
	jq_config '.process.args = ["nosuchcmd"]'
	fails_once "vsrun: exec: nosuchcmd: ENOENT*" vsrun run -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
}

# The spec lets a config leave process out until start; like runc and crun,
# vsrun refuses it at create, where an engine gets the reason before it has
# a half-made container (runtime-tools' start 7 wants create to pass).
@test "errors: a config without process is refused at create" {
	jq_config 'del(.process)'
	fails_once "vsrun: conf: config.json: process: required to create a container" \
		vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
}

@test "errors: cgroup settings this v1 host cannot give" {
	jq_config '.linux.resources.unified = {"memory.max": "10M"}'
	fails_once "vsrun: *unified*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
	if [ ! -e /sys/fs/cgroup/blkio/blkio.weight ] && [ ! -e /sys/fs/cgroup/blkio/blkio.bfq.weight ]; then
		jq_config 'del(.linux.resources.unified) | .linux.resources.blockIO = {"weight": 500}'
		fails_once "vsrun: *blockIO.weight*" vsrun create -b "$BUNDLE" "$BAD"
		nothing_left "$BAD"
	fi
}

@test "errors: a failing createRuntime hook" {
	jq_config '.hooks = {"createRuntime": [{"path": "/bin/false"}]}'
	fails_once "vsrun: *createRuntime*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
	jq_config '.hooks = {"prestart": [{"path": "/no/such/hook"}]}'
	fails_once "vsrun: *prestart*/no/such/hook*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
}

@test "errors: a memory limit too small to start in" {
	jq_config '.linux.resources.memory = {"limit": 4096}'
	run --separate-stderr vsrun run -b "$BUNDLE" "$BAD"
	echo "status=$status stderr=$stderr"
	[ "$status" -ne 0 ]
	[ "${#stderr_lines[@]}" -le 1 ]
	[[ "$stderr" == *memory* || "$stderr" == *"killed by signal 9"* || "$stderr" == *EBUSY* || "$stderr" == *EINVAL* || -z "$stderr" ]]
	nothing_left "$BAD"
}

@test "errors: a missing bundle directory" {
	fails_once "vsrun: *bundle*$TESTTMP/nosuch*ENOENT*" vsrun create -b "$TESTTMP/nosuch" "$BAD"
	nothing_left "$BAD"
}

@test "errors: --console-socket to a missing socket" {
	jq_config '.process.terminal = true'
	fails_once "vsrun: *console*$TESTTMP/nosock*" vsrun create -b "$BUNDLE" --console-socket "$TESTTMP/nosock" "$BAD"
	nothing_left "$BAD"
}

@test "errors: terminal true without --console-socket" {
	jq_config '.process.terminal = true'
	fails_once "vsrun: *terminal*--console-socket*" vsrun create -b "$BUNDLE" "$BAD"
	nothing_left "$BAD"
}

@test "errors: verbs on a container that does not exist" {
	local v
	for v in start state delete pause resume ps; do
		fails_once "vsrun: *\"$BAD\" does not exist*" vsrun $v "$BAD"
	done
	fails_once "vsrun: *\"$BAD\" does not exist*" vsrun kill "$BAD" KILL
	nothing_left "$BAD"
}
