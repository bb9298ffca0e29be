#!/usr/bin/env bats
# Isolation boundaries: each test tries to cross one and asserts it cannot.

load helpers

setup() { setup_bundle; }
teardown() {
	[ -n "${HOSTPID:-}" ] && kill -9 "$HOSTPID" 2>/dev/null
	# a host sysctl a test saw changed (only by a runtime with the old bug)
	# gets its value back
	if [ -n "${SYSCTL_FILE:-}" ] && [ "$(cat "$SYSCTL_FILE")" != "$SYSCTL_WAS" ]; then
		echo "# restoring $SYSCTL_FILE to $SYSCTL_WAS" >&3
		echo "$SYSCTL_WAS" >"$SYSCTL_FILE"
	fi
	teardown_bundle
}

# sysctl_save FILE: remembers the host's value of /proc/sys/FILE in
# $SYSCTL_WAS, for the test and for the teardown
sysctl_save() {
	SYSCTL_FILE=/proc/sys/$1
	SYSCTL_WAS=$(cat "$SYSCTL_FILE")
}

# create_refused WHAT: vsrun create fails with one line naming WHAT and
# leaves no container state behind. The container's stdio away from bats'
# pipe: a runtime that wrongly creates it must not hang the test.
create_refused() {
	local errf=$TESTTMP/create-err
	status=0
	vsrun create -b "$BUNDLE" "$ID" </dev/null >/dev/null 2>"$errf" || status=$?
	output=$(cat "$errf")
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$(wc -l <"$errf")" -eq 1 ]
	[[ "$output" == *"$1"* ]]
	[ -z "$(ls "$ROOT")" ]
}

# run_in CMD: runs `sh -c CMD` as the container's process (foreground).
run_in() {
	jq_config ".process.args = $(jq -cn --arg c "$1" '["sh","-c",$c]')"
	run vsrun run -b "$BUNDLE" "$ID"
}

# exe_is_memfd PID: /proc/PID/exe is the sealed memfd copy of vsrun
exe_is_memfd() { [[ "$(readlink "/proc/$1/exe" 2>/dev/null)" == /memfd:vsrun* ]]; }

@test "security: vsrun exec and run run from a sealed memfd, not the host binary" {
	vsrun_detached -b "$BUNDLE" "$ID"
	"$VSRUN" --root "$ROOT" exec "$ID" sleep 30 &
	local xp=$!
	wait_for exe_is_memfd $xp
	# writing through /proc/PID/exe fails (sealed and being executed)
	run sh -c "echo x >>/proc/$xp/exe"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Text file busy"* || "$output" == *"not permitted"* ]]
	kill -9 $xp
	wait $xp || true

	# the same for a foreground run
	local id2=$ID-run
	"$VSRUN" --root "$ROOT" run -b "$BUNDLE" "$id2" >/dev/null &
	local rp=$!
	wait_for exe_is_memfd $rp
	run sh -c "echo x >>/proc/$rp/exe"
	[ "$status" -ne 0 ]
	kill -9 $rp
	wait $rp || true
	vsrun delete --force "$id2"
}

@test "security: a container cannot overwrite the host's vsrun through /proc/PID/exe (CVE-2019-5736)" {
	local before after
	before=$(sha256sum "$VSRUN" | cut -d' ' -f1)
	# init: tries to open every /proc/PID/exe it sees for writing, forever
	cat >"$BUNDLE/rootfs/attack.sh" <<-'EOF'
	while :; do
		for e in /proc/[0-9]*/exe; do
			case "$(readlink $e 2>/dev/null)" in
			*vsrun*|*memfd*) echo "saw $(readlink $e)" >>/tmp/seen ;;
			esac
			[ "$e" = /proc/1/exe ] && continue
			[ "$e" = /proc/$$/exe ] && continue
			( echo '#!/bin/sh' >"$e" ) 2>/dev/null && echo "WROTE $e" >>/tmp/wrote
		done
	done
	EOF
	jq_config '.process.args = ["sh","/attack.sh"] | .root.readonly = false'
	vsrun_detached -b "$BUNDLE" "$ID"
	local i
	for i in $(seq 30); do
		vsrun exec "$ID" true
		# an exec'd process attacks too, while the next exec runs
		vsrun exec -d "$ID" sh -c 'for e in /proc/[0-9]*/exe; do ( : >>"$e" ) 2>/dev/null && echo "WROTE $e" >>/tmp/wrote; done' || true
	done
	after=$(sha256sum "$VSRUN" | cut -d' ' -f1)
	[ "$before" = "$after" ]
	[ ! -e "$BUNDLE/rootfs/tmp/wrote" ] || { cat "$BUNDLE/rootfs/tmp/wrote"; false; }
	run "$VSRUN" --version
	[ "$status" -eq 0 ]
}

# fds_of: the fd numbers in `ls -l /proc/self/fd` output ($output), less
# the one ls itself reads the directory with
fds_of() {
	awk '$(NF-1) == "->" && $NF !~ /^\/proc\/[0-9]+\/fd$/ { printf "%s ", $(NF-2) }' <<<"$output"
}

@test "security: no host fd reaches the container (run, exec, --preserve-fds)" {
	exec 7</etc/passwd 8>"$TESTTMP/leak"
	jq_config '.process.args = ["ls","-l","/proc/self/fd"]'
	run vsrun run -b "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(fds_of)" = "0 1 2 " ]

	# with --preserve-fds 1, fd 3 and only it
	local id2=$ID-p
	# (bats' run closes fd 3: open it in the command itself)
	run bash -c '"$VSRUN" --root "$1" run --preserve-fds 1 -b "$2" "$3" 3</etc/hostname' _ "$ROOT" "$BUNDLE" "$id2"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(fds_of)" = "0 1 2 3 " ]
	[[ "$output" == *"3 -> /etc/hostname"* ]]

	jq_config '.process.args = ["sleep","1000"]'
	vsrun_detached -b "$BUNDLE" "$ID"
	run vsrun exec "$ID" ls -l /proc/self/fd
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(fds_of)" = "0 1 2 " ]
	# the init (started detached) holds nothing but stdio either
	run vsrun exec "$ID" ls -l /proc/1/fd
	[ "$status" -eq 0 ]
	[ "$(fds_of)" = "0 1 2 " ]
	exec 7<&- 8>&-
}

@test "security: a symlink in the image cannot redirect a mount onto the host" {
	local mark=$TESTTMP/hostmark
	mkdir -p "$mark"
	ln -s "$mark" "$BUNDLE/rootfs/mnt"
	jq_config '.mounts += [{"destination":"/mnt","type":"tmpfs","source":"tmpfs"},
			       {"destination":"/mnt/sub","type":"tmpfs","source":"tmpfs"},
			       {"destination":"/../../escape","type":"tmpfs","source":"tmpfs"}]'
	run_in 'echo in >/mnt/f && echo in >/escape/f && cat /mnt/f /escape/f && grep -c " tmpfs " /proc/self/mounts >/dev/null'
	echo "$output"
	[ "$status" -eq 0 ]
	# the host's directory was never touched or mounted on
	[ -z "$(ls -A "$mark")" ]
	! grep -q " $mark " /proc/self/mountinfo
	[ ! -e "$TESTTMP/escape" ] && [ ! -e /escape ]
	# and what the container did stayed inside its rootfs
	[ -d "$BUNDLE/rootfs$mark" ]
	[ -d "$BUNDLE/rootfs/escape" ]
}

@test "security: masked paths hide kernel data, /proc/sys and sysrq-trigger are read-only" {
	local f
	for f in /proc/kcore /proc/keys /proc/timer_list /proc/sysrq-trigger; do
		[ -e $f ] && continue
		# the test bind-mounts a file there on the host? no: it only needs
		# to know what this kernel has
		echo "# $f: not on this kernel" >&3
	done
	run_in 'for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
			[ -e $f ] || continue
			n=$(head -c 16 $f 2>/dev/null | wc -c); echo "$f $n"; done
		ls -A /sys/firmware | wc -l
		for f in /proc/sys/vm/drop_caches /proc/sys/kernel/hostname /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/sysrq; do
			[ -e $f ] || continue
			( echo 1 >$f ) 2>/dev/null && echo "SYSCTL-WRITABLE $f"
		done
		[ -e /proc/sysrq-trigger ] && { ( echo h >/proc/sysrq-trigger ) 2>/dev/null && echo SYSRQ-WRITABLE; }
		touch /sys/x 2>/dev/null && echo SYS-WRITABLE
		echo done'
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e /proc/kcore ] || [[ "$output" == *"/proc/kcore 0"* ]]
	[[ "$output" == *"/proc/keys 0"* ]]
	[[ "$output" == *"/proc/timer_list 0"* ]]
	[[ "$output" != *"/proc/keys "[1-9]* ]]
	[[ "$output" != *WRITABLE* ]]
	[ "${lines[-2]}" = 0 ]
	[ "${lines[-1]}" = done ]
}

@test "security: the default capabilities cannot mount, load modules or set the hostname" {
	local hn
	hn=$(hostname)
	run_in 'mount -t tmpfs none /tmp 2>/dev/null && echo MOUNTED
		mount --bind /bin /tmp 2>/dev/null && echo BOUND
		hostname evil 2>/dev/null && echo HOSTNAME-SET
		insmod /nonexistent.ko 2>&1 | grep -qi "not permitted" || true
		eff=$(grep CapEff /proc/self/status | cut -f2)
		echo "eff=$eff"
		echo done'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *MOUNTED* && "$output" != *BOUND* && "$output" != *HOSTNAME-SET* ]]
	local eff
	eff=$(sed -n 's/^eff=//p' <<<"$output")
	# CAP_SYS_MODULE (16), CAP_SYS_ADMIN (21), CAP_SYS_RAWIO (17) are not there
	(( (0x$eff & (1 << 16)) == 0 ))
	(( (0x$eff & (1 << 21)) == 0 ))
	(( (0x$eff & (1 << 17)) == 0 ))
	[ "$(hostname)" = "$hn" ]
}

@test "security: no host processes, no host interfaces, no kill of a host pid" {
	sleep 1000 &
	HOSTPID=$!
	run_in "ps -o pid,comm | tail -n +2 | wc -l; ls /sys/class/net | tr '\n' ' '; echo; kill -9 $HOSTPID 2>/dev/null && echo KILLED; ls /proc | grep -c '^[0-9]'"
	echo "$output"
	[ "$status" -eq 0 ]
	# sh and ps (and the pipeline's children) only: far fewer than the host
	[ "${lines[0]}" -le 4 ]
	[ "${lines[1]}" = "lo " ]
	[[ "$output" != *KILLED* ]]
	[ "${lines[-1]}" -le 4 ]
	kill -0 "$HOSTPID"
}

@test "security: the default devices cgroup refuses block devices even with CAP_MKNOD" {
	jq_config '.process.capabilities.bounding += ["CAP_MKNOD"] |
		   .process.capabilities.effective += ["CAP_MKNOD"] |
		   .process.capabilities.permitted += ["CAP_MKNOD"]'
	run_in 'mknod /tmp/sda b 8 0 2>&1 && echo MADE-SDA
		mknod /tmp/vda b 254 0 2>&1 && echo MADE-VDA
		mknod /tmp/mem c 1 1 2>&1 && echo MADE-MEM
		head -c1 /tmp/vda >/dev/null 2>&1 && echo READ-VDA
		echo done'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *MADE-SDA* && "$output" != *MADE-VDA* && "$output" != *MADE-MEM* ]]
	[[ "$output" != *READ-VDA* ]]
	[ "${lines[-1]}" = done ]
	# the allowed ones still work
	run_in 'echo ok >/dev/null && head -c4 /dev/zero | wc -c'
	[ "$status" -eq 0 ]
	[ "$output" = 4 ]
}

@test "security: root of a user namespace cannot write host-owned files in a bind mount" {
	local hostdir=$TESTTMP/hostdata
	mkdir -p "$hostdir"
	echo original >"$hostdir/file"
	mkdir -p "$BUNDLE/rootfs/host"
	chmod 755 "$hostdir"; chmod 644 "$hostdir/file"
	chmod 755 "$TESTTMP" "$BUNDLE"
	jq_config ".linux.namespaces += [{\"type\":\"user\"}] |
		.linux.uidMappings = [{\"containerID\":0,\"hostID\":100000,\"size\":65536}] |
		.linux.gidMappings = [{\"containerID\":0,\"hostID\":100000,\"size\":65536}] |
		.mounts |= map(select(.type != \"cgroup\")) |
		.mounts += [{\"destination\":\"/host\",\"type\":\"bind\",\"source\":\"$hostdir\",\"options\":[\"rbind\"]}]"
	run_in 'id -u; echo pwned >/host/file 2>/dev/null && echo WROTE; touch /host/new 2>/dev/null && echo CREATED; rm -f /host/file 2>/dev/null; cat /host/file'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[[ "$output" != *WROTE* && "$output" != *CREATED* ]]
	[ "$(cat "$hostdir/file")" = original ]
	[ ! -e "$hostdir/new" ]
}

@test "security: seccomp blocks the syscalls the profile names" {
	jq_config '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW",
		"architectures":["SCMP_ARCH_X86_64"],
		"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1},
			    {"names":["sethostname"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]}'
	jq_config '.root.readonly = false'
	run_in 'mkdir /tmp/d 2>&1; [ -d /tmp/d ] && echo MADE; touch /tmp/f && echo touched'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	[[ "$output" != *MADE* ]]
	[[ "$output" == *touched* ]]
	[ ! -d "$BUNDLE/rootfs/tmp/d" ]
	# an exec'd process gets the same filter
	jq_config '.process.args = ["sleep","1000"]'
	vsrun_detached -b "$BUNDLE" "$ID"
	run vsrun exec "$ID" mkdir /tmp/d2
	[ "$status" -ne 0 ]
	[ ! -d "$BUNDLE/rootfs/tmp/d2" ]
}

@test "security: one container cannot see another's processes or files" {
	local b2=$TESTTMP/bundle2 id2=$ID-b
	jq_config '.root.readonly = false'
	cp -a "$BUNDLE" "$b2"
	jq_config '.process.args = ["sh","-c","echo secret >/tmp/secret-a; exec sleep 1000"]'
	vsrun_detached -b "$BUNDLE" "$ID"
	wait_for test -e "$BUNDLE/rootfs/tmp/secret-a"
	local apid
	apid=$(vsrun state "$ID" | jq .pid)
	jq '.process.args = ["sleep","1000"]' "$b2/config.json" >"$b2/c.new" && mv "$b2/c.new" "$b2/config.json"
	vsrun_detached -b "$b2" "$id2"
	run vsrun exec "$id2" sh -c "ps -o pid,args | grep -v grep | grep -c 'sleep 1000'; cat /tmp/secret-a 2>/dev/null; find / -name secret-a -xdev 2>/dev/null; kill -9 $apid 2>/dev/null && echo KILLED; true"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(state_of "$ID")" = running ]
	# different pid, net, ipc, uts and mount namespaces
	local bpid ns
	bpid=$(vsrun state "$id2" | jq .pid)
	for ns in pid net ipc uts mnt; do
		[ "$(readlink /proc/$apid/ns/$ns)" != "$(readlink /proc/$bpid/ns/$ns)" ]
	done
}

# F4: linux.sysctl was written to whatever /proc/sys init saw, so a key that
# no namespace isolates (kernel.core_pattern would give host root) changed
# the host's value.
@test "security: a sysctl no namespace isolates is refused, the host's value unchanged" {
	sysctl_save kernel/printk_ratelimit
	local was=$SYSCTL_WAS
	jq_config ".linux.sysctl = {\"kernel.printk_ratelimit\": \"$((was + 2))\"}"
	create_refused 'linux.sysctl["kernel.printk_ratelimit"]: is not in a separate kernel namespace'
	[ "$(cat /proc/sys/kernel/printk_ratelimit)" = "$was" ]
	# the slash spelling and a way out of net/ are refused as well
	jq_config ".linux.sysctl = {\"kernel/printk_ratelimit\": \"$((was + 2))\"}"
	create_refused 'is not in a separate kernel namespace'
	jq_config ".linux.sysctl = {\"net/../kernel/printk_ratelimit\": \"$((was + 2))\"}"
	create_refused 'is not a sysctl name'
	[ "$(cat /proc/sys/kernel/printk_ratelimit)" = "$was" ]
}

@test "security: a net.* sysctl without a network namespace of its own is refused" {
	sysctl_save net/core/somaxconn
	local was=$SYSCTL_WAS
	jq_config "del(.linux.namespaces[] | select(.type == \"network\")) |
		   .linux.sysctl = {\"net.core.somaxconn\": \"$((was + 1))\"}"
	create_refused 'linux.sysctl["net.core.somaxconn"]: needs a "network" namespace'
	[ "$(cat /proc/sys/net/core/somaxconn)" = "$was" ]
	# the runtime's own network namespace joined by path is the host's
	jq_config ".linux.namespaces += [{\"type\": \"network\", \"path\": \"/proc/$$/ns/net\"}]"
	create_refused "the network namespace /proc/$$/ns/net is the host's"
	[ "$(cat /proc/sys/net/core/somaxconn)" = "$was" ]
	# no cgroup of the container is left
	[ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "*$ID*" 2>/dev/null)" ]
}

@test "security: net and ipc sysctls are set inside the container's own namespaces" {
	local fwd shm
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	shm=$(cat /proc/sys/kernel/shmmax)
	jq_config '.linux.sysctl = {"net/ipv4/ip_forward": "'$((1 - fwd))'",
		   "kernel.shmmax": "123456789", "fs.mqueue.msg_max": "17"}'
	run_in 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = $((1 - fwd)) ]
	[ "${lines[1]}" = 123456789 ]
	[ "${lines[2]}" = 17 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" ]
	[ "$(cat /proc/sys/kernel/shmmax)" = "$shm" ]
}
