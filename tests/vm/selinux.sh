#!/bin/sh
# vm-append: security=selinux
# SELinux for real (busybox sh, inside the check-vm VM, TAP on stdout). The
# build machines have no SELinux; the VM's Debian cloud kernel has it built
# in but boots AppArmor, so run.sh boots this script on its own with
# security=selinux (the line above). It loads the tiny policy of
# tests/vm/selinux/policy.conf (compiled on the host by run.sh), turns
# enforcing on, and checks that $VSRUN puts the container's process and an
# exec'd one in their label, the mount label on the container's new
# filesystems, the process label on its session keyring; that a bad label
# fails create with one line and leaves nothing; that the label confines (a
# secret_t file stays unreadable, no way back to the host's domain); and the
# same labels in a user namespace.
TESTS="policy_loaded process_label label_from_outside exec_label exec_process_label
mount_label_outside mount_label_inside mask_label exec_invalid_label mount_label_unlabeled
keyring_label confined
no_dyntransition no_exec_transition invalid_label invalid_mount_label no_label userns_labels"
NEEDS="getfattr"
SELFS=/sys/fs/selinux
POLICY=/vs/tests/vm/selinux.policy
. tests/vm/lib.inc

[ -d $SELFS ] && ! grep -q " $SELFS selinuxfs" /proc/mounts && mount -t selinuxfs selinuxfs $SELFS 2>/dev/null
grep -q " $SELFS selinuxfs" /proc/mounts ||
	skip_all "the SELinux apply path is UNTESTED: SELinux is not the active LSM (kernel $(uname -r), command line: $(cat /proc/cmdline))"
[ -f $POLICY ] || skip_all "the SELinux apply path is UNTESTED: no compiled policy (apt-get install checkpolicy on the host)"

HOST=system_u:system_r:kernel_t:s0
L1=system_u:system_r:container_t:s0:c1,c2
L2=system_u:system_r:container2_t:s0:c3
ML=system_u:object_r:container_file_t:s0:c1,c2
SECRET=system_u:object_r:secret_t:s0

# the policy; from here on every process but ours needs its rules (we stay
# kernel_t, a permissive domain, so the runtime itself is never denied)
if cat $POLICY >$SELFS/load 2>"$T/load.err" && echo 1 >$SELFS/enforce; then
	check "policy_loaded: enforcing, we run as $(cat /proc/self/attr/current)" \
		[ "$(cat $SELFS/enforce)" = 1 -a "$(cat /proc/self/attr/current)" = "$HOST" ]
else
	not_ok "policy_loaded: loading $POLICY failed: $(cat "$T/load.err")"
	for t in $TESTS; do skip "$t: no policy"; done
	echo "1..$n"
	exit 1
fi
CLEANUP='umount "$T/secret" 2>/dev/null; echo 0 >$SELFS/enforce'

# label FILE: its security.selinux attribute
label() { getfattr -h --absolute-names --only-values -n security.selinux "$1" 2>&1 | tr -d '\0'; }
is() { # WHAT GOT WANT
	[ "$2" = "$3" ] && return 0
	diag "$1: got \"$2\", want \"$3\""
	return 1
}

# getfattr and keyctl inside the container: the VM's libraries bound in
mkdir -p "$T/rootfs/lib" "$T/rootfs/lib64" "$T/data"
cp "$(command -v getfattr)" "$T/rootfs/bin/getfattr"
command -v keyctl >/dev/null && cp "$(command -v keyctl)" "$T/rootfs/bin/keyctl"
LIBS='.mounts += [{"destination": "/lib", "type": "bind", "source": "/lib", "options": ["rbind", "ro"]}]'
[ -d /lib64 ] && LIBS="$LIBS"' | .mounts += [{"destination": "/lib64", "type": "bind", "source": "/lib64", "options": ["rbind", "ro"]}]'

# a secret file on a tmpfs labeled secret_t, beside an ordinary one
echo public >"$T/data/public"
mkdir -p "$T/secret"
mount -t tmpfs -o "context=$SECRET" vssecret "$T/secret" && echo secret >"$T/secret/file"
DATA='.mounts += [{"destination": "/data", "type": "bind", "source": "'"$T/data"'", "options": ["rbind", "ro"]},
	{"destination": "/secret", "type": "bind", "source": "'"$T/secret"'", "options": ["rbind", "ro"]}]'
TMP='.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}]'

# --- the process label, from inside and outside; exec -----------------------
bundle s1 '["sh", "-c", "cat /proc/self/attr/current; exec sleep 1000"]' \
	".process.selinuxLabel = \"$L1\" | .linux.mountLabel = \"$ML\" | $LIBS | $TMP"
if launch s1 && wait_grep system_u "$T/s1.out"; then
	check "process_label: the container's process runs as $L1" is inside "$(head -n 1 "$T/s1.out")" "$L1"
	pid=$(pid_of s1)
	check "label_from_outside: /proc/PID/attr/current of init is $L1" \
		is outside "$(cat /proc/$pid/attr/current 2>&1 | tr -d '\0')" "$L1"
	check "exec_label: vsrun exec runs as the container's label" \
		is exec "$(vs exec s1 cat /proc/self/attr/current 2>&1 | tr -d '\0')" "$L1"
	check "exec_process_label: exec --process-label $L2 overrides it" \
		is exec "$(vs exec --process-label "$L2" s1 cat /proc/self/attr/current 2>&1 | tr -d '\0')" "$L2"

	# the mount label: every new filesystem that takes one, seen from here
	bad=
	for d in /dev /dev/pts /dev/shm /dev/mqueue /tmp; do
		got=$(label /proc/$pid/root$d)
		[ "$got" = "$ML" ] || bad="$bad $d=$got"
	done
	check "mount_label_outside: /dev /dev/pts /dev/shm /dev/mqueue /tmp carry $ML" is outside "${bad# }" ""
	bad=
	for d in /dev /dev/pts /dev/shm /dev/mqueue /tmp; do
		got=$(vs exec s1 getfattr -h --absolute-names --only-values -n security.selinux $d 2>&1 | tr -d '\0')
		[ "$got" = "$ML" ] || bad="$bad $d=$got"
	done
	check "mount_label_inside: the same, read by getfattr in the container" is inside "${bad# }" ""
	# a masked directory is an empty tmpfs: it takes the label too
	check "mask_label: the masked /sys/firmware carries it" \
		is outside "$(label /proc/$pid/root/sys/firmware)" "$ML"
	out=$(vs exec --process-label system_u:system_r:no_such_t:s0 s1 true 2>&1)
	check "exec_invalid_label: exec --process-label with an unknown type fails in one line" \
		is exec "$out" "vsrun: exec: process.selinuxLabel system_u:system_r:no_such_t:s0: not a valid context in the loaded SELinux policy"
	# proc and sysfs carry their own labels (no context= there)
	got="$(label /proc/$pid/root/proc) $(label /proc/$pid/root/sys)"
	check "mount_label_unlabeled: proc and sysfs keep their own ($got)" \
		is outside "$got" "system_u:object_r:proc_t:s0 system_u:object_r:sysfs_t:s0"
else
	for t in process_label label_from_outside exec_label exec_process_label mount_label_outside \
		mount_label_inside mask_label exec_invalid_label mount_label_unlabeled; do not_ok "$t: the container did not start"; done
fi

# --- the session keyring gets the process label (keycreate) -----------------
if command -v keyctl >/dev/null; then
	bundle s2 '["keyctl", "security", "@s"]' ".process.selinuxLabel = \"$L1\" | $LIBS"
	launch s2 && wait_status s2 stopped
	check "keyring_label: the container's session keyring is labeled $L1" \
		is keyring "$(cat "$T/s2.out")" "$L1"
else
	skip "keyring_label: keyctl is not in the VM (apt-get install keyutils on the host)"
fi

# --- the label confines ------------------------------------------------------
diag "host reads the secret: $(cat "$T/secret/file" 2>&1) ($(label "$T/secret/file"))"
bundle s3 '["sh", "-c", "cat /data/public; cat /secret/file"]' ".process.selinuxLabel = \"$L1\" | $DATA"
launch s3 && wait_status s3 stopped
out=$(cat "$T/s3.out")
diag "confined: $(echo "$out" | tr '\n' ' ')"
denied() {
	[ "$(cat "$T/secret/file" 2>&1)" = secret ] && echo "$out" | grep -q '^public$' &&
		! echo "$out" | grep -q '^secret$' && echo "$out" | grep -q 'Permission denied'
}
check "confined: $L1 reads an ordinary file but not a secret_t one the host reads" denied

# no way back to the host's domain: not by attr/current, not by attr/exec
bundle s4 '["sh", "-c", "echo -n '"$HOST"' >/proc/self/attr/current; cat /proc/self/attr/current"]' \
	".process.selinuxLabel = \"$L1\""
launch s4 && wait_status s4 stopped
out=$(cat "$T/s4.out" | tr -d '\0')
diag "dyntransition: $(echo "$out" | tr '\n' ' ')"
check "no_dyntransition: writing $HOST to attr/current is refused" \
	sh -c 'echo "$1" | grep -q "Permission denied" && [ "$(echo "$1" | tail -n 1)" = "$2" ]' - "$out" "$L1"
bundle s5 '["sh", "-c", "echo -n '"$HOST"' >/proc/self/attr/exec && exec cat /proc/self/attr/current"]' \
	".process.selinuxLabel = \"$L1\""
launch s5 && wait_status s5 stopped
out=$(cat "$T/s5.out" | tr -d '\0')
diag "exec transition: $(echo "$out" | tr '\n' ' ')"
check "no_exec_transition: an execve into $HOST is refused" \
	sh -c '! echo "$1" | grep -q kernel_t && echo "$1" | grep -q "denied"' - "$out"

# --- a label the policy does not know: one line, nothing left behind -------
# refused ID WANT: create failed with the line WANT and left nothing
refused() {
	out=$(vs create --bundle "$T/$1" "$1" </dev/null 2>&1); rc=$?
	diag "$1: exit $rc: $out"
	left=
	[ -e "$ROOT/$1" ] && left="$left state"
	[ -e "$CG/vstest-$1" ] && left="$left cgroup"
	grep -q "$T/rootfs" /proc/mounts && left="$left mounts"
	[ $rc -ne 0 ] && [ "$out" = "$2" ] && [ -z "$left" ] && return 0
	diag "$1: want \"$2\"${left:+, left behind:$left}"
	return 1
}
bundle s6 '["true"]' '.process.selinuxLabel = "system_u:system_r:no_such_t:s0"'
check "invalid_label: create names the label, leaves nothing" refused s6 \
	"vsrun: conf: config.json: process.selinuxLabel system_u:system_r:no_such_t:s0: not a valid context in the loaded SELinux policy"
bundle s7 '["true"]' ".process.selinuxLabel = \"$L1\" | .linux.mountLabel = \"system_u:object_r:no_such_t:s0\""
check "invalid_mount_label: create names the mount label, leaves nothing" refused s7 \
	"vsrun: conf: config.json: linux.mountLabel system_u:object_r:no_such_t:s0: not a valid context in the loaded SELinux policy"

# without a label the process stays in the runtime's domain, as in runc
bundle s9 '["cat", "/proc/self/attr/current"]'
launch s9 && wait_status s9 stopped
check "no_label: without selinuxLabel the process keeps the runtime's domain" \
	is no_label "$(tr -d '\0' <"$T/s9.out")" "$HOST"

# --- the same in a user namespace --------------------------------------------
chmod 755 "$T"
chown -R 100000:100000 "$T/rootfs" 2>/dev/null
bundle s8 '["sh", "-c", "cat /proc/self/attr/current; echo; id -u; exec sleep 1000"]' \
	".process.selinuxLabel = \"$L1\" | .linux.mountLabel = \"$ML\" | $TMP
	 | .linux.namespaces += [{\"type\": \"user\"}]
	 | .linux.uidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]
	 | .linux.gidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]"
if launch s8 && wait_grep system_u "$T/s8.out"; then
	pid=$(pid_of s8)
	bad=
	for d in /dev /dev/pts /dev/shm /dev/mqueue /tmp; do
		got=$(label /proc/$pid/root$d)
		[ "$got" = "$ML" ] || bad="$bad $d=$got"
	done
	# the mqueue of the container's IPC namespace belongs to its root (made
	# once init is root in the user namespace: otherwise no label there)
	got=$(stat -c %u /proc/$pid/root/dev/mqueue)
	[ "$got" = 100000 ] || bad="$bad /dev/mqueue-owner=$got"
	wait_grep '^0$' "$T/s8.out"
	got="$(tr -d '\0' <"$T/s8.out" | tr '\n' ' ')$(vs exec s8 cat /proc/self/attr/current 2>&1 | tr -d '\0')"
	check "userns_labels: init (uid 0 inside) and exec run as $L1, mounts carry $ML, mqueue owned by the container's root" \
		is userns "$got${bad:+ wrong:$bad}" "$L1 0 $L1"
else
	not_ok "userns_labels: the container did not start"
fi
chown -R 0:0 "$T/rootfs" 2>/dev/null

echo "1..$n"
[ $failed -eq 0 ]
