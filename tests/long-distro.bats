#!/usr/bin/env bats
# Long test: a real distribution as a server. A Debian 12 minbase made with
# debootstrap (tests/fixtures/debootstrap.sh, cached per day) is imported as a
# rootfs tarball and booted with systemd as PID 1 on this host's cgroup
# layout. Skipped, loudly, when no Debian mirror can be reached.

load helpers

setup_file() {
	local out rc=0
	out=$("$BATS_TEST_DIRNAME/fixtures/debootstrap.sh" 2>"$BATS_FILE_TMPDIR/fixture.err") || rc=$?
	case $rc in
	0) echo "$out" >"$BATS_FILE_TMPDIR/tarball" ;;
	2)	# no debootstrap, no mirror, mirror unreachable: this machine
		{ echo "cannot make the Debian 12 fixture:"; tail -n 3 "$BATS_FILE_TMPDIR/fixture.err"; } |
			tr '\n' ' ' >"$BATS_FILE_TMPDIR/skip"
		echo "# SKIPPING the long distribution tests: $(cat "$BATS_FILE_TMPDIR/skip")" >&3 ;;
	*) echo "the fixture failed (exit $rc)" >"$BATS_FILE_TMPDIR/broken" ;;
	esac
	grep -h "made in" "$BATS_FILE_TMPDIR/fixture.err" | sed 's/^/# /' >&3 || true
}

setup() {
	[ ! -f "$BATS_FILE_TMPDIR/skip" ] || skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	if [ -f "$BATS_FILE_TMPDIR/broken" ]; then
		cat "$BATS_FILE_TMPDIR/broken" "$BATS_FILE_TMPDIR/fixture.err" >&2
		return 1
	fi
	TARBALL=$(cat "$BATS_FILE_TMPDIR/tarball")
	vs_setup
	D=${VSP}deb
}

teardown() { vs_teardown; }

# systemd's own answer, once it has one (starting/initializing are not)
sys_state() { vs exec "$D" systemctl is-system-running 2>/dev/null; }
settled() { case "$(sys_state)" in running | degraded) return 0 ;; esac; return 1; }

# boot_settled: waits (up to 2 min, 0.2 s steps, less if the server stops)
# for systemd to finish booting; prints the failed units when it settles
# degraded, the server's log when it never answers
boot_settled() {
	local i state
	for i in $(seq 600); do
		settled && break
		vs_status_is "$D" running || break # init died: no use waiting
		sleep 0.2
	done
	state=$(sys_state) || true
	if [ -z "$state" ]; then
		echo "# server status: $(vs_status "$D"); its log:" >&3
		vs logs "$D" | tail -n 20 | sed 's/^/#   /' >&3
	fi
	echo "# systemd: $state after about $((i / 5)).$((i % 5 * 2)) s" >&3
	if [ "$state" = degraded ]; then
		vs exec "$D" systemctl --failed --no-legend --plain | sed 's/^/#   failed: /' >&3
	fi
	[ "$state" = running ] || [ "$state" = degraded ]
}

# console_relays: pids of the console relays of this test's servers
console_relays() {
	local p
	for p in $(pgrep -x vserver-console); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "VSERVER_ROOT=$VSTMP" && echo "$p"
	done
	return 0
}

# pids of the host's processes in the pid namespace of process $1
pidns_members() {
	local ns p
	ns=$(readlink "/proc/$1/ns/pid")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
	done
	return 0
}

@test "debian 12 image: a debootstrap tarball imports with its digest, and a second import is deduplicated" {
	run vs image import "$TARBALL" --name debian:12
	[ "$status" -eq 0 ]
	digest=sha256:$(sha256sum "$TARBALL" | cut -d' ' -f1)
	vs image inspect debian:12 | jq -e --arg d "$digest" \
		'.name == "debian:12" and .source == "tarball" and .layers == [$d]'
	store=$VSTMP/lib/images
	[ -x "$store/layers/${digest#sha256:}/lib/systemd/systemd" ]
	[ "$(ls "$store/layers" | wc -l)" -eq 1 ]
	size1=$(du -sk "$store" | cut -f1)

	run vs image import "$TARBALL" --name debian:12-again
	[ "$status" -eq 0 ]
	vs image inspect debian:12-again | jq -e --arg d "$digest" '.layers == [$d]'
	# one layer and one blob for both names; the store did not grow by the image
	[ "$(ls "$store/layers" | wc -l)" -eq 1 ]
	[ "$(ls "$store/blobs/sha256" | wc -l)" -le 1 ]
	size2=$(du -sk "$store" | cut -f1)
	[ $((size2 - size1)) -lt $((size1 / 10)) ]
	[ -z "$(ls -A "$store/tmp")" ]
	echo "# store: $size1 KiB after one import, $size2 KiB after two" >&3

	# the layer stays while one name uses it, and goes with the last
	vs image rm debian:12
	vs image gc
	[ -d "$store/layers/${digest#sha256:}" ]
	vs image rm debian:12-again
	vs image gc
	[ ! -e "$store/layers/${digest#sha256:}" ]
}

@test "debian 12 server: systemd boots as PID 1, sees only its own processes, stops cleanly, leaves nothing" {
	vs image import "$TARBALL" --name debian:12 >/dev/null
	vs create "$D" --image debian:12 --init --memory 512M --pids 512
	vs start "$D"
	boot_settled

	[ "$(vs exec "$D" cat /proc/1/comm)" = systemd ]
	# one console relay, outside the server
	[ "$(console_relays | wc -l)" -eq 1 ]
	echo "# console relay: $(grep -E 'VmRSS|RssAnon' /proc/"$(console_relays)"/status | tr -s ' \t\n' ' ')" >&3
	# it is the small monitor program (--console-relay), not a fork of
	# vserver: against musl its own memory is about the monitor's
	relay=$(console_relays)
	[ "$(readlink "/proc/$relay/exe")" = "$(readlink -f "$(dirname "$VSERVER")/vserver-monitor")" ]
	if nm "$(dirname "$VSERVER")/vserver-monitor" 2>/dev/null | grep -q ' __init_libc$'; then
		[ "$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$relay/status")" -lt 512 ]
	fi
	# systemd started a getty on the console: its prompt came through
	wait_for sh -c "'$VSERVER' logs '$D' | grep -q 'login:'"
	vs exec "$D" cat /proc/1/environ | tr '\0' '\n' | grep -qx container=vserver
	# systemd runs its services in the cgroup tree it was given
	vs exec "$D" systemctl is-active systemd-journald.service dbus.service
	vs exec "$D" grep -qx '0::/system.slice/systemd-journald.service' \
		/proc/"$(vs exec "$D" systemctl show -P MainPID systemd-journald.service)"/cgroup
	# below the delegated cgroup "guest": the limits are on the level above
	[ -d "/sys/fs/cgroup/unified/vsrun-vserver/$D/guest/system.slice" ]
	[ -z "$(cat /sys/fs/cgroup/unified/vsrun-vserver/"$D"/cgroup.procs)" ]
	# and the server's limits still hold from the v1 hierarchies
	[ "$(vs_cg memory "$D" memory.limit_in_bytes)" = 536870912 ]
	[ "$(vs_cg pids "$D" pids.max)" = 512 ]
	init=$(vs info --format json "$D" | jq -r .pid)
	for h in memory pids cpu freezer devices; do
		grep -qx "$init" /sys/fs/cgroup/$h/vsrun-vserver/"$D"/guest/cgroup.procs
		[ -z "$(cat /sys/fs/cgroup/$h/vsrun-vserver/"$D"/cgroup.procs)" ]
	done
	# an exec'd process joins the guest's cgroup in every hierarchy: its
	# cgroup namespace's root, "/" from inside
	run vs exec "$D" cat /proc/self/cgroup
	[ "$status" -eq 0 ]
	echo "# exec: $(echo $output)" >&3
	[ -z "$(echo "$output" | grep -v ':/$')" ]
	# live limits and stats are the outer cgroup's
	vs set "$D" --memory 256M
	[ "$(vs_cg memory "$D" memory.limit_in_bytes)" = 268435456 ]
	st=$(vs stats --format json "$D")
	echo "# stats: $st" >&3
	echo "$st" | jq -e '.memoryLimit == 268435456 and .memoryUsage > 1048576 and .pids >= 3 and .pidsLimit == 512'

	# ps inside lists exactly the processes of the server's pid namespace
	inside=$(vs exec "$D" ps -e -o pid=,comm= | awk '$2 != "ps" { print $2 }' | sort)
	echo "# processes: $(echo $inside)" >&3
	[ "$(echo "$inside" | grep -cx systemd)" -eq 1 ]
	echo "$inside" | grep -qx systemd-journal
	! echo "$inside" | grep -qx -e vserver-mon -e bats -e 'process_api'
	[ "$(echo "$inside" | wc -l)" -eq "$(pidns_members "$init" | wc -l)" ]

	# a machine id of its own, written at first boot
	vs exec "$D" grep -qE '^[0-9a-f]{32}$' /etc/machine-id

	# stop: SIGRTMIN+3, systemd runs its shutdown and exits 0 by itself
	# (a kill after the timeout would be 137)
	vs stop --timeout 60 "$D"
	[ "$(vs info --format json "$D" | jq -r .lastExit)" -eq 0 ]
	# systemd's boot and shutdown messages reached console.log through the
	# server's /dev/console (a pty the start helper relays), plain "\n" lines
	vs logs "$D" | grep -q 'Welcome to .*Debian'
	vs logs "$D" | grep -q 'Reached target.*Multi-User System'
	vs logs "$D" | grep -q 'Exiting container'
	echo "# console.log: $(vs logs "$D" | wc -l) lines, $(vs logs "$D" | grep -c $'\r') with a CR" >&3
	vs logs "$D" | grep -v $'\r' | grep -q 'Reached target'
	# the relay went with the server
	! console_relays | grep -q .
	vs logs "$D" | tail -n 1 | grep -q 'exited with status 0$'
	[ -z "$(vs_leftovers "$D")" ]

	# it boots again from its own disk
	vs start "$D"
	boot_settled
	vs exec "$D" grep -qE '^[0-9a-f]{32}$' /etc/machine-id

	# destroy while running: nothing of it anywhere, in any hierarchy
	vs destroy --force "$D"
	[ -z "$(vs_leftovers "$D")" ]
	[ -z "$(find /sys/fs/cgroup/*/vsrun-vserver -maxdepth 1 -name "$D" 2>/dev/null)" ]
	! grep -qF "$VSTMP/" /proc/self/mountinfo
	[ ! -e "$VSTMP/lib/servers/$D" ]
	[ -z "$(ls "$VSTMP/run" 2>/dev/null | grep -F "$D")" ]
	wait_for pid_dead "$init"
}
