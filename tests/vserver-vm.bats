#!/usr/bin/env bats
# vserver's VM servers, for real: Debian's cloud kernel (6.1, not the host's)
# boots under QEMU with our agent as /init, on the bridge of a network that
# lives in a namespace the test made ($VNS plays the host, as in
# vserver-net.bats; a client namespace $C reaches published ports through
# it). The accelerator is whatever vm_choose_accel decides: on the
# developers' machines (nested paravirtual KVM) that is software emulation,
# announced with a warning. Every wait is bounded; one boot takes 3-6 s on a
# quiet host, more under load.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
	KERNEL=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1)
	[ -n "$KERNEL" ] || skip "no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)"
	command -v mke2fs >/dev/null || skip "mke2fs is not installed (e2fsprogs)"
	export KERNEL KVER=${KERNEL##*/vmlinuz-}
}

setup() {
	vs_setup
	W=${VSP}vm
	C=${VNS}c
	vs_add_ns "$C"
	ip -n "$VNS" link add cl0 type veth peer name eth0 netns "$C"
	ip -n "$VNS" addr add 203.0.113.1/24 dev cl0
	ip -n "$VNS" addr add 2001:db8:2::1/64 dev cl0 nodad
	ip -n "$VNS" link set cl0 up
	ip -n "$C" addr add 203.0.113.2/24 dev eth0
	ip -n "$C" addr add 2001:db8:2::2/64 dev eth0 nodad
	ip -n "$C" link set eth0 up
}

teardown() {
	local p
	[ -f "$VSTMP/lib/servers/$W/console.log" ] &&
		tail -n 15 "$VSTMP/lib/servers/$W/console.log" | sed 's/^/# console: /' >&3
	vs_teardown || return 1
	# no VMM of this test may outlive it
	for p in $(pgrep -f "qemu-system-x86_64 -name $VSP" || true); do
		echo "# left behind: qemu $p" >&3
		kill -9 "$p"
		return 1
	done
	return 0
}

# wait_log NAME PATTERN SECS: the pattern in `vserver logs`, or fail once the
# server stopped without it
wait_log() {
	local i
	for i in $(seq $(($3 * 5))); do
		vs logs "$1" 2>/dev/null | grep -q "$2" && return 0
		if [ "$i" -gt 10 ] && vs_status_is "$1" stopped; then
			vs logs "$1" | grep -q "$2" && return 0
			echo "# $1 stopped without \"$2\" in its log" >&3
			return 1
		fi
		sleep 0.2
	done
	echo "# no \"$2\" in the log of $1 within $3 s" >&3
	return 1
}

# wait_status NAME STATUS SECS
wait_status() {
	local i
	for i in $(seq $(($3 * 5))); do
		vs_status_is "$1" "$2" && return 0
		sleep 0.2
	done
	return 1
}

# vm_leftovers NAME: what a stopped VM server must not hold on the host
# (taps: any, so call it when no VM runs)
vm_leftovers() {
	# a VM's tap is the only tun device in the test's host namespace
	ip -n "$VNS" -o link show type tun 2>/dev/null | awk '{print "tap " $2}'
	ls "$VSTMP/run/vm/$1".* 2>/dev/null | sed 's/^/socket /'
	for d in /sys/fs/cgroup/*/vsrun-vserver/"$1"; do [ -d "$d" ] && echo "cgroup $d"; done
	return 0
}

@test "vserver vm: a networked guest with its own kernel: exec, logs, ping, publish, set, pause, clean stop" {
	vs create "$W" --vm --kernel "$KERNEL" --memory 256M --publish 8080:80 -- sh -c \
		'mkdir -p /www; echo served-by-$(hostname) >/www/index.html; httpd -p 80 -h /www
		 echo guest-up $(uname -r); while :; do sleep 1; done' 2>"$VSTMP/create.err"
	run vs info --format json "$W"
	[ "$(echo "$output" | jq -r .kind)" = vm ]
	accel=$(echo "$output" | jq -r .accel)
	ip=$(echo "$output" | jq -r .ip)
	echo "# accelerator: $accel" >&3
	# software emulation is announced on create and on start
	if [ "$accel" = tcg ]; then grep -q "software emulation" "$VSTMP/create.err"; fi
	run vs start "$W"
	[ "$status" -eq 0 ]
	if [ "$accel" = tcg ]; then [[ "$output" == *"software emulation"* ]]; fi
	[ "$(vs list | awk -v n="$W" '$1 == n { print $NF }')" = "vm/$accel" ]
	wait_log "$W" "guest-up $KVER" 90
	# the guest's kernel, not the host's
	[ "$KVER" != "$(uname -r)" ]

	# exec through the agent: stdout, stderr, stdin and the exit status
	run vs exec "$W" -- sh -c 'echo out-$(uname -r); echo err >&2; exit 7'
	[ "$status" -eq 7 ]
	[[ "$output" == *"out-$KVER"* ]]
	[[ "$output" == *err* ]]
	[ "$(echo piped | vs exec "$W" cat)" = piped ]
	[ "$(vs exec "$W" -- hostname </dev/null)" = "$W" ]
	run -127 vs exec "$W" -- /no/such/program
	# two at once: the second waits for the first (QEMU takes one connection)
	vs exec "$W" -- sh -c 'sleep 1; echo first' </dev/null >"$VSTMP/e1" &
	vs exec "$W" -- echo second </dev/null >"$VSTMP/e2"
	wait
	[ "$(cat "$VSTMP/e1")" = first ]
	[ "$(cat "$VSTMP/e2")" = second ]

	# on the bridge: a container server reaches it, it reaches the bridge
	vs create "${W}c" -- sh -c 'while :; do sleep 1; done'
	vs start "${W}c"
	vs exec "${W}c" ping -c1 -W5 "$ip" >/dev/null
	vs exec "$W" -- ping -c1 -W5 172.30.0.1 </dev/null >/dev/null
	vs exec "$W" -- ip route </dev/null | grep -q "default via 172.30.0.1"
	# a published port reaches httpd in the guest
	wait_for in_vns "$C" curl -sf -m 5 http://203.0.113.1:8080/ >/dev/null
	[ "$(in_vns "$C" curl -sf -m 5 http://203.0.113.1:8080/)" = "served-by-$W" ]
	# IPv6: the agent gave eth0 the server's ULA address (from the kernel
	# command line) and a default route via the bridge's
	br=$(ip -n "$VNS" -o link show type bridge | awk -F': ' '{print $2; exit}')
	gw6=$(ip -n "$VNS" -6 -o addr show dev "$br" scope global | awk '{print $4; exit}')
	gw6=${gw6%/*}
	[ -n "$gw6" ]
	ip6=$(vs exec "$W" -- ip -6 -o addr show dev eth0 scope global </dev/null | awk '{print $4; exit}')
	ip6=${ip6%/*}
	echo "# guest's IPv6 $ip6, gateway $gw6" >&3
	[[ "$ip6" == fd* ]]
	vs exec "$W" -- ip -6 route </dev/null | grep -q "default via $gw6 dev eth0"
	vs exec "$W" -- ping -6 -c1 -W5 "$gw6" </dev/null >/dev/null
	vs exec "${W}c" ping -6 -c1 -W5 "$ip6" >/dev/null
	# and the published port over IPv6 from the client
	[ "$(in_vns "$C" curl -sf -m 5 'http://[2001:db8:2::1]:8080/')" = "served-by-$W" ]

	# stats: the VMM's cgroup and QMP
	run vs stats --format json "$W"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.vm.status == "running" and .vm.vcpus == 1 and .vm.memory == 268435456'
	echo "$output" | jq -e '.vm.vmmRss > 0 and .memoryUsage > 0 and .netRx > 0'
	# live: memory through the balloon, CPU through the VMM's cgroup quota
	vs set "$W" --memory 128M --cpus 0.5
	wait_for sh -c "nsenter --net=/run/netns/$VNS $VSERVER stats --format json $W | jq -e '.vm.balloon == 134217728'"
	q=$(cat /sys/fs/cgroup/cpu/vsrun-vserver/"$W"/cpu.cfs_quota_us 2>/dev/null ||
		awk '{print $1}' /sys/fs/cgroup/vsrun-vserver/"$W"/cpu.max)
	[ "$q" = 50000 ]
	# pause stops the vCPUs, resume goes on
	vs pause "$W"
	vs_status_is "$W" paused
	vs resume "$W"
	vs_status_is "$W" running
	[ "$(vs exec "$W" -- echo back </dev/null)" = back ]

	# stop: the ACPI power button, the agent stops the command and powers off
	vs stop --timeout 30 "$W"
	vs_status_is "$W" stopped
	vs logs "$W" | grep -q "power button: stopping the server"
	vs logs "$W" | grep -q "vm: the guest powered off"
	! vs logs "$W" | grep -q "killed"
	[ -z "$(vm_leftovers "$W")" ]
	# the port went with it
	run in_vns "$C" curl -sf -m 2 http://203.0.113.1:8080/
	[ "$status" -ne 0 ]
}

@test "vserver vm: the command's exit ends the guest; its status is recorded; snapshot, clone, destroy" {
	vs create "$W" --vm --vcpus 2 -- sh -c 'echo vcpus-$(grep -c ^processor /proc/cpuinfo); echo x >>/root/runs; echo runs-$(wc -l </root/runs); exit 3' 2>/dev/null
	vs start "$W" 2>/dev/null
	wait_log "$W" "runs-1" 90
	wait_status "$W" stopped 30
	vs logs "$W" | grep -q "vcpus-2"
	vs logs "$W" | grep -q "workload exited with status 3"
	[ "$(vs info --format json "$W" | jq .lastExit)" = 3 ]
	[ -z "$(vm_leftovers "$W")" ]
	# the disk keeps what the guest wrote
	vs start "$W" 2>/dev/null
	wait_log "$W" "runs-2" 90
	wait_status "$W" stopped 30
	# snapshot, restore and clone carry the guest's disk
	vs snapshot "$W" s1
	vs start "$W" 2>/dev/null
	wait_log "$W" "runs-3" 90
	wait_status "$W" stopped 30
	vs restore "$W" s1
	vs clone "$W" "${W}3"
	vs start "${W}3" 2>/dev/null
	wait_log "${W}3" "runs-3" 90
	wait_status "${W}3" stopped 30
	vs destroy "${W}3"
	# destroy of a running one: nothing left, the address released
	vs create "${W}2" --vm -- sh -c 'while :; do sleep 1; done' 2>/dev/null
	vs start "${W}2" 2>/dev/null
	vs_status_is "${W}2" running
	vs destroy --force "${W}2"
	vs destroy "$W"
	[ -z "$(vm_leftovers "$W")$(vm_leftovers "${W}2")" ]
	[ -z "$(vs list --format json | jq -r '.[].name')" ]
	! grep -q "$W" "$VSTMP"/lib/net/*.net
}

@test "vserver vm: console: typed lines reach the guest's shell on its serial port, ctrl-] detaches" {
	PTYDRIVE=$BATS_TEST_DIRNAME/tools/ptydrive.py
	command -v python3 >/dev/null || skip "python3 is missing: the console is driven through a pty by tests/tools/ptydrive.py"
	# a shell reading its commands from the serial console (the agent gives
	# the command the console as stdin, QEMU feeds it the server's input pipe)
	vs create "$W" --vm -- sh -c 'echo shell-ready; exec sh' 2>/dev/null
	vs start "$W" 2>/dev/null
	wait_log "$W" shell-ready 90
	run timeout 90 nsenter --net="/run/netns/$VNS" python3 "$PTYDRIVE" 'expect:[console of' \
		'send:echo typed-$((6*7))\n' 'expect:typed-42' \
		'send:echo kernel-$(uname -r)\n' "expect:kernel-$KVER" 'send:\x1d' 'exit:0' \
		-- "$VSERVER" console "$W"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"detached from $W"* ]]
	# the guest's shell, not the host's; the server runs on and logged it
	[ "$KVER" != "$(uname -r)" ]
	[ "$(vs_status "$W")" = running ]
	vs logs "$W" | grep -q typed-42
	# the shell exits: the guest powers off, the console ends by itself
	run timeout 90 nsenter --net="/run/netns/$VNS" python3 "$PTYDRIVE" 'expect:[console of' \
		'send:exit 3\n' 'expect:workload exited with status 3' 'exit:0' -- "$VSERVER" console "$W"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_status "$W" stopped 30
	[ "$(vs info --format json "$W" | jq .lastExit)" = 3 ]
	[ -z "$(vm_leftovers "$W")" ]
}

@test "vserver vm: export carries the guest's disk and VM fields; the import boots it" {
	vs create "$W" --vm --vcpus 2 --memory 200M -- sh -c \
		'echo x >>/root/runs; echo runs-$(wc -l </root/runs); while :; do sleep 1; done' 2>/dev/null
	vs start "$W" 2>/dev/null
	wait_log "$W" "runs-1" 90
	vs exec "$W" -- sh -c 'echo written-in-the-guest >/root/data; sync' </dev/null
	vs stop --timeout 30 "$W"
	vs export "$W" "$VSTMP/vm.tar"
	# the disk (1G, sparse) travels as its data only
	tar -tf "$VSTMP/vm.tar" | grep -qx vm-disk.img
	echo "# export of a 1G VM disk: $(stat -c %s "$VSTMP/vm.tar") bytes" >&3
	[ "$(stat -c %s "$VSTMP/vm.tar")" -lt $((256 << 20)) ]
	vs destroy "$W"
	run vs import "$VSTMP/vm.tar"
	[ "$status" -eq 0 ]
	run vs info --format json "$W"
	echo "$output" | jq -e '.kind == "vm" and .memory == 209715200'
	jq -e --arg k "$KERNEL" '.vm == true and .vmVcpus == 2 and .vmKernel == $k' \
		"$VSTMP/lib/servers/$W/server.json"
	vs start "$W" 2>/dev/null
	# the guest's own writes came along: the second boot of the same disk
	wait_log "$W" "runs-2" 90
	[ "$(vs exec "$W" -- cat /root/data </dev/null)" = written-in-the-guest ]
	[ "$(vs exec "$W" -- grep -c ^processor /proc/cpuinfo </dev/null)" = 2 ]
	vs destroy --force "$W"
	[ -z "$(vm_leftovers "$W")" ]
}

@test "vserver vm: bad input is one clear line and leaves nothing" {
	run vs create "$W" --vm --kernel /nonexistent/vmlinuz
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"vm: kernel /nonexistent/vmlinuz"*"No such file"* ]]
	run vs create "$W" --vm --kernel /etc/passwd
	[ "$status" -ne 0 ]
	[[ "$output" == *"/etc/passwd: not a linux kernel image"* ]]
	head -c 4096 /dev/zero >"$VSTMP/bad.img"
	run vs create "$W" --vm --disk-image "$VSTMP/bad.img"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bad.img: neither qcow2 nor a bootable raw disk"* ]]
	run vs create "$W" --kernel "$KERNEL"
	[ "$status" -eq 2 ]
	[[ "$output" == *"need --vm"* ]]
	run vs create "$W" --vm --vcpus 0
	[ "$status" -eq 2 ]
	run vs create "$W" --vm --kernel "$KERNEL" --disk-image "$VSTMP/bad.img"
	[ "$status" -ne 0 ]
	[[ "$output" == *"exclude each other"* ]]
	[ ! -e "$VSTMP/lib/servers/$W" ]
	! grep -qs "$W" "$VSTMP"/lib/net/*.net
	# exec into a stopped VM
	vs create "$W" --vm -- true 2>/dev/null
	run vs exec "$W" -- true
	[ "$status" -ne 0 ]
	[[ "$output" == *"is not running"* ]]
}

@test "vserver vm: a bootable disk image boots by firmware on q35" {
	command -v extlinux >/dev/null && [ -f /usr/lib/syslinux/mbr/mbr.bin ] ||
		skip "extlinux is not installed (apt-get install extlinux syslinux-common): no boot loader to make a bootable disk"
	local bb r=$VSTMP/fwinit img=$VSTMP/fw.img mnt=$VSTMP/fwmnt a
	bb=$(command -v busybox)
	# an initramfs whose /init says hello and powers off
	mkdir -p "$r"/{bin,dev,proc,sys}
	cp "$bb" "$r/bin/busybox"
	for a in sh echo uname poweroff mount; do ln -s busybox "$r/bin/$a"; done
	printf '#!/bin/sh\nmount -t proc p /proc\necho "firmware-guest-ok $(uname -r)"\npoweroff -f\n' >"$r/init"
	chmod +x "$r/init"
	(cd "$r" && find . | cpio -o -H newc --quiet) >"$VSTMP/fw.cpio"
	# a 64 MiB disk: MBR boot code + one active partition at 1 MiB holding
	# ext4 with extlinux, the kernel and that initramfs
	truncate -s 64M "$img"
	dd if=/usr/lib/syslinux/mbr/mbr.bin of="$img" bs=440 count=1 conv=notrunc status=none
	printf '\x80\xfe\xff\xff\x83\xfe\xff\xff\x00\x08\x00\x00\x00\xf8\x01\x00' |
		dd of="$img" bs=1 seek=446 conv=notrunc status=none
	printf '\x55\xaa' | dd of="$img" bs=1 seek=510 conv=notrunc status=none
	mke2fs -q -F -t ext4 -O ^64bit,^metadata_csum -E offset=1048576 "$img" 63M
	mkdir -p "$mnt"
	mount -o loop,offset=1048576 "$img" "$mnt"
	mkdir -p "$mnt/boot"
	cp "$KERNEL" "$mnt/boot/vmlinuz"
	cp "$VSTMP/fw.cpio" "$mnt/boot/initrd"
	printf 'DEFAULT l\nPROMPT 0\nTIMEOUT 1\nLABEL l\n LINUX /boot/vmlinuz\n INITRD /boot/initrd\n APPEND console=ttyS0 quiet panic=-1\n' >"$mnt/boot/extlinux.conf"
	extlinux --install "$mnt/boot" >/dev/null 2>&1
	umount "$mnt"
	vs create "$W" --vm --disk-image "$img" --net none 2>/dev/null
	vs info "$W" | grep -q "boot:       disk image"
	vs start "$W" 2>/dev/null
	wait_log "$W" "firmware-guest-ok $KVER" 120
	wait_status "$W" stopped 30
	vs logs "$W" | grep -q "SeaBIOS\|firmware-guest-ok"
	run vs exec "$W" -- true
	[ "$status" -ne 0 ]
	[[ "$output" == *"not running"* ]]
	vs start "$W" 2>/dev/null
	run vs exec "$W" -- true
	[ "$status" -ne 0 ]
	[[ "$output" == *"no vserver agent"* ]]
	wait_status "$W" stopped 120
	vs destroy "$W"
	[ -z "$(vm_leftovers "$W")" ]
}

@test "vserver vm: --init runs the image's /sbin/init as PID 1 and the agent beside it" {
	vs create "$W" --vm --init --net none 2>/dev/null
	vs start "$W" 2>/dev/null
	wait_for_exec() {
		local i
		for i in $(seq 300); do
			vs exec "$W" -- true </dev/null 2>/dev/null && return 0
			sleep 0.2
		done
		return 1
	}
	wait_for_exec
	# PID 1 is the image's init (busybox), not our agent
	[ "$(vs exec "$W" -- readlink /proc/1/exe </dev/null)" = /bin/busybox ]
	vs exec "$W" -- ps </dev/null | grep -qE ' /init$'
	# busybox init ignores the power button: killed after the timeout
	vs stop --timeout 2 "$W"
	vs_status_is "$W" stopped
	vs logs "$W" | grep -q "did not power off in time: killed"
	[ -z "$(vm_leftovers "$W")" ]
}

@test "vserver vm: a live snapshot keeps the guest's RAM; restore resumes it instead of booting" {
	vs create "$W" --vm --net none -- sh -c 'echo booted-once; while :; do sleep 1; done' 2>/dev/null
	vs start "$W" 2>/dev/null
	wait_log "$W" "booted-once" 90
	marker=$(vs exec "$W" -- sh -c 'echo in-ram-$RANDOM$RANDOM >/dev/shm/m; cat /dev/shm/m' </dev/null)
	[[ "$marker" == in-ram-* ]]
	# running: the snapshot is live, and the guest goes on after it
	vs snapshot "$W" live1
	vs_status_is "$W" running
	[ "$(vs exec "$W" -- cat /dev/shm/m </dev/null)" = "$marker" ]
	ls "$VSTMP/lib/snapshots/$W/live1/vm-state"
	vs exec "$W" -- rm /dev/shm/m </dev/null
	vs stop --timeout 20 "$W"
	vs restore "$W" live1
	vs start "$W" 2>/dev/null
	# the RAM of the snapshot's moment, and no second boot
	[ "$(vs exec "$W" -- cat /dev/shm/m </dev/null)" = "$marker" ]
	[ "$(vs logs "$W" | grep -c booted-once)" -eq 1 ]
	[ ! -e "$VSTMP/lib/servers/$W/vm-resume.state" ]
	vs stop --timeout 20 "$W"
	[ -z "$(vm_leftovers "$W")" ]
}

@test "vserver vm: QEMU is the monitor's child through the start helper; a VMM left by a killed monitor is adopted" {
	vs create "$W" --vm -- sh -c 'echo guest-up; while :; do sleep 1; done' 2>/dev/null
	vs start "$W" 2>/dev/null
	wait_log "$W" guest-up 90
	local mon pid
	mon=$(vs info --format json "$W" | jq -r .monitor)
	pid=$(vs info --format json "$W" | jq -r .pid)
	# the helper exited; its child QEMU was reparented to the monitor
	[ "$(awk '{print $4}' "/proc/$pid/stat")" = "$mon" ]
	[ "$(cat "/proc/$pid/comm")" = qemu-system-x86 ]
	[ "$(cat "/proc/$mon/comm")" = vserver-mon ]
	kill -9 "$mon"
	wait_status "$W" unmonitored 10
	kill -0 "$pid"
	run vs start "$W"
	[ "$status" -eq 0 ]
	wait_status "$W" running 10
	[ "$(vs info --format json "$W" | jq -r .pid)" = "$pid" ]
	vs logs "$W" | grep -q "adopting the running server (pid $pid)"
	[ "$(vs exec "$W" -- echo adopted </dev/null)" = adopted ]
	# stop: the power button reaches the adopted guest
	vs stop --timeout 30 "$W"
	vs_status_is "$W" stopped
	vs logs "$W" | grep -q "vm: the guest powered off"
	pid_dead "$pid"
	[ -z "$(vm_leftovers "$W")" ]
}

@test "vserver vm: an image whose /etc is a symlink to a host directory cannot make create write there" {
	local victim=$BATS_TEST_TMPDIR/victim r=$BATS_TEST_TMPDIR/evil
	mkdir -p "$victim"
	echo keep >"$victim/hosts"
	busybox_rootfs "$r"
	rm -rf "$r/etc"
	ln -s "$victim" "$r/etc"
	tar -C "$r" -czf "$BATS_TEST_TMPDIR/evil.tar.gz" .
	vs image import "$BATS_TEST_TMPDIR/evil.tar.gz" --name evil:1 >/dev/null
	# the disk is written at create: /etc/{hosts,resolv.conf,hostname} go into
	# the image's tree, resolved inside it, never through its symlink
	vs create "$W" --vm --kernel "$KERNEL" --image evil:1 -- true 2>&1
	[ "$(cat "$victim/hosts")" = keep ]
	[ ! -e "$victim/resolv.conf" ] && [ ! -e "$victim/hostname" ]
	vs destroy --force "$W"
}
