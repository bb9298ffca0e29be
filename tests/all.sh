#!/usr/bin/env bash
# Everything, from a fresh Debian 12 machine, as root: installs what is
# missing, builds with warnings as errors, runs the unit and integration tests,
# the sanitizer build of the unit tests, a short fuzz run of the config parser
# and the cgroup v2 tests inside a throwaway VM. Ends with one line:
#   N passed, N failed, N skipped
set -u
cd "$(dirname "$0")/.."
tests/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

P=0 F=0 S=0
add() { # parses "N passed, N failed, N skipped" from the last such line of a log
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then F=$((F + 1)); echo "# $2: no result line"; return; fi
	set -- $line
	P=$((P + $1)); F=$((F + $3)); [ "${6:-}" ] && S=$((S + $5))
}
log=$(mktemp -d)

echo "## build"
if ! make -j2 WERROR=1 all unit >"$log/build" 2>&1; then
	cat "$log/build"; echo "0 passed, 1 failed"; exit 1
fi

echo "## tests"
tests/run-all.sh 2>&1 | tee "$log/check"; add "$log/check" check

echo "## sanitizer build of the unit tests"
if make -j2 SANITIZE=1 unit >"$log/san-build" 2>&1; then
	BUILD=build-san tests/run-all.sh --unit-only 2>&1 | tee "$log/san"; add "$log/san" sanitize
else
	cat "$log/san-build"; F=$((F + 1))
fi

echo "## fuzz: config parser, 30 s"
if make fuzz >"$log/fuzz-build" 2>&1; then
	mkdir -p "$log/corpus"
	if build/fuzz-conf -max_total_time=30 -timeout=10 "$log/corpus" tests/fuzz/corpus >"$log/fuzz" 2>&1; then
		echo "ok - fuzz-conf ran 30 s without a crash"; P=$((P + 1))
	else
		tail -n 40 "$log/fuzz"; echo "not ok - fuzz-conf found a crash"; F=$((F + 1))
	fi
else
	cat "$log/fuzz-build"; echo "not ok - fuzz-conf did not build"; F=$((F + 1))
fi

echo "## cgroup v2 inside a throwaway VM"
if [ -x tests/vm/run.sh ]; then
	tests/vm/run.sh 2>&1 | tee "$log/vm"; add "$log/vm" check-vm
fi

rm -rf "$log"
echo "$P passed, $F failed, $S skipped"
[ $F -eq 0 ]
