#!/usr/bin/env bats
# vsrun is linked with only what an ordinary container needs; the VM handler
# (run.oci.handler=vm) lives in vsrun-vm, to which vsrun hands a VM bundle's
# create/run and start/kill/delete/exec of a container that is a VM, with
# its own arguments. No QEMU here: a stand-in helper (VSRUN_VM_HELPER)
# records what it got, and a container marked as a VM (the state dir's "vm"
# file, as oci-vm.c writes it) stands for a real one. tests/oci-vm.bats
# boots real guests through the same hand-off.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	setup_bundle
	VSRUN_VM=$(dirname "$VSRUN")/vsrun-vm
	# the stand-in helper: its arguments and the hand-off mark, then exit 7
	FAKE=$TESTTMP/fake-vsrun-vm
	printf '#!/bin/sh\necho "$*" >%s/args\necho "${_VSRUN_VM_HANDOFF:-}" >%s/mark\nexit 7\n' \
		"$TESTTMP" "$TESTTMP" >"$FAKE"
	chmod +x "$FAKE"
}

teardown() {
	rm -f "$ROOT"/*/vm
	teardown_bundle
}

vm_bundle() { jq_config '.annotations = {"run.oci.handler": "vm"}'; }

# nothing_made ID: no state dir and no cgroup in any hierarchy
nothing_made() {
	[ ! -e "$ROOT/$1" ] || { echo "state dir left: $ROOT/$1"; return 1; }
	! ls -d /sys/fs/cgroup/*/vsrun/"$1" /sys/fs/cgroup/vsrun/"$1" 2>/dev/null
}

@test "vsrun vm dispatch: vsrun links no VM, network or image library; vsrun-vm does" {
	local libs
	libs=$(ldd "$VSRUN")
	echo "$libs"
	! echo "$libs" | grep -Eq 'libarchive|libnftables|libnftnl|libnl-|libxml2|libicu|libstdc\+\+|libmnl'
	# what it names itself: nothing (linked statically, the default when the
	# static archives are there) or yajl, libseccomp, libcap and libc
	run sh -c "readelf -d '$VSRUN' | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' '"
	[ -z "$output" ] || [ "$output" = "libc.so.6 libcap.so.2 libseccomp.so.2 libyajl.so.2 " ]
	# nor carries their code (a static link would)
	! nm "$VSRUN" 2>/dev/null | grep -Eq ' (archive_read_new|nft_ctx_new|nl_socket_alloc|rtnl_link_alloc|netns_guest_tap|vm_start)$'
	nm "$VSRUN" | grep -q ' rt_create$' || skip "LOUD: $VSRUN has no symbols: its code was not checked"
	# no agent blob: the guest's /init is a VM's only
	! grep -aq vserver-agent "$VSRUN"
	# the helper has them all (so the check above can tell the two apart)
	ldd "$VSRUN_VM" | grep -q libarchive
	ldd "$VSRUN_VM" | grep -q libnftables
}

@test "vsrun vm dispatch: create and run of a VM bundle go to the helper with vsrun's arguments, before anything is made" {
	vm_bundle
	run env VSRUN_VM_HELPER="$FAKE" "$VSRUN" --root "$ROOT" create --bundle "$BUNDLE" --pid-file "$TESTTMP/pid" "$ID"
	[ "$status" -eq 7 ]
	[ "$(cat "$TESTTMP/args")" = "--root $ROOT create --bundle $BUNDLE --pid-file $TESTTMP/pid $ID" ]
	[ "$(cat "$TESTTMP/mark")" = 1 ]
	nothing_made "$ID"
	[ ! -e "$TESTTMP/pid" ]
	run env VSRUN_VM_HELPER="$FAKE" "$VSRUN" --root "$ROOT" run -b "$BUNDLE" "$ID"
	[ "$status" -eq 7 ]
	[ "$(cat "$TESTTMP/args")" = "--root $ROOT run -b $BUNDLE $ID" ]
	nothing_made "$ID"
	# an ordinary bundle never asks for the helper
	jq_config 'del(.annotations)'
	jq_config '.process.args = ["true"]'
	rm -f "$TESTTMP/args"
	VSRUN_VM_HELPER="$FAKE" vsrun run -b "$BUNDLE" "$ID"
	[ ! -e "$TESTTMP/args" ]
}

@test "vsrun vm dispatch: start, kill, delete and exec of a VM container go to the helper; state, ps and list do not" {
	vsrun create -b "$BUNDLE" "$ID"
	touch "$ROOT/$ID/vm"
	local verb
	for verb in "start $ID" "kill $ID KILL" "kill --all $ID TERM" "delete --force $ID" "exec $ID true" \
		"exec --user 1001:101 --cwd /tmp $ID true"; do
		rm -f "$TESTTMP/args"
		run env VSRUN_VM_HELPER="$FAKE" "$VSRUN" --root "$ROOT" $verb
		echo "$verb: $status $output"
		[ "$status" -eq 7 ]
		[ "$(cat "$TESTTMP/args")" = "--root $ROOT $verb" ]
	done
	# none of them touched it
	[ "$(state_of "$ID")" = created ]
	rm -f "$TESTTMP/args"
	VSRUN_VM_HELPER="$FAKE" vsrun state "$ID" >/dev/null
	VSRUN_VM_HELPER="$FAKE" vsrun ps "$ID" >/dev/null
	VSRUN_VM_HELPER="$FAKE" vsrun list | grep -q "^$ID "
	[ ! -e "$TESTTMP/args" ]
	# the real helper takes them over for real (the handler's generic parts:
	# no QEMU behind this one)
	vsrun kill "$ID" KILL
	wait_for status_is "$ID" stopped
	vsrun delete "$ID"
	nothing_made "$ID"
}

@test "vsrun vm dispatch: a missing or wrong helper fails in one line and leaves nothing" {
	vm_bundle
	# vsrun alone in a directory: no vsrun-vm beside it nor in ../libexec/vserver
	[ ! -e /usr/local/libexec/vserver/vsrun-vm ] ||
		skip "a vsrun-vm is installed in /usr/local/libexec/vserver (the compiled-in place): remove it to test a missing one"
	mkdir "$TESTTMP/lone"
	cp "$VSRUN" "$TESTTMP/lone/vsrun"
	run --separate-stderr "$TESTTMP/lone/vsrun" --root "$ROOT" run -b "$BUNDLE" "$ID"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$stderr" = "vsrun: vm: run.oci.handler=vm needs the VM helper vsrun-vm, found in none of $TESTTMP/lone/, $TESTTMP/lone/../libexec/vserver/ or /usr/local/libexec/vserver/ (see vsrun(8))" ]
	nothing_made "$ID"
	# the same for a container that is a VM
	jq_config 'del(.annotations)'
	vsrun create -b "$BUNDLE" "$ID"
	touch "$ROOT/$ID/vm"
	run --separate-stderr "$TESTTMP/lone/vsrun" --root "$ROOT" delete --force "$ID"
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "vsrun: vm: run.oci.handler=vm needs the VM helper vsrun-vm"* ]]
	[ "$(state_of "$ID")" = created ]
	rm "$ROOT/$ID/vm"
	vsrun delete --force "$ID"
	vm_bundle
	# VSRUN_VM_HELPER names nothing
	run --separate-stderr env VSRUN_VM_HELPER="$TESTTMP/nothing" "$VSRUN" --root "$ROOT" create -b "$BUNDLE" "$ID"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vsrun: vm: the VM helper $TESTTMP/nothing (VSRUN_VM_HELPER): No such file or directory" ]
	nothing_made "$ID"
	# a helper without the VM handler (vsrun itself) does not hand it on again
	run --separate-stderr env VSRUN_VM_HELPER="$VSRUN" "$VSRUN" --root "$ROOT" create -b "$BUNDLE" "$ID"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vsrun: vm: this vsrun was run as the VM helper but has no VM handler" ]
	nothing_made "$ID"
}

@test "vsrun vm dispatch: make install puts vsrun-vm in libexec, and the installed vsrun finds it there" {
	local prefix=$TESTTMP/prefix build
	build=$(cd "$(dirname "$VSRUN")" && pwd)
	make -s -C "$BATS_TEST_DIRNAME/.." install PREFIX="$prefix" BUILD="$build" >/dev/null
	[ -x "$prefix/sbin/vsrun" ]
	[ -x "$prefix/libexec/vserver/vsrun-vm" ]
	[ ! -e "$prefix/sbin/vsrun-vm" ]
	# a container marked as a VM: only the helper can kill and delete it
	# (the lone vsrun of the test above cannot)
	"$prefix/sbin/vsrun" --root "$ROOT" run -d -b "$BUNDLE" "$ID" </dev/null >/dev/null
	touch "$ROOT/$ID/vm"
	"$prefix/sbin/vsrun" --root "$ROOT" kill "$ID" KILL
	wait_for status_is "$ID" stopped
	"$prefix/sbin/vsrun" --root "$ROOT" delete "$ID"
	nothing_made "$ID"
}
