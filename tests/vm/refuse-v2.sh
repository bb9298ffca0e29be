#!/bin/sh
# What cgroup v2 in this VM cannot honour is refused with one clear line and
# leaves nothing (busybox sh, inside the check-vm VM, TAP on stdout): rdma
# limits for a device the kernel does not have (the VM's kernel has the rdma
# controller but no rdma device: Debian's cloud kernel builds no soft-RoCE or
# siw driver, so rdma.max itself is not exercised with a device), and
# realtime cpu time (cgroup v2 has no realtime controller).
TESTS="rdma realtime"
. "$(dirname "$0")/lib.inc"

# refused ID JQ-FILTER WANT: create fails with exactly WANT, no cgroup left
refused() {
	bundle "$1" '["/bin/true"]' "$2" || return 1
	out=$(vs create --bundle "$T/$1" "$1" </dev/null 2>&1) && { diag "$1: created"; return 1; }
	diag "$1: $out"
	[ "$out" = "$3" ] && [ ! -e $CG/vstest-$1 ] && ! vs state "$1" >/dev/null 2>&1
}
if grep -qw rdma $CG/cgroup.controllers; then
	diag "rdma devices the kernel knows: $(ls /sys/class/infiniband 2>/dev/null | tr '\n' ' ')(none listed = none)"
	check "rdma: a limit for mlx5_0 on a kernel with no rdma device is refused naming why" \
		refused rdma '.linux.resources.rdma = {"mlx5_0": {"hcaHandles": 3, "hcaObjects": 100}}' \
		'vsrun: cgroup: rdma: no rdma device "mlx5_0" on this host (the kernel has no rdma device at all)'
else
	skip "rdma: LOUD: the rdma controller is not in this kernel: neither rdma.max nor its refusal exercised"
fi
check "realtime: realtimeRuntime is refused on cgroup v2" \
	refused rt '.linux.resources.cpu.realtimeRuntime = 10000' \
	'vsrun: cgroup: cpu.realtimeRuntime: not supported on cgroup v2 (cgroup2 has no realtime group scheduling)'

echo "1..$n"
[ $failed -eq 0 ]
