#!/usr/bin/env bats
# vsrun's verbs end to end: spec, create/start/state, run, kill, delete, list,
# ps, pause/resume, update, events, features, global options.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# the v1 cgroup directory of a container (cgroups are a v1/v2 hybrid here)
cg1() { echo "/sys/fs/cgroup/$1/vsrun/$2"; }

# a loop that writes a growing counter to /tmp/count (in the container)
counter_args() {
	jq_config ".root.readonly = false"
	jq_config '.process.args = ["sh","-c","i=0; while :; do i=$((i+1)); echo $i > /tmp/count; usleep 20000; done"]'
}

# ---------------------------------------------------------------- spec

@test "spec: writes a valid config with a mount namespace and a process" {
	d=$TESTTMP/spec1
	mkdir -p "$d"
	run "$VSRUN" spec --bundle "$d"
	[ "$status" -eq 0 ]
	jq -e '.ociVersion and (.process.args | length > 0) and .root.path == "rootfs"' "$d/config.json"
	jq -e '[.linux.namespaces[].type] | index("mount") != null' "$d/config.json"
}

@test "spec: refuses to overwrite an existing config.json" {
	d=$TESTTMP/spec2
	mkdir -p "$d"
	echo '{"keep":1}' >"$d/config.json"
	run "$VSRUN" spec --bundle "$d"
	[ "$status" -ne 0 ]
	[[ "$output" == *"already exists"* ]]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -r .keep "$d/config.json")" = 1 ]
}

@test "spec: without --bundle writes into the current directory" {
	d=$TESTTMP/spec3
	mkdir -p "$d"
	(cd "$d" && "$VSRUN" spec)
	jq -e . "$d/config.json" >/dev/null
}

@test "spec --rootless: a user namespace with mappings, no network namespace" {
	d=$TESTTMP/spec4
	mkdir -p "$d"
	"$VSRUN" spec --rootless --bundle "$d"
	jq -e '[.linux.namespaces[].type] | index("user") != null' "$d/config.json"
	jq -e '[.linux.namespaces[].type] | index("network") == null' "$d/config.json"
	jq -e '(.linux.uidMappings | length) > 0 and (.linux.gidMappings | length) > 0' "$d/config.json"
}

# ----------------------------------------------------- create/start/state

@test "create/start/state: created -> running -> stopped, pid is the real process" {
	jq_config '.annotations = {"org.test.a":"b"}'
	vsrun create --bundle "$BUNDLE" --pid-file "$TESTTMP/pid" "$ID"
	[ "$(state_of "$ID")" = created ]
	pid=$(vsrun state "$ID" | jq -r .pid)
	[ "$pid" -gt 1 ]
	[ "$(cat "$TESTTMP/pid")" = "$pid" ]
	[ -d "/proc/$pid" ]
	vsrun state "$ID" | jq -e --arg b "$BUNDLE" --arg id "$ID" \
		'.bundle == $b and .rootfs == ($b + "/rootfs") and .id == $id and
		 (.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")) and
		 .annotations["org.test.a"] == "b" and .ociVersion != null'
	vsrun start "$ID"
	[ "$(state_of "$ID")" = running ]
	# the pid runs the configured process
	grep -q sleep "/proc/$pid/cmdline"
	[ "$(vsrun state "$ID" | jq -r .pid)" = "$pid" ]
	vsrun kill "$ID" KILL
	wait_for status_is "$ID" stopped
	[ "$(vsrun state "$ID" | jq -r .pid)" = 0 ]
	vsrun delete "$ID"
	run vsrun state "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "start: a running container cannot be started twice" {
	vsrun create --bundle "$BUNDLE" "$ID"
	vsrun start "$ID"
	run vsrun start "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"running"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "create: a second container with the same id is refused" {
	vsrun create --bundle "$BUNDLE" "$ID"
	run vsrun create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"already exists"* ]]
	[ "$(state_of "$ID")" = created ]
}

@test "create: run from the bundle directory without --bundle" {
	cd "$BUNDLE"
	vsrun create "$ID"
	[ "$(state_of "$ID")" = created ]
}

# ------------------------------------------------------------------ run

@test "run: the exit status propagates" {
	jq_config '.process.args = ["sh","-c","exit 3"]'
	run vsrun run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 3 ]
	# run deletes the container afterwards
	[ ! -e "$ROOT/$ID" ]
	[ ! -d "$(cg1 memory "$ID")" ]
}

@test "run: a process killed by a signal gives 128+sig" {
	jq_config '.process.args = ["sleep","1000"]'
	vsrun run --bundle "$BUNDLE" "$ID" &
	runpid=$!
	wait_for status_is "$ID" running
	vsrun kill "$ID" KILL
	status=0
	wait "$runpid" || status=$?
	[ "$status" -eq 137 ]
}

@test "run: stdout of the container reaches the caller" {
	jq_config '.process.args = ["echo","hello from inside"]'
	run vsrun run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "$output" = "hello from inside" ]
}

@test "run -d: returns at once, the container keeps running; --pid-file" {
	vsrun run -d --bundle "$BUNDLE" --pid-file "$TESTTMP/pid" "$ID"
	[ "$(state_of "$ID")" = running ]
	pid=$(cat "$TESTTMP/pid")
	[ "$(vsrun state "$ID" | jq -r .pid)" = "$pid" ]
	kill -0 "$pid"
}

@test "run --keep: the stopped container stays until delete" {
	jq_config '.process.args = ["true"]'
	vsrun run --keep --bundle "$BUNDLE" "$ID"
	[ "$(state_of "$ID")" = stopped ]
	vsrun delete "$ID"
	[ ! -e "$ROOT/$ID" ]
	[ ! -d "$(cg1 memory "$ID")" ]
}

# ----------------------------------------------------------------- kill

@test "kill: the default signal is SIGTERM" {
	jq_config '.process.args = ["sh","-c","trap \"echo got-term > /tmp/t; exit 7\" TERM; while :; do usleep 20000; done"]'
	vsrun run --bundle "$BUNDLE" "$ID" > "$TESTTMP/out" &
	runpid=$!
	wait_for status_is "$ID" running
	sleep 0.2
	vsrun kill "$ID"
	status=0
	wait "$runpid" || status=$?
	[ "$status" -eq 7 ]
}

@test "kill: KILL, SIGKILL and 9 all name SIGKILL" {
	for sig in KILL SIGKILL 9; do
		vsrun run -d --bundle "$BUNDLE" "$ID-$sig"
		vsrun kill "$ID-$sig" "$sig"
		wait_for status_is "$ID-$sig" stopped
		vsrun delete "$ID-$sig"
	done
}

@test "kill: an unknown signal is a one-line error and kills nothing" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	run vsrun kill "$ID" NOSUCHSIG
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"unknown signal"* ]]
	[ "$(state_of "$ID")" = running ]
}

@test "kill --all: kills every process, exec'd ones too" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	vsrun exec -d --pid-file "$TESTTMP/epid" "$ID" sleep 999
	epid=$(cat "$TESTTMP/epid")
	ipid=$(vsrun state "$ID" | jq -r .pid)
	kill -0 "$epid"
	vsrun kill --all "$ID" KILL
	wait_for status_is "$ID" stopped
	wait_for pid_dead "$epid"
	wait_for pid_dead "$ipid"
}

@test "kill: a stopped container cannot be signalled" {
	jq_config '.process.args = ["true"]'
	vsrun run --keep --bundle "$BUNDLE" "$ID"
	run vsrun kill "$ID" KILL
	[ "$status" -ne 0 ]
	[[ "$output" == *"not running"* ]]
}

# --------------------------------------------------------------- delete

@test "delete: refuses a running container without --force" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	run vsrun delete "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"--force"* ]]
	[ "$(state_of "$ID")" = running ]
}

@test "delete --force: kills a running container and removes its cgroup" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	pid=$(vsrun state "$ID" | jq -r .pid)
	[ -d "$(cg1 memory "$ID")" ]
	vsrun delete --force "$ID"
	wait_for pid_dead "$pid"
	[ ! -e "$ROOT/$ID" ]
	for c in memory pids cpu freezer; do [ ! -d "$(cg1 $c "$ID")" ]; done
}

@test "delete: a created container is deleted (its init killed)" {
	vsrun create --bundle "$BUNDLE" "$ID"
	pid=$(vsrun state "$ID" | jq -r .pid)
	vsrun delete "$ID"
	wait_for pid_dead "$pid"
	[ ! -e "$ROOT/$ID" ]
	[ ! -d "$(cg1 memory "$ID")" ]
}

@test "delete: a non-existent id errors; with --force it is quiet" {
	run vsrun delete nosuch-$ID
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
	run vsrun delete --force nosuch-$ID
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# ----------------------------------------------------------------- list

@test "list: -q, --format json and the table" {
	vsrun run -d --bundle "$BUNDLE" "$ID-a"
	vsrun create --bundle "$BUNDLE" "$ID-b"
	run vsrun list -q
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "$ID-a" ]
	[ "${lines[1]}" = "$ID-b" ]
	vsrun list --format json | jq -e --arg a "$ID-a" --arg b "$ID-b" '
		length == 2 and
		(.[] | select(.id == $a) | .status) == "running" and
		(.[] | select(.id == $b) | .status) == "created" and
		(.[0].pid > 0)'
	run vsrun list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == ID*PID*STATUS*BUNDLE* ]]
	[[ "$output" == *"$ID-a"*running*"$BUNDLE"* ]]
}

@test "list: an empty or missing root lists nothing" {
	run "$VSRUN" --root "$TESTTMP/empty" list --format json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq length)" = 0 ]
}

# ------------------------------------------------------------------- ps

@test "ps: --format json gives the pids, the table only the container's" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	vsrun exec -d --pid-file "$TESTTMP/epid" "$ID" sleep 998
	ipid=$(vsrun state "$ID" | jq -r .pid)
	epid=$(cat "$TESTTMP/epid")
	vsrun ps --format json "$ID" | jq -e --argjson i "$ipid" --argjson e "$epid" \
		'(index($i) != null) and (index($e) != null) and length == 2'
	run vsrun ps "$ID"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *PID* ]]
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" == *"sleep 1000"* ]]
	[[ "$output" == *"sleep 998"* ]]
	# ps itself, bats, the shell: not the container's
	[[ "$output" != *bats* ]]
}

# --------------------------------------------------------- pause/resume

@test "pause/resume: paused in state, the counter stops, then goes on" {
	counter_args
	vsrun run -d --bundle "$BUNDLE" "$ID"
	f=$BUNDLE/rootfs/tmp/count
	wait_for test -s "$f"
	vsrun pause "$ID"
	[ "$(state_of "$ID")" = paused ]
	[ "$(cat "$(cg1 freezer "$ID")/freezer.state")" = FROZEN ]
	a=$(cat "$f"); sleep 0.5; b=$(cat "$f")
	[ "$a" = "$b" ]
	run vsrun pause "$ID"
	[ "$status" -ne 0 ]
	vsrun resume "$ID"
	[ "$(state_of "$ID")" = running ]
	wait_for sh -c "[ \$(cat $f) -gt $b ]"
	run vsrun resume "$ID"
	[ "$status" -ne 0 ]
}

@test "delete --force: a paused container" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	vsrun pause "$ID"
	vsrun delete --force "$ID"
	[ ! -e "$ROOT/$ID" ]
	[ ! -d "$(cg1 freezer "$ID")" ]
}

# --------------------------------------------------------------- update

@test "update: --memory, --pids-limit, --cpu-quota change the v1 files" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	vsrun update --memory 64M --pids-limit 42 --cpu-period 100000 --cpu-quota 20000 "$ID"
	[ "$(cat "$(cg1 memory "$ID")/memory.limit_in_bytes")" = $((64 * 1024 * 1024)) ]
	[ "$(cat "$(cg1 pids "$ID")/pids.max")" = 42 ]
	[ "$(cat "$(cg1 cpu "$ID")/cpu.cfs_quota_us")" = 20000 ]
	[ "$(cat "$(cg1 cpu "$ID")/cpu.cfs_period_us")" = 100000 ]
}

@test "update --resources FILE: the v1 files follow the file" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	cat >"$TESTTMP/res.json" <<-EOF
	{"memory":{"limit":50331648},"pids":{"limit":77},"cpu":{"quota":30000,"period":100000,"shares":512}}
	EOF
	vsrun update --resources "$TESTTMP/res.json" "$ID"
	[ "$(cat "$(cg1 memory "$ID")/memory.limit_in_bytes")" = 50331648 ]
	[ "$(cat "$(cg1 pids "$ID")/pids.max")" = 77 ]
	[ "$(cat "$(cg1 cpu "$ID")/cpu.cfs_quota_us")" = 30000 ]
	[ "$(cat "$(cg1 cpu "$ID")/cpu.shares")" = 512 ]
	# and from stdin
	echo '{"pids":{"limit":55}}' | vsrun update -r - "$ID"
	[ "$(cat "$(cg1 pids "$ID")/pids.max")" = 55 ]
}

@test "update: a bad value is a one-line error" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	run vsrun update --memory lots "$ID"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *memory* ]]
}

@test "update: a stopped container is refused" {
	jq_config '.process.args = ["true"]'
	vsrun run --keep --bundle "$BUNDLE" "$ID"
	run vsrun update --pids-limit 10 "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not running"* ]]
}

# --------------------------------------------------------------- events

@test "events --stats: one JSON object with memory usage and pids" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	run vsrun events --stats "$ID"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --arg id "$ID" \
		'.type == "stats" and .id == $id and .data.memory.usage.usage > 0 and .data.pids.current >= 1'
}

@test "events: streams an oom event when a hog is OOM-killed" {
	jq_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	vsrun run -d --bundle "$BUNDLE" "$ID"
	vsrun events --interval 1s "$ID" >"$TESTTMP/events" &
	evpid=$!
	wait_for test -s "$TESTTMP/events"
	run vsrun exec "$ID" dd if=/dev/zero of=/dev/null bs=128M count=1
	[ "$status" -eq 137 ]
	wait_for grep -q '"type":"oom"' "$TESTTMP/events"
	kill "$evpid" 2>/dev/null || true
	wait "$evpid" 2>/dev/null || true
	# every line is JSON
	jq -e . "$TESTTMP/events" >/dev/null
	grep '"type":"oom"' "$TESTTMP/events" | jq -e --arg id "$ID" '.id == $id'
	[ "$(grep '^oom_kill ' "$(cg1 memory "$ID")/memory.oom_control" | cut -d' ' -f2)" -ge 1 ]
}

@test "events: ends when the container stops" {
	vsrun run -d --bundle "$BUNDLE" "$ID"
	vsrun events --interval 100ms "$ID" >"$TESTTMP/events" &
	evpid=$!
	wait_for test -s "$TESTTMP/events"
	vsrun kill "$ID" KILL
	status=0
	wait "$evpid" || status=$?
	[ "$status" -eq 0 ]
}

# ---------------------------------------------- features, help, version

@test "features: valid JSON listing namespaces and hooks" {
	run "$VSRUN" features
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.ociVersionMax and (.linux.namespaces | index("network") != null)
		and (.linux.namespaces | index("user") != null) and (.hooks | length == 6)'
}

@test "--version prints the version and the spec" {
	run "$VSRUN" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "vsrun version "* ]]
	[[ "$output" == *"spec: 1."* ]]
	run "$VSRUN" -v
	[[ "${lines[0]}" == "vsrun version "* ]]
}

@test "--help on every verb prints its usage and exits 0" {
	run "$VSRUN" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Commands:"* ]]
	for verb in spec create start run state kill delete list ps exec pause resume update events features; do
		run "$VSRUN" "$verb" --help
		echo "$verb: $status $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"usage: vsrun $verb"* ]]
	done
}

@test "an unknown verb is a one-line error" {
	run "$VSRUN" frobnicate
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *frobnicate* ]]
}

# -------------------------------------------------------- global options

@test "--log with --log-format json: an error lands as a JSON line" {
	run "$VSRUN" --root "$ROOT" --log "$TESTTMP/log.json" --log-format json state nosuch-$ID
	[ "$status" -ne 0 ]
	[ "$(wc -l <"$TESTTMP/log.json")" -eq 1 ]
	jq -e '.level == "error" and (.msg | test("does not exist")) and .time' "$TESTTMP/log.json"
}

@test "--log in text format" {
	run "$VSRUN" --root "$ROOT" --log "$TESTTMP/log.txt" state nosuch-$ID
	[ "$status" -ne 0 ]
	grep -q 'level=error' "$TESTTMP/log.txt"
	grep -q 'does not exist' "$TESTTMP/log.txt"
}

@test "--log-format: a bad format is refused" {
	run "$VSRUN" --log-format yaml list
	[ "$status" -ne 0 ]
	[[ "$output" == *"--log-format"* ]]
}

@test "--root: the state lives under the given directory only" {
	other=$TESTTMP/other-root
	"$VSRUN" --root "$other" run -d --bundle "$BUNDLE" "$ID"
	[ -f "$other/$ID/state.json" ]
	[ ! -e "$ROOT/$ID" ]
	run vsrun state "$ID"
	[ "$status" -ne 0 ]
	[ "$("$VSRUN" --root "$other" state "$ID" | jq -r .status)" = running ]
	"$VSRUN" --root "$other" delete --force "$ID"
	[ ! -e "$other/$ID" ]
}
