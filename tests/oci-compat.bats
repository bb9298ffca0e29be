#!/usr/bin/env bats
# Regression tests for what orchestrators (podman) and the OCI runtime-tools
# validation suite found: each test names the bug it would have caught.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

run_sh() {
	jq_config ".process.args = $(jq -cn --arg c "$1" '["sh","-c",$c]')"
	run vsrun run -b "$BUNDLE" "$ID"
}

# a uts namespace of our own, kept alive by a bind mount on $TESTTMP/uts
# (teardown_bundle unmounts everything under $TESTTMP)
make_uts_ns() {
	touch "$TESTTMP/uts"
	unshare --uts="$TESTTMP/uts" hostname before-vsrun
}

set_uts_path() {
	local t=$BUNDLE/config.json.new
	jq --arg p "$1" '.linux.namespaces |= (map(select(.type != "uts")) + [{"type":"uts","path":$p}])' \
		"$BUNDLE/config.json" >"$t" && mv "$t" "$BUNDLE/config.json"
}

# runtime-tools linux_ns_path 5: a hostname with a uts namespace joined by
# path was refused ("needs a new uts namespace"); runc sets it there
@test "compat: hostname is set in a uts namespace joined by path" {
	make_uts_ns
	set_uts_path "$TESTTMP/uts"
	jq_config '.hostname = "joined-by-path"'
	run_sh 'hostname'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" = joined-by-path ]
	[ "$(nsenter --uts="$TESTTMP/uts" hostname)" = joined-by-path ]
}

@test "compat: a hostname for the runtime's own uts namespace is refused" {
	local before
	before=$(hostname)
	set_uts_path "/proc/$$/ns/uts"
	jq_config '.hostname = "must-not-rename-the-host"'
	run vsrun create -b "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"uts namespace"* ]]
	[ "$(hostname)" = "$before" ]
	run vsrun state "$ID"
	[ "$status" -ne 0 ]
}

# runtime-tools linux_rootfs_propagation 4: with rootfsPropagation
# "unbindable" create failed ("bind ... onto itself: EINVAL"): / was made
# unbindable before the rootfs and the config's binds were bound
@test "compat: rootfsPropagation unbindable: the container starts, its / is unbindable" {
	mkdir -p "$TESTTMP/src"
	echo from-host >"$TESTTMP/src/file"
	local t=$BUNDLE/config.json.new
	jq --arg s "$TESTTMP/src" '.linux.rootfsPropagation = "unbindable" |
		.mounts += [{"destination":"/src","type":"bind","source":$s,"options":["rbind","ro"]}]' \
		"$BUNDLE/config.json" >"$t" && mv "$t" "$BUNDLE/config.json"
	run_sh 'cat /src/file; awk '\''$5 == "/" { print }'\'' /proc/self/mountinfo'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "${lines[0]}" = from-host ]
	[[ "${lines[1]}" == *unbindable* ]]
}

@test "compat: rootfsPropagation private and slave still start" {
	local p
	for p in private slave; do
		jq_config ".linux.rootfsPropagation = \"$p\""
		run_sh 'true'
		[ "$status" -eq 0 ] || { echo "$p: $output"; false; }
	done
}
