#!/bin/sh
# AppArmor for real (busybox sh, inside the check-vm VM, TAP on stdout): the
# build machines have no AppArmor, the VM's Debian cloud kernel does (its
# default major LSM). Loads a profile with apparmor_parser (copied in by
# tests/vm/run.sh when the host has it) and checks that $VSRUN puts the
# container's process, and an exec'd one, under it; that the profile
# confines (a denied read fails); that a profile which is not loaded fails
# create with a clear line.
VSRUN=${VSRUN:-/vs/build/vsrun}
SEC=/sys/kernel/security

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
diag() { echo "# $*"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

TESTS="profile_applied confined exec_default exec_apparmor missing_profile unconfined"
why=
[ -d $SEC/apparmor ] || mount -t securityfs securityfs $SEC 2>/dev/null
if [ ! -x "$VSRUN" ]; then why="vsrun not built ($VSRUN does not exist)"
elif ! command -v jq >/dev/null; then why="jq is not in the VM"
elif [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || [ ! -d $SEC/apparmor ]; then
	why="AppArmor is not enabled in this kernel ($(uname -r))"
elif ! command -v apparmor_parser >/dev/null; then
	why="apparmor_parser is not in the VM (apt-get install apparmor on the host)"
fi
if [ -n "$why" ]; then
	echo "# apparmor.sh SKIPPED: the AppArmor apply path is UNTESTED: $why" >&2
	for t in $TESTS; do skip "$t: AppArmor apply path untested: $why"; done
	echo "1..$n"
	exit 0
fi

T=$(mktemp -d /tmp/aa.XXXXXX)
ROOT=$T/state
mkdir -p "$ROOT" "$T/b/rootfs"
for d in bin etc proc sys dev tmp root; do mkdir -p "$T/b/rootfs/$d"; done
cp /bin/busybox "$T/b/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do ln -s busybox "$T/b/rootfs/bin/$a" 2>/dev/null; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$T/b/rootfs/etc/passwd"
echo secret >"$T/b/rootfs/etc/secret"
vs() { timeout 30 "$VSRUN" --root "$ROOT" "$@"; }
cleanup() {
	for c in aa1 aa2 aa3 aa4; do timeout 5 "$VSRUN" --root "$ROOT" delete --force $c >/dev/null 2>&1; done
	echo -n vstest-aa >$SEC/apparmor/.remove 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# everything allowed but reading /etc/secret (attach_disconnected: the
# container's paths are outside the host's root view)
cat >"$T/profile" <<'EOF'
profile vstest-aa flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  mount,
  umount,
  pivot_root,
  signal,
  ptrace,
  unix,
  deny /etc/secret r,
}
EOF
if ! out=$(apparmor_parser -r -K "$T/profile" 2>&1); then
	diag "apparmor_parser: $out"
fi
grep -q vstest-aa $SEC/apparmor/profiles 2>/dev/null || diag "profile not loaded: $(cat $SEC/apparmor/profiles 2>&1 | head -n 3)"

(cd "$T/b" && "$VSRUN" spec) || diag "vsrun spec failed"
base=$(jq '.process.terminal = false | .root.readonly = true' "$T/b/config.json")
cfg() { echo "$base" | jq "$1" >"$T/b/config.json"; }

cfg '.process.args = ["cat", "/proc/self/attr/current"] | .process.apparmorProfile = "vstest-aa"'
out=$(vs run --bundle "$T/b" aa1 </dev/null 2>&1)
diag "profile: $out"
check "profile_applied: the process runs under vstest-aa (enforce)" [ "$out" = "vstest-aa (enforce)" ]

cfg '.process.args = ["sh", "-c", "cat /etc/passwd >/dev/null && cat /etc/secret"] | .process.apparmorProfile = "vstest-aa"'
out=$(vs run --bundle "$T/b" aa2 </dev/null 2>&1); rc=$?
diag "confined: exit $rc: $out"
denied() { [ $rc -ne 0 ] && ! echo "$out" | grep -q '^secret$'; }
check "confined: the profile denies reading /etc/secret" denied

cfg '.process.args = ["sleep", "1000"] | .process.apparmorProfile = "vstest-aa"'
if vs run -d --bundle "$T/b" aa3 </dev/null >/dev/null 2>&1; then
	out=$(vs exec aa3 cat /proc/self/attr/current 2>&1)
	check "exec_default: exec takes the container's profile ($out)" [ "$out" = "vstest-aa (enforce)" ]
	vs delete --force aa3 >/dev/null 2>&1
else
	not_ok "exec_default: the container did not start"
fi
cfg '.process.args = ["sleep", "1000"]'
if vs run -d --bundle "$T/b" aa4 </dev/null >/dev/null 2>&1; then
	out=$(vs exec --apparmor vstest-aa aa4 cat /proc/self/attr/current 2>&1)
	check "exec_apparmor: exec --apparmor vstest-aa ($out)" [ "$out" = "vstest-aa (enforce)" ]
	out=$(vs exec aa4 cat /proc/self/attr/current 2>&1)
	check "unconfined: without a profile the process is unconfined ($out)" [ "$out" = "unconfined" ]
	vs delete --force aa4 >/dev/null 2>&1
else
	not_ok "exec_apparmor: the container did not start"
	not_ok "unconfined: the container did not start"
fi

cfg '.process.args = ["true"] | .process.apparmorProfile = "vstest-no-such-profile"'
out=$(vs run --bundle "$T/b" aa5 </dev/null 2>&1); rc=$?
diag "missing: exit $rc: $out"
refused() {
	[ $rc -ne 0 ] && [ ! -e "$ROOT/aa5" ] &&
		echo "$out" | grep -q 'apparmorProfile vstest-no-such-profile: no such profile is loaded'
}
check "missing_profile: create fails naming the profile, nothing left" refused

echo "1..$n"
[ $failed -eq 0 ]
