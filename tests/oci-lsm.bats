#!/usr/bin/env bats
# Security modules and other things a host may lack: an AppArmor profile, an
# SELinux process label and Intel RDT are applied where the host has them
# and refused with one clear line where it does not, never ignored. A mount
# label, which confines nothing by itself, is ignored with a warning there.
# The AppArmor and SELinux apply paths run for real in the throwaway VM
# (tests/vm/apparmor.sh, tests/vm/selinux.sh, `make check-vm`): its Debian
# kernel has both (SELinux in a boot of its own, with a tiny policy).

load helpers
bats_require_minimum_version 1.5.0

setup() { setup_bundle; }
teardown() { teardown_bundle; }

apparmor_enabled() {
	[ -d /sys/kernel/security/apparmor ] &&
		[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]
}
selinux_enabled() { [ -e /sys/fs/selinux/enforce ]; }

# refused PATTERN: `vsrun run` of the bundle fails with one stderr line
# matching PATTERN, and nothing is left (state dir, cgroup, mounts)
refused() {
	run --separate-stderr vsrun run -b "$BUNDLE" "$ID"
	echo "status=$status stderr=$stderr"
	[ "$status" -ne 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == $1 ]]
	[ ! -e "$ROOT/$ID" ]
	[ ! -e "/sys/fs/cgroup/pids/vsrun/$ID" ]
	! grep -q " $BUNDLE" /proc/self/mountinfo
}

@test "lsm: apparmorProfile without AppArmor is refused at create" {
	apparmor_enabled && skip "AppArmor is enabled here: the refusal path is untested on this host (the apply path is tests/vm/apparmor.sh)"
	jq_config '.process.apparmorProfile = "vstest-profile" | .process.args = ["true"]'
	refused "vsrun: conf: config.json: process.apparmorProfile vstest-profile: AppArmor is not enabled on this host"
}

@test "lsm: the AppArmor apply path (container, exec, exec --apparmor, a missing profile)" {
	apparmor_enabled || skip "AppArmor is NOT enabled on this host: the apply path is UNTESTED here; it runs in the VM (make check-vm: tests/vm/apparmor.sh)"
	jq_config '.process.apparmorProfile = "vstest-no-such-profile" | .process.args = ["true"]'
	refused "vsrun: process: apparmorProfile vstest-no-such-profile: no such profile is loaded*"
	jq_config '.process.apparmorProfile = "unconfined" | .process.args = ["cat", "/proc/self/attr/current"]'
	run vsrun run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "$output" = unconfined ]
}

@test "lsm: exec --apparmor without AppArmor is refused, the container untouched" {
	apparmor_enabled && skip "AppArmor is enabled here: the refusal path is untested on this host"
	vsrun_detached -b "$BUNDLE" "$ID"
	run --separate-stderr vsrun exec --apparmor vstest-profile "$ID" true
	echo "status=$status stderr=$stderr"
	[ "$status" -ne 0 ]
	[ "$stderr" = "vsrun: exec: process.apparmorProfile vstest-profile: AppArmor is not enabled on this host" ]
	[ "$(state_of "$ID")" = running ]
	# and a plain exec still works
	run vsrun exec "$ID" echo fine
	[ "$output" = fine ]
}

@test "lsm: selinuxLabel without SELinux is refused at create" {
	selinux_enabled && skip "SELinux is enabled here: the refusal path is untested on this host"
	jq_config '.process.selinuxLabel = "system_u:system_r:container_t:s0" | .process.args = ["true"]'
	refused "vsrun: conf: config.json: process.selinuxLabel system_u:system_r:container_t:s0: SELinux is not enabled on this host"
}

# A mount label alone confines nothing (the process label does): without
# SELinux it is ignored with a warning, and no context= reaches mount(2),
# whose tmpfs would reject it with EINVAL (/dev is a tmpfs in `vsrun spec`).
@test "lsm: linux.mountLabel without SELinux is ignored with a warning, the container runs" {
	selinux_enabled && skip "SELinux is enabled here: the ignore path is untested on this host"
	jq_config '.linux.mountLabel = "system_u:object_r:container_file_t:s0" |
		.mounts += [{"destination": "/vstest-tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}] |
		.process.args = ["sh", "-c", "grep -c -e \" /dev \" -e \" /vstest-tmp \" /proc/self/mountinfo; grep -c context= /proc/self/mountinfo || true"]'
	run --separate-stderr "$VSRUN" --root "$ROOT" --log "$TESTTMP/log.txt" run -b "$BUNDLE" "$ID"
	echo "status=$status stdout=$output stderr=$stderr"
	[ "$status" -eq 0 ]
	[ "$stderr" = "vsrun: warning: conf: config.json: linux.mountLabel system_u:object_r:container_file_t:s0: SELinux is not enabled on this host, the label is ignored" ]
	# both tmpfs mounts are there, neither with a context= option
	[ "${lines[0]}" = 2 ] && [ "${lines[1]}" = 0 ]
	grep -q 'level=warning msg="conf: config.json: linux.mountLabel system_u:object_r:container_file_t:s0: SELinux is not enabled' "$TESTTMP/log.txt"
	[ ! -e "$ROOT/$ID" ]
}

@test "lsm: selinuxLabel with a mountLabel, without SELinux: still refused, no warning first" {
	selinux_enabled && skip "SELinux is enabled here: the refusal path is untested on this host"
	jq_config '.linux.mountLabel = "system_u:object_r:container_file_t:s0" |
		.process.selinuxLabel = "system_u:system_r:container_t:s0" | .process.args = ["true"]'
	refused "vsrun: conf: config.json: process.selinuxLabel system_u:system_r:container_t:s0: SELinux is not enabled on this host"
}

@test "lsm: exec --process-label without SELinux is refused" {
	selinux_enabled && skip "SELinux is enabled here: the refusal path is untested on this host"
	vsrun_detached -b "$BUNDLE" "$ID"
	run --separate-stderr vsrun exec --process-label system_u:system_r:container_t:s0 "$ID" true
	echo "status=$status stderr=$stderr"
	[ "$status" -ne 0 ]
	[ "$stderr" = "vsrun: exec: process.selinuxLabel system_u:system_r:container_t:s0: SELinux is not enabled on this host" ]
	[ "$(state_of "$ID")" = running ]
}

@test "lsm: the SELinux apply path (a label the loaded policy does not know)" {
	selinux_enabled || skip "SELinux is NOT enabled on this host: the apply path is UNTESTED here; it runs in the VM with a policy of its own (make check-vm: tests/vm/selinux.sh)"
	jq_config '.process.selinuxLabel = "system_u:system_r:vstest_no_such_t:s0" | .process.args = ["true"]'
	refused "vsrun: conf: config.json: process.selinuxLabel system_u:system_r:vstest_no_such_t:s0: not a valid context in the loaded SELinux policy"
}

@test "lsm: linux.intelRdt is refused with the reason" {
	jq_config '.linux.intelRdt = {"closID": "vstest"} | .process.args = ["true"]'
	if grep -q resctrl /proc/filesystems && mountpoint -q /sys/fs/resctrl; then
		refused "vsrun: conf: config.json: linux.intelRdt: not supported by vsrun (resctrl groups are not managed)"
	else
		refused "vsrun: conf: config.json: linux.intelRdt: Intel RDT is not available on this host (no resctrl at /sys/fs/resctrl)"
	fi
}

@test "lsm: vsrun features: apparmor and selinux supported, intelRdt not" {
	run vsrun features
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.linux.apparmor.enabled == true and .linux.selinux.enabled == true and .linux.intelRdt.enabled == false'
}
