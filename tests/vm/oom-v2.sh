#!/bin/sh
# `vsrun events` names which cgroup's memory limit fired, on cgroup v2 for
# real (busybox sh, inside the check-vm VM, TAP on stdout): a container at
# /vstest-oomX/c, once with its own memory.max 32M under a 256M parent, once
# with 256M under a 32M parent; a 128 MiB hog is OOM-killed each time, and
# the oom event's data.cgroup/own/limit must name the level that fired (the
# kernel's memory.events.local "oom" of that level).
TESTS="own_limit parent_limit"
. "$(dirname "$0")/lib.inc"

# oom_case ID OWN-LIMIT PARENT-LIMIT: prints the first oom event
oom_case() {
	top=$CG/vstest-$1
	mkdir -p "$top" && echo "$3" >"$top/memory.max" || { diag "cannot make $top with memory.max $3"; return 1; }
	CGPATH=/vstest-$1/c bundle "$1" '["/bin/sleep","1000"]' ".linux.resources.memory.limit = $2" &&
		launch "$1" || return 1
	timeout 60 "$VSRUN" --root "$ROOT" events --interval 60s "$1" >"$T/$1.events" 2>&1 &
	ev=$!
	sleep 0.3
	vs exec "$1" sh -c 'x=$(head -c 134217728 /dev/zero | tr "\0" a); echo ${#x}' >"$T/$1.exec" 2>&1
	wait_grep '"type":"oom"' "$T/$1.events" 100 >/dev/null
	kill $ev 2>/dev/null
	diag "$1: events: $(tr '\n' ' ' <"$T/$1.events" | cut -c 1-300)..."
	diag "$1: memory.events.local oom: c=$(keyed "$top/c/memory.events.local" oom) parent=$(keyed "$top/memory.events.local" oom)"
	grep '"type":"oom"' "$T/$1.events" | head -n 1 >"$T/$1.oom"
	vs delete --force "$1" >/dev/null 2>&1
	rmdir "$top" 2>/dev/null
	[ -s "$T/$1.oom" ]
}
# names ID CGROUP OWN LIMIT
names() {
	e=$(cat "$T/$1.oom")
	diag "$1: $e"
	[ "$(echo "$e" | jq -r .data.cgroup)" = "$2" ] && [ "$(echo "$e" | jq -r .data.own)" = "$3" ] &&
		[ "$(echo "$e" | jq -r .data.limit)" = "$4" ] && [ "$(echo "$e" | jq -r .data.kills)" -ge 1 ]
}
own_limit() { oom_case oomown 33554432 268435456 && names oomown /vstest-oomown/c true 33554432; }
parent_limit() { oom_case oompar 268435456 33554432 && names oompar /vstest-oompar false 33554432; }
check "own_limit: the container's own memory.max 32M fires: the oom event names /vstest-oomown/c (own, limit 33554432)" own_limit
check "parent_limit: the parent's memory.max 32M fires: the oom event names /vstest-oompar (not own, limit 33554432)" parent_limit

echo "1..$n"
[ $failed -eq 0 ]
