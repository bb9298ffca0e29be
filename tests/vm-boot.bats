#!/usr/bin/env bats
# vm/: real guests. Debian's cloud kernel (6.1, not the host's) boots under
# QEMU, started by vm_start through tests/vm-driver, jailed in a cgroup of
# its own and in new mount/uts/ipc/net namespaces, with a tiny initramfs and
# a virtio-blk disk made by vm_disk_from_rootfs. The accelerator is what
# vm_choose_accel decides: on the developers' machines (nested paravirtual
# KVM) that is software emulation, announced with a warning.
# Each boot takes ~3-6 s under TCG; every wait is bounded.

load helpers

ROOT_DIR=$BATS_TEST_DIRNAME/..

setup_file() {
	local b=${BUILD:-build} objs o
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
	KERNEL=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1)
	[ -n "$KERNEL" ] || skip "no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)"
	command -v mke2fs >/dev/null || skip "mke2fs is not installed (e2fsprogs)"
	command -v cpio >/dev/null || skip "cpio is not installed"
	BB=$(command -v busybox) || skip "busybox is not installed (apt-get install busybox-static)"
	! ldd "$BB" >/dev/null 2>&1 || skip "$BB is not static (apt-get install busybox-static)"

	objs="$b/common/common.o"
	for o in "$ROOT_DIR"/vm/*.c; do objs="$objs $b/vm/$(basename "${o%.c}").o"; done
	make -s -C "$ROOT_DIR" $objs >&2
	DRIVER=$BATS_FILE_TMPDIR/vm-driver
	(cd "$ROOT_DIR" && cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
		-o "$DRIVER" tests/vm-driver.c $objs -lyajl -larchive)

	# the guest's initramfs: busybox, the modules for virtio-mmio, virtio-blk
	# and the ACPI power button, and an /init (below)
	local kver=${KERNEL##*/vmlinuz-} r=$BATS_FILE_TMPDIR/initramfs m rel
	local moddir=/lib/modules/$kver
	mkdir -p "$r"/{bin,dev,proc,sys,mnt,modules}
	cp "$BB" "$r/bin/busybox"
	for a in $("$BB" --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
	for m in virtio_ring virtio virtio_mmio virtio_blk button evdev; do
		rel=$(awk -F: -v m="$m" '{ n = $1; sub(".*/", "", n); sub("\\.ko.*", "", n); if (n == m) { print $1; exit } }' "$moddir/modules.dep" 2>/dev/null)
		[ -n "$rel" ] || continue   # built in
		case "$rel" in
		*.ko) cp "$moddir/$rel" "$r/modules/$m.ko" ;;
		*.ko.xz) xz -dc "$moddir/$rel" >"$r/modules/$m.ko" ;;
		*.ko.zst) zstd -qdc "$moddir/$rel" >"$r/modules/$m.ko" ;;
		esac
		echo "$m" >>"$r/modules/order"
	done
	cat >"$r/init" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order 2>/dev/null); do insmod /modules/$m.ko 2>/dev/null; done
echo "vserver-guest-ok $(uname -r)"
sed -n 's/^ *[0-9]* *[0-9]* *[0-9]* \(vd[a-z]*\)$/vserver-guest-partition \1/p' /proc/partitions
mount -t ext4 -o ro /dev/vda /mnt && echo "vserver-guest-disk $(cat /mnt/etc/vserver-disk)"
case " $(cat /proc/cmdline) " in *" vstest=poweroff "*) poweroff -f ;; esac
# The ACPI power button (QMP system_powerdown) arrives as a key on an input
# device named "Power Button"; there is no acpid here, so wait on it directly.
for e in /sys/class/input/event*; do
	[ "$(cat $e/device/name 2>/dev/null)" = "Power Button" ] && dev=/dev/input/${e##*/}
done
(n=0; while :; do n=$((n + 1)); echo "vserver-guest-tick $n"; sleep 1; done) &
echo "vserver-guest-waiting ${dev:-none}"
if [ -n "$dev" ]; then
	dd if=$dev of=/dev/null bs=24 count=1 2>/dev/null
	echo "vserver-guest-powerbutton"
	poweroff -f
fi
while :; do sleep 1000; done
EOF
	chmod +x "$r/init"
	(cd "$r" && find . | cpio -o -H newc --quiet) >"$BATS_FILE_TMPDIR/initrd.cpio"

	# the server's rootfs, as a disk
	busybox_rootfs "$BATS_FILE_TMPDIR/rootfs"
	echo "rootfs-of-vs-test" >"$BATS_FILE_TMPDIR/rootfs/etc/vserver-disk"
	"$DRIVER" disk "$BATS_FILE_TMPDIR/rootfs" 32M "$BATS_FILE_TMPDIR/disk.img"
	export DRIVER KERNEL
}

setup() {
	T=$BATS_TEST_TMPDIR
	CG=vstest-vm-$$-$BATS_TEST_NUMBER
	CGDIRS=()
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		CGDIRS=(/sys/fs/cgroup/$CG)
	else
		CGDIRS=(/sys/fs/cgroup/memory/$CG /sys/fs/cgroup/pids/$CG)
	fi
	mkdir -p "${CGDIRS[@]}"
	# a copy: the guest may write to its disk
	cp --sparse=always "$BATS_FILE_TMPDIR/disk.img" "$T/disk.img"
}

teardown() {
	local pid d
	pid=$(cat "$T/pid" 2>/dev/null) || true
	if [ -n "$pid" ] && [ -d /proc/$pid ]; then
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" 10 || true
	fi
	for d in "${CGDIRS[@]}"; do rmdir "$d" 2>/dev/null || true; done
	[ -f "$T/console" ] && con | sed 's/^/# console: /' | tail -n 12 >&3 || true
	return 0
}

# boot [APPEND...]: starts the guest; $T/pid, $T/qmp, $T/console, $T/start.err
boot() {
	local cg=() d
	for d in "${CGDIRS[@]}"; do cg+=(-g "$d"); done
	run "$DRIVER" start -q "$T/qmp" -k "$KERNEL" -i "$BATS_FILE_TMPDIR/initrd.cpio" \
		-a "console=ttyS0 quiet panic=-1 reboot=t pci=off $*" -d "$T/disk.img" \
		-c "$T/console" -l "$T/vmm.log" -m 256 -j -s "${cg[@]}"
	echo "$output" >&3
	[ "$status" -eq 0 ] || { cat "$T/vmm.log" >&3 2>/dev/null; return 1; }
	echo "${lines[-1]}" >"$T/pid"
	printf '%s\n' "${lines[@]}" | grep '^vm: ' >"$T/start.err" || true
}

# wait_console PATTERN SECS: the pattern on the console, or fail as soon as
# QEMU has ended (a guest panic ends it: panic=-1 and -no-reboot)
wait_console() {
	local i pid
	pid=$(cat "$T/pid")
	for i in $(seq $(($2 * 5))); do
		con | grep -q "$1" && return 0
		if ! [ -d /proc/$pid ] || grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null; then
			con | grep -q "$1" && return 0
			echo "# qemu ended without \"$1\" on the console" >&3
			return 1
		fi
		sleep 0.2
	done
	echo "# no \"$1\" on the console within $2 s" >&3
	return 1
}

# wait_gone PID SECS: the process ended (and is reaped)
wait_gone() {
	local i
	for i in $(seq $(($2 * 5))); do
		[ -d /proc/$1 ] || return 0
		grep -q '^State:.*Z' /proc/$1/status 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# the console without the serial line's carriage returns
con() { tr -d '\r' <"$T/console" 2>/dev/null; }
ticks() { con | grep -c '^vserver-guest-tick'; }

@test "vm: cloud kernel boots under the shim with its disk, jailed, then powers itself off" {
	local t0 t1 pid
	t0=$(date +%s%N)
	boot vstest=poweroff
	pid=$(cat "$T/pid")
	# the accelerator decision was announced (tcg here: nested pvm kvm)
	if [ "$(VS_VM_ACCEL= "$DRIVER" accel "$KERNEL" 2>/dev/null)" = tcg ]; then
		grep -q 'using software emulation (slow)' "$T/start.err"
	fi
	[ "$("$DRIVER" status "$T/qmp")" = running ]
	# jailed: in the server's cgroups and in namespaces of its own
	for d in "${CGDIRS[@]}"; do grep -qx "$pid" "$d/cgroup.procs"; done
	[ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ]
	[ "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
	grep -q '^Seccomp:[[:space:]]*2' /proc/$pid/status
	wait_console '^vserver-guest-ok' 120
	t1=$(date +%s%N)
	echo "# boot to guest userspace: $(( (t1 - t0) / 1000000 )) ms" >&3
	# the guest's own kernel, not the host's
	run sh -c "tr -d '\r' <'$T/console' | grep -o '^vserver-guest-ok .*'"
	[[ "$output" == "vserver-guest-ok 6.1."* ]]
	[[ "$output" != *"$(uname -r)"* ]]
	# the disk made from the rootfs is the guest's vda, with the tree in it
	wait_console '^vserver-guest-disk' 30
	con | grep -qx 'vserver-guest-partition vda'
	con | grep -qx 'vserver-guest-disk rootfs-of-vs-test'
	# poweroff -f in the guest ends QEMU
	wait_gone "$pid" 60
}

@test "vm: pause and resume over qmp change query-status and stop the guest's clock" {
	local pid n1 n2 i
	boot
	pid=$(cat "$T/pid")
	wait_console '^vserver-guest-tick 2$' 120
	run "$DRIVER" stats "$pid" "$T/qmp"
	[ "$status" -eq 0 ]
	echo "# $output" >&3
	[[ "$output" == "status=running vcpus=1 memory=268435456 rss="* ]]
	"$DRIVER" pause "$T/qmp"
	[ "$("$DRIVER" status "$T/qmp")" = paused ]
	n1=$(ticks)
	sleep 2.5
	n2=$(ticks)
	[ "$n1" -eq "$n2" ]
	"$DRIVER" resume "$T/qmp"
	[ "$("$DRIVER" status "$T/qmp")" = running ]
	for i in $(seq 50); do [ "$(ticks)" -gt "$n2" ] && break; sleep 0.2; done
	[ "$(ticks)" -gt "$n2" ]
	run "$DRIVER" stop "$pid" "$T/qmp" 1000
	[ "$status" -eq 0 ]
}

@test "vm: stop sends the acpi power button and the guest powers off (no kill needed)" {
	local pid
	boot
	pid=$(cat "$T/pid")
	wait_console '^vserver-guest-waiting /dev/input/event' 120
	run "$DRIVER" stop "$pid" "$T/qmp" 30000
	[ "$status" -eq 0 ]
	[ "$output" = powered-off ]
	con | grep -q '^vserver-guest-powerbutton'
	! [ -d /proc/$pid ] || grep -q '^State:.*Z' /proc/$pid/status
}

@test "vm: stop kills a guest that ignores the power button after the timeout" {
	local pid
	boot
	pid=$(cat "$T/pid")
	"$DRIVER" pause "$T/qmp"   # a paused guest cannot answer the button
	run "$DRIVER" stop "$pid" "$T/qmp" 1000
	[ "$status" -eq 0 ]
	[ "$output" = killed ]
	wait_gone "$pid" 10
}

@test "vm: a qemu that dies at start is one clear error line" {
	run "$DRIVER" start -q "$T/qmp" -d /nonexistent/disk.img -c "$T/console" -l "$T/vmm.log" -A tcg
	[ "$status" -eq 1 ]
	echo "$output" >&3
	[[ "$output" == "vm-driver: vm: qemu exited with status 1: "*"/nonexistent/disk.img"* ]]
}
