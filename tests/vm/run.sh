#!/usr/bin/env bash
# cgroup v2 for real: boots a throwaway VM (QEMU TCG, Debian's cloud kernel,
# a pure cgroup2 hierarchy with every controller) from an initramfs holding
# busybox, the project's binaries and tests, runs them inside and prints their
# TAP here. Ends with one line: "N passed, N failed, N skipped".
#   tests/vm/run.sh
# Environment:
#   BUILD=build          where the binaries are ($BUILD/vsrun, $BUILD/tests/test-*)
#   VSRUN=$BUILD/vsrun   the OCI runtime the tests/vm/*.sh scripts drive
#                        (VSRUN=/usr/sbin/runc proves the scripts themselves)
#   KERNEL=...           a kernel image (default: the newest /boot/vmlinuz-*-cloud-amd64)
#   VM_TIMEOUT=600       hard limit for the whole VM run, in seconds
#   VM_KEEP=1            keep the temporary directory (initramfs, console log)
#   VM_VERBOSE=1         also print the whole console
#   VM_APPEND=...        more kernel arguments (loglevel=7 shows the boot)
#   VM_ONLY="io-v2.sh test-cgroups"  run only these tests (names of scripts
#                        and unit tests), to iterate on one
# A script that needs other kernel arguments (selinux.sh: security=selinux)
# says so in a "# vm-append: ARGS" line near its top; it runs in a boot of its
# own (same initramfs, those arguments added), after the main one.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
VSRUN=${VSRUN:-$BUILD/vsrun}
VM_TIMEOUT=${VM_TIMEOUT:-600}

skip_all() {
	echo "# check-vm SKIPPED: $*" >&2
	echo "ok 1 - check-vm # SKIP $*"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}

QEMU=$(command -v qemu-system-x86_64) || skip_all "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
if [ -z "${KERNEL:-}" ]; then
	KERNEL=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1)
	[ -n "$KERNEL" ] || skip_all "no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)"
fi
[ -r "$KERNEL" ] || skip_all "kernel $KERNEL is not readable"
KVER=${KERNEL##*/vmlinuz-}
MODDIR=/lib/modules/$KVER
BUSYBOX=$(command -v busybox) || skip_all "busybox is not installed (apt-get install busybox-static)"
ldd "$BUSYBOX" >/dev/null 2>&1 && skip_all "$BUSYBOX is not static (apt-get install busybox-static)"
command -v cpio >/dev/null || skip_all "cpio is not installed"

tmp=$(mktemp -d /tmp/vserver-vm.XXXXXX)
if [ "${VM_KEEP:-0}" = 1 ]; then echo "# check-vm: keeping $tmp" >&2
else trap 'rm -rf "$tmp"' EXIT; fi
R=$tmp/root

# wanted NAME: is this test in VM_ONLY (or is VM_ONLY unset)?
wanted() {
	[ -z "${VM_ONLY:-}" ] && return 0
	case " $VM_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# copy_bin SRC DEST: a binary into the initramfs at DEST, with every shared
# library ldd lists (and the dynamic loader) at the same path as on the host.
copy_bin() {
	local src=$1 dest=$2 lib
	mkdir -p "$R$(dirname "$dest")"
	cp -L "$src" "$R$dest" || return 1
	for lib in $(ldd "$src" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$R$lib" ] && continue
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
}

# modules: the ones asked for and what they depend on (modules.dep), in
# load order, decompressed if the distribution compresses them.
mods_in_order() {
	local seen=" " out=()
	visit() {
		local rel=$1 dep
		case "$seen" in *" $rel "*) return ;; esac
		seen="$seen$rel "
		for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep"); do
			visit "$dep"
		done
		out+=("$rel")
	}
	local m rel
	for m in "$@"; do
		rel=$(awk -F: -v m="$m" '{ n = $1; sub(".*/", "", n); sub("\\.ko.*", "", n); if (n == m) { print $1; exit } }' "$MODDIR/modules.dep")
		if [ -z "$rel" ]; then echo "# check-vm: module $m not in $MODDIR (built in?)" >&2; continue; fi
		visit "$rel"
	done
	printf '%s\n' "${out[@]}"
}

build_initramfs() {
	mkdir -p "$R"/{bin,dev,proc,sys,tmp,run,etc,root,modules,vs/build/tests,vs/tests/vm,usr}
	ln -s bin "$R/sbin"; ln -s ../bin "$R/usr/bin"; ln -s ../bin "$R/usr/sbin"
	cp "$BUSYBOX" "$R/bin/busybox"
	local a
	for a in $("$BUSYBOX" --list); do
		[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
	echo 'root:x:0:' >"$R/etc/group"

	if [ -f "$MODDIR/modules.dep" ]; then
		local rel name
		for rel in $(mods_in_order overlay veth bridge brd loop bfq quota_v2 xfs); do
			name=${rel##*/}
			case "$name" in
			*.ko) cp "$MODDIR/$rel" "$R/modules/$name" ;;
			*.ko.xz) xz -dc "$MODDIR/$rel" >"$R/modules/${name%.xz}" ;;
			*.ko.zst) zstd -qdc "$MODDIR/$rel" >"$R/modules/${name%.zst}" ;;
			*.ko.gz) gzip -dc "$MODDIR/$rel" >"$R/modules/${name%.gz}" ;;
			esac
			echo "${name%%.ko*}" >>"$R/modules/order"
		done
	else
		echo "# check-vm: no $MODDIR/modules.dep: no modules loaded" >&2
	fi

	# the runtime under test, as /vs/build/vsrun inside
	if [ -x "$VSRUN" ]; then
		copy_bin "$VSRUN" /vs/build/vsrun
	else
		echo "# check-vm: $VSRUN not built: the vsrun tests will skip" >&2
	fi
	[ -x "$BUILD/vserver" ] && copy_bin "$BUILD/vserver" /vs/build/vserver
	local t
	for t in "$BUILD"/tests/test-*; do
		case "${t##*/}" in
		test-image|test-vm|test-vmagent)
			# the image store and the VMM shim are not about the kernel's
			# cgroups, and need host tools (mke2fs, qemu): host only
			echo "# check-vm: ${t##*/} runs on the host only" >&2
			continue ;;
		esac
		wanted "${t##*/}" || continue
		[ -x "$t" ] && [ -f "$t" ] && copy_bin "$t" "/vs/build/tests/${t##*/}" &&
			echo "build/tests/${t##*/}" >>"$R/vs/boot.0"
	done
	# jq for the scripts (config edits), with libjq and libonig; GNU tar and
	# zstd for the unit tests that make image layers (busybox tar lacks
	# --sort/--mtime); apparmor_parser (package apparmor) for apparmor.sh;
	# mkfs.ext4 and mkfs.xfs for test-projquota. Remove busybox's link first:
	# cp would write through it.
	local tool
	# getfattr, setfattr and keyctl for selinux.sh (packages attr, keyutils).
	for tool in jq tar zstd apparmor_parser mkfs.ext4 mkfs.xfs getfattr setfattr keyctl; do
		command -v "$tool" >/dev/null || continue
		rm -f "$R/bin/$tool"
		copy_bin "$(command -v "$tool")" "/bin/$tool"
	done
	# the unit tests run from the tree's root as on the host: keep their data
	cp -r tests/unit "$R/vs/tests/unit" 2>/dev/null
	rm -f "$R"/vs/tests/unit/*.c
	# boot.N: the tests of boot N; APPENDS[N]: its extra kernel arguments
	local s a i
	for s in tests/vm/*.sh; do
		[ "${s##*/}" = run.sh ] && continue
		wanted "${s##*/}" || continue
		cp "$s" "$R/vs/tests/vm/"
		a=$(sed -n '1,20s/^# vm-append: //p' "$s" | head -n 1)
		for ((i = 0; i < ${#APPENDS[@]}; i++)); do [ "${APPENDS[i]}" = "$a" ] && break; done
		APPENDS[i]=$a
		echo "tests/vm/${s##*/}" >>"$R/vs/boot.$i"
	done
	# the tiny SELinux policy of selinux.sh, compiled here (package checkpolicy)
	if command -v checkpolicy >/dev/null; then
		checkpolicy -M -U allow -o "$R/vs/tests/vm/selinux.policy" tests/vm/selinux/policy.conf >&2 ||
			echo "# check-vm: checkpolicy failed: selinux.sh will skip" >&2
	else
		echo "# check-vm: checkpolicy is not installed: selinux.sh will skip" >&2
	fi
	cp tests/vm/lib.inc "$R/vs/tests/vm/"
	cp tests/vm/vm-init "$R/init"
	chmod +x "$R/init"
	(cd "$R" && find . | cpio -o -H newc --quiet) >"$tmp/initramfs.cpio"
}

APPENDS=("")
build_initramfs || { echo "not ok 1 - check-vm: building the initramfs failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
echo "# check-vm: kernel $KERNEL, initramfs $(($(stat -c %s "$tmp/initramfs.cpio") / 1048576)) MiB, $(ls "$R/vs/build/tests" | wc -l) unit test(s), $(ls "$R"/vs/tests/vm/*.sh 2>/dev/null | wc -l) script(s), $(ls "$R"/vs/boot.* 2>/dev/null | wc -l) boot(s), vsrun: $([ -x "$R/vs/build/vsrun" ] && echo "$VSRUN" || echo "not built")"

# Under TCG the guest's TSC runs at the host's rate, but microvm has no HPET or
# PM timer, and on a loaded host the kernel's PIT calibration of the TSC fails
# ("tsc: Unable to calibrate against PIT") and the boot hangs silently. Telling
# it the rate skips the calibration (an approximate rate only scales the
# guest's clock: cpu usage and elapsed time scale alike).
khz=$(dmesg 2>/dev/null | sed -n 's/.*Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p; s/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
[ -n "$khz" ] || khz=$(awk -F: '/^cpu MHz/ { print $2 + 0; exit }' /proc/cpuinfo)
APPEND="console=ttyS0 quiet panic=-1 reboot=t cgroup_no_v1=all pci=off"
[ -n "$khz" ] && APPEND="$APPEND tsc_early_khz=$(awk -v m="$khz" 'BEGIN { printf "%d", m * 1000 }') tsc=reliable"
APPEND="$APPEND ${VM_APPEND:-}"

# boot B: one VM run of the tests in boot.B, console in $tmp/console.B
boot() {
	local b=$1
	timeout -k 5 "$VM_TIMEOUT" "$QEMU" -M microvm -cpu max -m 1024 -smp 2 -accel tcg,thread=multi \
		-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-kernel "$KERNEL" -initrd "$tmp/initramfs.cpio" \
		-append "$APPEND vsboot=$b ${APPENDS[b]}" \
		</dev/null >"$tmp/console.raw" 2>&1
	qrc[b]=$?
	tr -d '\r' <"$tmp/console.raw" >"$tmp/console.$b"
	[ "${VM_VERBOSE:-0}" = 1 ] && sed "s/^/# console $b: /" "$tmp/console.$b"
}
start=$(date +%s.%N)
qrc=()
for ((b = 0; b < ${#APPENDS[@]}; b++)); do
	[ -s "$R/vs/boot.$b" ] && boot "$b"
done
end=$(date +%s.%N)
cat "$tmp"/console.[0-9]* >"$tmp/console" 2>/dev/null

# The TAP between the markers: every test's lines renumbered into one stream,
# each description prefixed with the test's name.
awk '
	/^@@VSERVER-VM TAP BEGIN@@/ { on = 1; next }
	/^@@VSERVER-VM TAP END/ { on = 0; next }
	!on { next }
	/^# (unit|script): / { name = $3; print; next }
	/^1\.\.[0-9]+/ { next }
	/^(not )?ok( |$)/ {
		not = ($1 == "not"); rest = $0
		sub(/^(not )?ok( [0-9]+)?/, "", rest); sub(/^ +(- )?/, "", rest)
		n++
		if (rest ~ /^#/) rest = name " " rest; else rest = name ": " rest
		printf "%sok %d - %s\n", (not ? "not " : ""), n, rest
		next
	}
	/^#/ { print; next }
	{ print "# " $0 }
' "$tmp/console" >"$tmp/tap"
cat "$tmp/tap"
pass=$(grep -E '^ok ' "$tmp/tap" | grep -vc '# SKIP')
skipped=$(grep -E '^ok ' "$tmp/tap" | grep -c '# SKIP')
fail=$(grep -c '^not ok ' "$tmp/tap")
status=
for ((b = 0; b < ${#APPENDS[@]}; b++)); do
	[ -s "$R/vs/boot.$b" ] || continue
	st=$(sed -n 's/^@@VSERVER-VM TAP END rc=\([0-9]*\)@@.*/\1/p' "$tmp/console.$b" | tail -n 1)
	status="$status${status:+ }${st:-none}"
	[ -n "$st" ] && continue
	echo "# check-vm: boot $b (${APPENDS[b]:-default}) did not report (qemu exit ${qrc[b]}; 124 = timeout after ${VM_TIMEOUT}s)"
	grep -q '^vm-init: ' "$tmp/console.$b" ||
		echo "# check-vm: /init never started: the kernel hung or panicked (VM_APPEND=loglevel=7 VM_VERBOSE=1 shows its messages)"
	echo "# check-vm: console tail:"
	tail -n 40 "$tmp/console.$b" | sed 's/^/#   /'
	echo "not ok $((pass + skipped + fail + 1)) - check-vm: boot $b (${APPENDS[b]:-default}) reported no result"
	fail=$((fail + 1))
done
echo "1..$((pass + skipped + fail))"
echo "# check-vm: boot + tests took $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }') s ($(ls "$tmp"/console.[0-9]* 2>/dev/null | wc -l) boot(s)), $(grep -o 'tests started at uptime [0-9.]* s' "$tmp/console" | head -n 1), inside status ${status:-none}"
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
