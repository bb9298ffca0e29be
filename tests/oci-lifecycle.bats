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

# ============================================ namespaces (the config's)

# runs the container in the foreground with ARGS as process.args, output in $output
run_in() {
	local args
	args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
	jq_config ".process.args = $args"
	run vsrun run --bundle "$BUNDLE" "$ID"
}

@test "ns: hostname and domainname are set" {
	jq_config '.hostname = "box-a" | .domainname = "example.test"'
	run_in sh -c 'hostname; cat /proc/sys/kernel/domainname'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = box-a ]
	[ "${lines[1]}" = example.test ]
	[ "$(hostname)" != box-a ]
}

@test "ns: a new network namespace has only lo" {
	run_in sh -c 'ls /sys/class/net'
	[ "$status" -eq 0 ]
	[ "$output" = lo ]
}

@test "ns: joining a network namespace by path" {
	command -v ip >/dev/null || skip "iproute2 is not installed"
	ns=vsrt-$$-$RANDOM
	ip netns add "$ns"
	ip -n "$ns" link add vs-a type veth peer name vs-b
	local t=$BUNDLE/config.json.new
	jq --arg p "/var/run/netns/$ns" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' \
		"$BUNDLE/config.json" >"$t" && mv "$t" "$BUNDLE/config.json"
	vsrun run -d --bundle "$BUNDLE" "$ID"
	pid=$(vsrun state "$ID" | jq -r .pid)
	want=$(stat -L -c %i "/var/run/netns/$ns")
	got=$(stat -L -c %i "/proc/$pid/ns/net")
	vsrun exec "$ID" ls /sys/class/net >"$TESTTMP/links" || true
	vsrun delete --force "$ID"
	ip netns del "$ns"
	[ "$want" = "$got" ]
	grep -qx vs-a "$TESTTMP/links"
}

@test "ns: a user namespace maps uid 0 inside to 100000 outside" {
	jq_config '.linux.namespaces += [{"type":"user"}] |
		.linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}] |
		.linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}] |
		.root.readonly = false'
	# the mapped root must reach the bundle (mktemp -d made it 0700)
	chmod 755 "$TESTTMP"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	mkdir -p "$TESTTMP/shared"
	chmod 777 "$TESTTMP/shared"
	local t=$BUNDLE/config.json.new
	jq --arg s "$TESTTMP/shared" '.mounts += [{"destination":"/shared","type":"bind","source":$s,"options":["rbind","rw"]}]' \
		"$BUNDLE/config.json" >"$t" && mv "$t" "$BUNDLE/config.json"
	jq_config '.process.args = ["sh","-c","id -u; touch /shared/made; sleep 1000"]'
	vsrun run -d --bundle "$BUNDLE" "$ID"
	pid=$(vsrun state "$ID" | jq -r .pid)
	read -r inside outside size <"/proc/$pid/uid_map"
	[ "$inside" = 0 ] && [ "$outside" = 100000 ] && [ "$size" = 65536 ]
	read -r inside outside size <"/proc/$pid/gid_map"
	[ "$outside" = 100000 ]
	wait_for test -e "$TESTTMP/shared/made"
	[ "$(stat -c %u:%g "$TESTTMP/shared/made")" = 100000:100000 ]
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
	# exec joins the user namespace too: root inside, 100000 outside
	run vsrun exec "$ID" id -u
	[ "$output" = 0 ]
}

@test "ns: a cgroup namespace shows / in /proc/self/cgroup" {
	jq_config '.linux.namespaces |= (map(select(.type != "cgroup")) + [{"type":"cgroup"}])'
	run_in cat /proc/self/cgroup
	[ "$status" -eq 0 ]
	echo "$output" | grep -q ':memory:/$'
	[[ "$output" != *vsrun* ]]
}

@test "ns: without a cgroup namespace the container's cgroup shows" {
	jq_config '.linux.namespaces |= map(select(.type != "cgroup"))'
	run_in cat /proc/self/cgroup
	[[ "$output" == *":memory:/vsrun/$ID"* ]]
}

@test "ns: a time namespace offsets the boot clock" {
	[ -e /proc/self/ns/time ] || skip "no time namespaces"
	jq_config '.linux.namespaces += [{"type":"time"}] |
		.linux.timeOffsets = {"boottime":{"secs":864000,"nanosecs":0},"monotonic":{"secs":864000,"nanosecs":0}}'
	run_in cut -d. -f1 /proc/uptime
	[ "$status" -eq 0 ]
	host=$(cut -d. -f1 /proc/uptime)
	[ "$output" -ge $((host + 864000 - 60)) ]
	[ "$output" -le $((host + 864000 + 60)) ]
}

@test "ns: the pid namespace makes the process pid 1" {
	run_in sh -c 'echo $$'
	[ "$output" = 1 ]
}

# ============================================= mounts and the rootfs

@test "mounts: bind mounts read-only and read-write" {
	mkdir -p "$TESTTMP/ro" "$TESTTMP/rw"
	echo ro-data >"$TESTTMP/ro/f"
	local t=$BUNDLE/config.json.new
	jq --arg ro "$TESTTMP/ro" --arg rw "$TESTTMP/rw" '.mounts += [
		{"destination":"/mnt/ro","type":"bind","source":$ro,"options":["rbind","ro"]},
		{"destination":"/mnt/rw","type":"bind","source":$rw,"options":["rbind","rw"]}]' \
		"$BUNDLE/config.json" >"$t" && mv "$t" "$BUNDLE/config.json"
	run_in sh -c 'cat /mnt/ro/f; touch /mnt/ro/x 2>/dev/null && echo ro-writable; echo w > /mnt/rw/new && echo rw-ok'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ro-data ]
	[[ "$output" != *ro-writable* ]]
	[[ "$output" == *rw-ok* ]]
	[ "$(cat "$TESTTMP/rw/new")" = w ]
	[ ! -e "$TESTTMP/ro/x" ]
}

@test "mounts: tmpfs with options" {
	jq_config '.mounts += [{"destination":"/scratch","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1700","size=4m"]}]'
	run_in sh -c 'grep " /scratch " /proc/mounts; stat -c %a /scratch'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *tmpfs*nosuid*nodev* ]]
	[[ "${lines[0]}" == *size=4096k* ]]
	[ "${lines[1]}" = 1700 ]
}

@test "rootfs: a read-only root refuses writes" {
	jq_config '.root.readonly = true'
	run_in sh -c 'touch /newfile && echo wrote; echo done'
	[[ "$output" != *wrote* ]]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$BUNDLE/rootfs/newfile" ]
	jq_config '.root.readonly = false'
	run_in sh -c 'touch /newfile && echo wrote'
	[ "$output" = wrote ]
}

@test "rootfs: maskedPaths and readonlyPaths" {
	jq_config '.linux.maskedPaths = ["/etc/secret-file","/etc/secret-dir"] | .linux.readonlyPaths = ["/proc/sys"]'
	mkdir -p "$BUNDLE/rootfs/etc/secret-dir"
	echo s3cret >"$BUNDLE/rootfs/etc/secret-dir/f"
	echo s3cret >"$BUNDLE/rootfs/etc/secret-file"
	run_in sh -c 'wc -c < /etc/secret-file; ls /etc/secret-dir | wc -l; echo 1 > /proc/sys/kernel/domainname && echo sys-writable; echo end'
	echo "$output"
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	[[ "$output" != *sys-writable* ]]
}

@test "rootfs: --no-pivot works" {
	jq_config '.process.args = ["sh","-c","ls /bin/busybox && echo in-rootfs"]'
	run vsrun run --no-pivot --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *in-rootfs* ]]
}

# ===================================================== process attributes

@test "process: rlimits (ulimit -n inside)" {
	jq_config '.process.rlimits = [{"type":"RLIMIT_NOFILE","hard":4321,"soft":1234}]'
	run_in sh -c 'ulimit -n; ulimit -Hn'
	[ "${lines[0]}" = 1234 ]
	[ "${lines[1]}" = 4321 ]
}

@test "process: sysctl net.ipv4.ip_forward=1 inside a new netns" {
	jq_config '.linux.sysctl = {"net.ipv4.ip_forward":"1"}'
	host=$(cat /proc/sys/net/ipv4/ip_forward)
	run_in cat /proc/sys/net/ipv4/ip_forward
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host" ]
}

@test "process: oom_score_adj" {
	jq_config '.process.oomScoreAdj = 123'
	run_in cat /proc/self/oom_score_adj
	[ "$output" = 123 ]
}

@test "process: user uid, gid and additionalGids" {
	jq_config '.process.user = {"uid":1001,"gid":1002,"additionalGids":[5,6]}'
	run_in sh -c 'id -u; id -g; id -G'
	[ "${lines[0]}" = 1001 ]
	[ "${lines[1]}" = 1002 ]
	[[ " ${lines[2]} " == *" 5 "* ]]
	[[ " ${lines[2]} " == *" 6 "* ]]
}

@test "process: capabilities: CapEff matches the config" {
	jq_config '.process.capabilities = {"bounding":["CAP_KILL","CAP_CHOWN"],"effective":["CAP_KILL","CAP_CHOWN"],"permitted":["CAP_KILL","CAP_CHOWN"]}'
	run_in sh -c 'grep -E "^Cap(Eff|Bnd|Prm)" /proc/self/status'
	# CAP_CHOWN 0, CAP_KILL 5: 0x21
	[[ "$output" == *"CapPrm:	0000000000000021"* ]]
	[[ "$output" == *"CapEff:	0000000000000021"* ]]
	[[ "$output" == *"CapBnd:	0000000000000021"* ]]
}

@test "process: noNewPrivileges" {
	jq_config '.process.noNewPrivileges = true'
	run_in grep NoNewPrivs /proc/self/status
	[[ "$output" == *"1" ]]
	jq_config '.process.noNewPrivileges = false'
	run_in grep NoNewPrivs /proc/self/status
	[[ "$output" == *"0" ]]
}

@test "process: seccomp makes mkdir fail with EPERM (errnoRet)" {
	jq_config '.root.readonly = false | .linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW",
		"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}'
	run_in sh -c 'mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/f && echo touch-ok'
	[[ "$output" == *"Operation not permitted"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *touch-ok* ]]
	# another errno, for a real errnoRet test
	jq_config '.linux.seccomp.syscalls[0].errnoRet = 13'
	run_in sh -c 'mkdir /tmp/d 2>&1'
	[[ "$output" == *"Permission denied"* ]]
}

@test "process: umask" {
	jq_config '.root.readonly = false | .process.user.umask = 63'
	run_in sh -c 'umask; touch /tmp/um; stat -c %a /tmp/um'
	[ "${lines[0]}" = 0077 ]
	[ "${lines[1]}" = 600 ]
}

@test "process: env and cwd from the config" {
	jq_config '.process.env = ["A=1","PATH=/bin"] | .process.cwd = "/etc"'
	run_in sh -c 'echo $A; pwd'
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = /etc ]
}
