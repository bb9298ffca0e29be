#!/usr/bin/env bash
# Runs every unit test (TAP) and every bats file, prints each result and ends
# with one line: "N passed, N failed, N skipped". Exit 1 if anything failed.
#   tests/run-all.sh [--unit-only] [bats files...]
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export VSRUN="${VSRUN:-$PWD/$BUILD/vsrun}" VSERVER="${VSERVER:-$PWD/$BUILD/vserver}"
unit_only=0
files=()
for a in "$@"; do
	case "$a" in
	--unit-only) unit_only=1 ;;
	*) files+=("$a") ;;
	esac
done

pass=0 fail=0 skipped=0
failed_names=()
tally() { # reads TAP on stdin, echoes it, counts
	local name=$1 line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"ok "*"# skip"*|"ok "*"# SKIP"*) skipped=$((skipped + 1)) ;;
		"ok "*) pass=$((pass + 1)) ;;
		"not ok "*) fail=$((fail + 1)); failed_names+=("$name: ${line#not ok }") ;;
		esac
	done
}

if [ ${#files[@]} -eq 0 ]; then
	for t in "$BUILD"/tests/test-*; do
		[ -x "$t" ] || continue
		echo "# unit: ${t##*/}"
		out=$(timeout 300 "$t" 2>&1); rc=$?
		tally "${t##*/}" <<<"$out"
		if [ $rc -ne 0 ] && ! grep -q '^not ok' <<<"$out"; then
			echo "not ok - ${t##*/} exited $rc"; fail=$((fail + 1)); failed_names+=("${t##*/}: exit $rc")
		fi
	done
	[ $unit_only = 1 ] || files=(tests/*.bats)
fi

for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	echo "# bats: $f"
	tally "${f##*/}" < <(timeout 1200 bats --tap "$f" 2>&1)
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "# failures:"
	printf '#   %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
