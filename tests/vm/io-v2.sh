#!/bin/sh
# io.max and io weights on cgroup v2 for real (busybox sh, inside the check-vm
# VM, TAP on stdout). Containers do O_DIRECT I/O on a brd ramdisk (/dev/ram0,
# 1:0) under linux.resources.blockIO throttles; what is checked does not
# depend on the wall clock: io.max holds the converted values, io.stat counts
# exactly the bytes and ios done, and the kernel's own stall accounting
# (io.pressure, in the guest's clock, as the throttle itself) shows the
# throttled ones waited for seconds while an unthrottled twin did not wait.
# Weights: io.weight (iocost's file, converted from blkio's 10..1000) and,
# with BFQ active on a loop device, io.bfq.weight (the blkio value as is).
TESTS="wbps rbps wiops riops nolimit weight bfq_weight"
. "$(dirname "$0")/lib.inc"

DEV=/dev/ram0 MAJMIN=1:0
[ -b $DEV ] || skip_all "no $DEV (the brd module is not loaded)"

# io_bundle ID CMD THROTTLE-FIELD RATE: a container doing CMD on $DEV, with
# one blockIO throttle (none when the field is "-")
io_bundle() {
	f='.linux.devices += [{"path":"/dev/ram0","type":"b","major":1,"minor":0,"fileMode":432}]
	   | .linux.resources.devices += [{"allow":true,"type":"b","major":1,"minor":0,"access":"rw"}]'
	[ "$3" = - ] || f="$f | .linux.resources.blockIO.$3 = [{\"major\":1,\"minor\":0,\"rate\":$4}]"
	bundle "$1" "[\"/bin/sh\",\"-c\",\"$2\"]" "$f"
}
# io_line ID: the $MAJMIN line of the container's io.stat
io_line() { sed -n "s/^$MAJMIN //p" $CG/vstest-$1/io.stat; }
stat_of() { io_line "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# stall_us ID: io.pressure "some" total (microseconds the cgroup's tasks waited on I/O)
stall_us() { sed -n 's/^some .*total=\([0-9]*\).*/\1/p' $CG/vstest-$1/io.pressure; }

W='dd if=/dev/zero of=/dev/ram0 bs=65536 count=64 oflag=direct'
R='dd if=/dev/ram0 of=/dev/null bs=65536 count=64 iflag=direct'
WS='dd if=/dev/zero of=/dev/ram0 bs=4096 count=200 oflag=direct'
RS='dd if=/dev/ram0 of=/dev/null bs=4096 count=200 iflag=direct'
MiB=1048576
# id command field rate: 4 MiB at 1 MiB/s; 200 ios at 50/s; each 2-4 s of
# throttling (the first slice passes at once); all run at once (each cgroup is throttled on its own)
started=
while read -r id cmd field rate; do
	eval "c=\$$cmd"
	if io_bundle "$id" "$c" "$field" "$rate" && launch "$id"; then started="$started $id"
	else diag "$id: did not start"; fi
done <<LIST
wbps W throttleWriteBpsDevice $MiB
rbps R throttleReadBpsDevice $MiB
wiops WS throttleWriteIOPSDevice 50
riops RS throttleReadIOPSDevice 50
nolimit W - 0
LIST
for id in $started; do wait_status "$id" stopped 600 >/dev/null; done

# throttled ID IO.MAX-LINE STAT-KEY WANT: io.max converted, io.stat exact,
# the container's dd finished, and it stalled for seconds
throttled() {
	[ "$(status_of "$1")" = stopped ] || { diag "$1: $(status_of "$1"), output: $(cat "$T/$1.out")"; return 1; }
	file_is $CG/vstest-$1/io.max "$2" || return 1
	got=$(stat_of "$1" "$3") s=$(stall_us "$1")
	diag "$1: io.stat $MAJMIN $(io_line "$1"); io.pressure some total=${s}us; dd: $(tail -n 1 "$T/$1.out")"
	[ "$got" = "$4" ] || { diag "$1: io.stat $3=$got, want $4"; return 1; }
	grep -q '^\(64\|200\)+0 records out' "$T/$1.out" || return 1
	[ "${s:-0}" -ge 1000000 ]
}
check "wbps: throttleWriteBpsDevice 1 MiB/s -> io.max wbps=1048576; 4 MiB of O_DIRECT writes counted (wbytes) and stalled >= 1 s in io.pressure" \
	throttled wbps "$MAJMIN rbps=max wbps=1048576 riops=max wiops=max" wbytes 4194304
check "rbps: throttleReadBpsDevice 1 MiB/s -> io.max rbps=1048576; 4 MiB of O_DIRECT reads counted (rbytes) and stalled >= 1 s" \
	throttled rbps "$MAJMIN rbps=1048576 wbps=max riops=max wiops=max" rbytes 4194304
check "wiops: throttleWriteIOPSDevice 50 -> io.max wiops=50; 200 writes counted (wios) and stalled >= 1 s" \
	throttled wiops "$MAJMIN rbps=max wbps=max riops=max wiops=50" wios 200
check "riops: throttleReadIOPSDevice 50 -> io.max riops=50; 200 reads counted (rios) and stalled >= 1 s" \
	throttled riops "$MAJMIN rbps=max wbps=max riops=50 wiops=max" rios 200
unthrottled() {
	[ "$(status_of nolimit)" = stopped ] || return 1
	s=$(stall_us nolimit) sw=$(stall_us wbps) got=$(stat_of nolimit wbytes)
	diag "nolimit: io.max \"$(cat $CG/vstest-nolimit/io.max)\", io.stat $(io_line nolimit), stalled ${s}us (wbps twin: ${sw}us)"
	[ -z "$(cat $CG/vstest-nolimit/io.max)" ] && [ "$got" = 4194304 ] &&
		[ "${s:-0}" -lt $((${sw:-0} / 4)) ]
}
check "nolimit: the same 4 MiB without a throttle: io.max empty, wbytes 4194304, stalled under a quarter of the throttled twin" unthrottled
for id in $started; do vs delete --force "$id" >/dev/null 2>&1; done

# --- weights: the files the kernel offers, with the converted values
weight() {
	bundle weight '["/bin/sleep","100"]' '.linux.resources.blockIO.weight = 500' && launch weight || return 1
	if [ ! -f $CG/vstest-weight/io.weight ]; then diag "no io.weight (CONFIG_BLK_CGROUP_IOCOST off)"; return 1; fi
	# 1 + (500 - 10) * 9999 / 990 = 4950
	r=0; file_is $CG/vstest-weight/io.weight "default 4950" || r=1
	vs delete --force weight >/dev/null 2>&1
	return $r
}
check "weight: blockIO.weight 500 -> io.weight \"default 4950\" (no disk uses BFQ)" weight

LOOP=/sys/block/loop0/queue/scheduler
bfq_weight() {
	echo bfq >$LOOP 2>/dev/null && grep -q '\[bfq\]' $LOOP || { diag "loop0 scheduler: $(cat $LOOP 2>&1)"; return 1; }
	bundle bfqw '["/bin/sleep","100"]' \
		'.linux.resources.blockIO.weight = 500 | .linux.resources.blockIO.weightDevice = [{"major":7,"minor":0,"weight":300}]' &&
		launch bfqw || return 1
	got=$(cat $CG/vstest-bfqw/io.bfq.weight)
	diag "io.bfq.weight: $(echo "$got" | tr '\n' ' ')"
	echo "$got" | grep -qx 'default 500' && echo "$got" | grep -qx '7:0 300'
}
if grep -qw bfq /proc/modules 2>/dev/null || [ -d /sys/module/bfq ]; then
	CLEANUP="echo none >$LOOP 2>/dev/null"
	check "bfq_weight: BFQ on loop0: blockIO.weight 500 -> io.bfq.weight \"default 500\", weightDevice 7:0 300 -> \"7:0 300\"" bfq_weight
	echo none >$LOOP 2>/dev/null
else
	skip "bfq_weight: the bfq module is not loaded in the VM"
fi

echo "1..$n"
[ $failed -eq 0 ]
