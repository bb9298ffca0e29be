#!/bin/sh
# cgroup v2 for real (busybox sh, inside the check-vm VM, TAP on stdout):
# drives $VSRUN (runc's CLI) on a busybox bundle and checks what lands in
# /sys/fs/cgroup: its own cgroup, memory.max OOM-kills, pids.max refuses
# forks, cpu.max throttles, pause/resume freeze, update is live, delete
# removes the cgroup. Needs a pure cgroup2 hierarchy with the controllers
# enabled at the root (the VM's /init does that) and jq.
TESTS="own_cgroup pause resume update delete oom pids cpu exec_nested nsdelegate flat_raises delegated delegated_exec delegated_oom delegated_update delegated_delete run"
. "$(dirname "$0")/lib.inc"

# --- own cgroup, pause, resume, update, delete: one long-lived container
if bundle own '["/bin/sleep","1000"]' '.linux.resources.memory.limit = 33554432' && launch own; then
	pid=$(pid_of own)
	in_cg() {
		grep -qx '0::/vstest-own' "/proc/$pid/cgroup" || { diag "/proc/$pid/cgroup: $(cat "/proc/$pid/cgroup")"; return 1; }
		grep -qx "$pid" $CG/vstest-own/cgroup.procs && file_is $CG/vstest-own/memory.max 33554432
	}
	check "own_cgroup: the container's init is in its own cgroup /vstest-own with memory.max from the config" in_cg
	paused() {
		vs pause own || return 1
		file_is $CG/vstest-own/cgroup.freeze 1 && wait_grep '^frozen 1' $CG/vstest-own/cgroup.events &&
			wait_status own paused
	}
	check "pause: cgroup.freeze 1, cgroup.events frozen 1, state paused" paused
	resumed() {
		vs resume own || return 1
		file_is $CG/vstest-own/cgroup.freeze 0 && wait_grep '^frozen 0' $CG/vstest-own/cgroup.events &&
			wait_status own running
	}
	check "resume: cgroup.freeze 0, state running" resumed
	updated() {
		vs update --memory 67108864 own || return 1
		file_is $CG/vstest-own/memory.max 67108864 && kill -0 "$pid"
	}
	check "update --memory 64M: memory.max changes live" updated
	deleted() {
		vs kill own KILL || return 1
		wait_status own stopped || return 1
		vs delete own || return 1
		[ ! -e $CG/vstest-own ] || { diag "$CG/vstest-own is still there"; return 1; }
		! vs state own >/dev/null 2>&1
	}
	check "delete: kill, stopped, delete removes the cgroup directory and the state" deleted
else
	for t in own_cgroup pause resume update delete; do not_ok "$t: the container did not start"; done
fi

# --- memory.max 32M: a 64M dd buffer is OOM-killed
if bundle oom '["/bin/dd","if=/dev/zero","of=/dev/null","bs=64M","count=1"]' \
	'.linux.resources.memory.limit = 33554432' && launch oom; then
	oomed() {
		wait_status oom stopped 300 || return 1
		file_is $CG/vstest-oom/memory.max 33554432 || return 1
		k=$(awk '$1 == "oom_kill" { print $2 }' $CG/vstest-oom/memory.events)
		diag "memory.events: $(tr '\n' ' ' <$CG/vstest-oom/memory.events)"
		diag "the container's output: $(tr '\n' ' ' <"$T/oom.out")"
		[ "${k:-0}" -ge 1 ]
	}
	check "oom: memory.max 32M OOM-kills a 64M hog (memory.events oom_kill >= 1)" oomed
	vs delete --force oom >/dev/null 2>&1
else
	not_ok "oom: the container did not start"
fi

# --- pids.max 20: forks beyond it fail
if bundle pids '["/bin/sh","-c","i=0; while [ $i -lt 40 ]; do sleep 60 & i=$((i + 1)); done; echo forked $i; sleep 60"]' \
	'.linux.resources.pids.limit = 20' && launch pids; then
	refused() {
		file_is $CG/vstest-pids/pids.max 20 || return 1
		wait_grep '^max [1-9]' $CG/vstest-pids/pids.events 200 ||
			{ diag "status $(status_of pids), output: $(tr '\n' ' ' <"$T/pids.out")"; return 1; }
		c=$(cat $CG/vstest-pids/pids.current)
		diag "pids.current $c, pids.events: $(cat $CG/vstest-pids/pids.events), output: $(tr '\n' ' ' <"$T/pids.out")"
		[ "$c" -le 20 ] && ! grep -q 'forked 40' "$T/pids.out"
	}
	check "pids: pids.max 20 refuses forks (pids.events max >= 1, never 40 children)" refused
	vs delete --force pids >/dev/null 2>&1
else
	not_ok "pids: the container did not start"
fi

# --- cpu.max 50%: a spinner gets about half a CPU
if bundle cpu '["/bin/sh","-c","while :; do :; done"]' \
	'.linux.resources.cpu.quota = 50000 | .linux.resources.cpu.period = 100000' && launch cpu; then
	usage() { awk '$1 == "usage_usec" { print $2 }' $CG/vstest-cpu/cpu.stat; }
	halved() {
		file_is $CG/vstest-cpu/cpu.max "50000 100000" || return 1
		sleep 1
		u0=$(usage); t0=$(cut -d' ' -f1 /proc/uptime)
		sleep 4
		u1=$(usage); t1=$(cut -d' ' -f1 /proc/uptime)
		pct=$(awk -v u0="$u0" -v u1="$u1" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%d", (u1 - u0) / ((t1 - t0) * 1e6) * 100 }')
		diag "spinner used $pct% of one CPU over $t0..$t1 s; cpu.stat: $(tr '\n' ' ' <$CG/vstest-cpu/cpu.stat)"
		thr=$(awk '$1 == "nr_throttled" { print $2 }' $CG/vstest-cpu/cpu.stat)
		[ "$pct" -ge 25 ] && [ "$pct" -le 65 ] && [ "${thr:-0}" -gt 0 ]
	}
	check "cpu: cpu.max 50000 100000 holds a spinner to about 50% (25-65%, throttled)" halved
	vs delete --force cpu >/dev/null 2>&1
else
	not_ok "cpu: the container did not start"
fi

# --- exec into a container whose init made a cgroup of its own and enabled a
# controller for it, as systemd does: the container's cgroup is no longer a
# leaf (EBUSY), so the exec'd process joins init's cgroup
if bundle nest '["/bin/sh","-c","mkdir /sys/fs/cgroup/init && echo $$ >/sys/fs/cgroup/init/cgroup.procs && echo +pids >/sys/fs/cgroup/cgroup.subtree_control && echo nested && exec sleep 1000"]' \
	'.mounts |= map(if .destination == "/sys/fs/cgroup" then .type = "cgroup2" | .options = ["nosuid", "noexec", "nodev"] else . end)' &&
	launch nest; then
	nested_exec() {
		wait_grep '^nested' "$T/nest.out" || return 1
		file_is $CG/vstest-nest/cgroup.subtree_control pids || return 1
		out=$(vs exec nest cat /proc/self/cgroup 2>&1); rc=$?
		diag "exec_nested: exit $rc: $out"
		[ $rc -eq 0 ] && [ "$out" = "0::/init" ] || return 1
		vs delete --force nest || return 1
		[ ! -e $CG/vstest-nest ] || { diag "$CG/vstest-nest is still there"; return 1; }
	}
	check "exec_nested: exec joins init's cgroup when init enabled controllers below the container's; delete removes both" nested_exec
else
	not_ok "exec_nested: the container did not start"
fi

# --- a writable cgroup2 (what a systemd guest gets) on a host WITHOUT
# nsdelegate (this VM's default mount; the nsdelegate test below adds it). flat_raises, the control: with the container's processes in
# the cgroup that carries its limits, its root raises its own memory.max.
# delegated: with the org.vserver.delegate-cgroup annotation (what
# `vserver create --init` writes) the limits stay on /vstest-dlg, the guest
# lives in /vstest-dlg/guest and its cgroup namespace is rooted there: the
# same write succeeds but changes only the inner cgroup, and a 64M hog exec'd
# into the guest is still OOM-killed under the outer 32M.
RW_CG='.mounts |= map(if .destination == "/sys/fs/cgroup" then .type = "cgroup2" | .options = ["nosuid", "noexec", "nodev"] else . end)'
RAISE='cd /sys/fs/cgroup; echo max >memory.max; echo own=$?; echo root=$(cat memory.max)'
if grep -q nsdelegate /proc/mounts; then
	for t in flat_raises delegated delegated_exec delegated_oom delegated_update delegated_delete; do
		skip "$t: $CG is mounted with nsdelegate here"
	done
else
	if bundle flat "[\"/bin/sh\",\"-c\",\"$RAISE; exec sleep 1000\"]" \
		".linux.resources.memory.limit = 33554432 | $RW_CG" && launch flat; then
		raised() {
			wait_grep '^root=' "$T/flat.out" || return 1
			diag "flat_raises: $(tr '\n' ' ' <"$T/flat.out")"
			grep -q '^own=0' "$T/flat.out" && file_is $CG/vstest-flat/memory.max max
		}
		check "flat_raises: without nsdelegate or a delegated cgroup the guest raises its own memory.max (the hole)" raised
		vs delete --force flat >/dev/null 2>&1
	else
		not_ok "flat_raises: the container did not start"
	fi
	if bundle dlg "[\"/bin/sh\",\"-c\",\"$RAISE; mkdir init && echo \$\$ >init/cgroup.procs && echo +memory +pids >cgroup.subtree_control; echo sub=\$?; exec sleep 1000\"]" \
		".linux.resources.memory.limit = 33554432 | .annotations[\"org.vserver.delegate-cgroup\"] = \"guest\" | $RW_CG" &&
		launch dlg; then
		pid=$(pid_of dlg)
		delegated() {
			wait_grep '^sub=' "$T/dlg.out" || return 1
			diag "delegated: $(tr '\n' ' ' <"$T/dlg.out"); init: $(cat /proc/$pid/cgroup)"
			grep -q '^own=0' "$T/dlg.out" && grep -q '^sub=0' "$T/dlg.out" &&
				file_is $CG/vstest-dlg/memory.max 33554432 && file_is $CG/vstest-dlg/guest/memory.max max &&
				file_is /proc/$pid/cgroup 0::/vstest-dlg/guest/init && file_is $CG/vstest-dlg/cgroup.procs ""
		}
		check "delegated: the guest's write to its root's memory.max lands on /vstest-dlg/guest; /vstest-dlg keeps 32M and no process" delegated
		dexec() {
			out=$(vs exec dlg cat /proc/self/cgroup 2>&1); rc=$?
			diag "delegated_exec: exit $rc: $out"
			[ $rc -eq 0 ] && [ "$out" = "0::/init" ]
		}
		check "delegated_exec: exec lands beside init inside the guest's cgroup namespace (0::/init)" dexec
		doom() {
			vs exec dlg dd if=/dev/zero of=/dev/null bs=64M count=1 >"$T/dlg-dd.out" 2>&1; rc=$?
			k=$(awk '$1 == "oom_kill" { print $2 }' $CG/vstest-dlg/memory.events)
			l=$(awk '$1 == "oom" { print $2 }' $CG/vstest-dlg/memory.events.local)
			diag "delegated_oom: dd exit $rc ($(tr '\n' ' ' <"$T/dlg-dd.out")); outer memory.events: $(tr '\n' ' ' <$CG/vstest-dlg/memory.events)"
			[ $rc -ne 0 ] && [ "${k:-0}" -ge 1 ] && [ "${l:-0}" -ge 1 ] && kill -0 "$pid"
		}
		check "delegated_oom: a 64M hog exec'd into the guest is OOM-killed by the outer 32M (memory.events.local oom >= 1)" doom
		dupd() {
			vs update --memory 67108864 dlg || return 1
			st=$(vs events --stats dlg 2>&1) || { diag "events --stats: $st"; return 1; }
			lim=$(echo "$st" | jq -r .data.memory.usage.limit)
			diag "delegated_update: stats memory limit $lim"
			file_is $CG/vstest-dlg/memory.max 67108864 && file_is $CG/vstest-dlg/guest/memory.max max &&
				[ "$lim" = 67108864 ]
		}
		check "delegated_update: update sets the outer memory.max live, the stats read the outer" dupd
		ddel() {
			vs delete --force dlg || return 1
			[ ! -e $CG/vstest-dlg ] || { diag "left: $(find $CG/vstest-dlg -type d | tr '\n' ' ')"; return 1; }
		}
		check "delegated_delete: delete --force removes the outer, the inner and what the guest made" ddel
	else
		for t in delegated delegated_exec delegated_oom delegated_update delegated_delete; do
			not_ok "$t: the container did not start"
		done
	fi
fi

# --- a writable cgroup2 (what a systemd guest gets) on a host that mounts
# cgroup2 with nsdelegate (systemd hosts do): the container cannot change the
# limits of its own cgroup, the root of its cgroup namespace, but can make
# and limit cgroups below it
if mount -o remount,nsdelegate $CG 2>/dev/null; then
	if bundle deleg '["/bin/sh","-c","cd /sys/fs/cgroup; echo 999999999 >memory.max; echo own=$?; mkdir init sub && echo $$ >init/cgroup.procs && echo +memory >cgroup.subtree_control && echo 1048576 >sub/memory.max; echo sub=$?; exec sleep 1000"]' \
		'.linux.resources.memory.limit = 33554432 | .mounts |= map(if .destination == "/sys/fs/cgroup" then .type = "cgroup2" | .options = ["nosuid", "noexec", "nodev"] else . end)' &&
		launch deleg; then
		delegated() {
			wait_grep '^sub=' "$T/deleg.out" || return 1
			diag "nsdelegate: $(tr '\n' ' ' <"$T/deleg.out")"
			file_is $CG/vstest-deleg/memory.max 33554432 && file_is $CG/vstest-deleg/sub/memory.max 1048576 &&
				grep -q '^own=1' "$T/deleg.out" && grep -q '^sub=0' "$T/deleg.out"
		}
		check "nsdelegate: a writable cgroup2 cannot raise its own memory.max, can limit its children" delegated
		vs delete --force deleg >/dev/null 2>&1
	else
		not_ok "nsdelegate: the container did not start"
	fi
	mount -o remount $CG
else
	skip "nsdelegate: remount of $CG with nsdelegate refused"
fi

# --- run: foreground, output, exit status, and nothing left behind
ran() {
	[ -z "$HUNG" ] || { diag "run: not run: $HUNG"; return 1; }
	bundle run '["/bin/sh","-c","echo hello from $(cat /proc/self/cgroup); exit 3"]' || return 1
	vs run --bundle "$T/run" run </dev/null >"$T/run.out" 2>&1; rc=$?
	hung_if $rc run
	out=$(cat "$T/run.out")
	diag "run: exit $rc, output: $out"
	[ $rc -eq 3 ] && { [ "$out" = "hello from 0::/" ] || [ "$out" = "hello from 0::/vstest-run" ]; } && [ ! -e $CG/vstest-run ]
}
check "run: prints, exits 3, leaves no cgroup" ran

echo "1..$n"
[ $failed -eq 0 ]
