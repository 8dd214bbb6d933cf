#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/run.sh: the test runner behind `make test` (which builds everything first).
# Runs, in order: unit tests; the unit tests again from an ASan/UBSan build
# (`make SAN=1 unit-tests`); integration tests (need root; the agent's end-to-end ones
# twice, the second time on the socket hook flavor); a replay of every fuzz
# target over its checked-in corpus; the install test. Prints one PASS/FAIL line per
# binary, the log of each failure, and last "N passed, N failed". Exits 1 on any failure.
#
# Environment: BUILD (default build), SAN_BUILD (build/asan), MAKE (make),
# TEST_TIMEOUT (seconds per binary, default 600), TEST_FILTER (run only names
# matching this bash glob, e.g. 'test_span*').
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BUILD=${BUILD:-build}
SAN_BUILD=${SAN_BUILD:-build/asan}
MAKE=${MAKE:-make}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
TEST_FILTER=${TEST_FILTER:-*}
LOGS=$BUILD/test-logs
passed=0
failed=0

rm -rf "$LOGS"
mkdir -p "$LOGS"

# result KIND NAME LOG RC: record and print one outcome; show the log of a failure.
result() {
	if [ "$4" -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS $1/$2"
	else
		failed=$((failed + 1))
		echo "FAIL $1/$2 (exit $4, log $3)"
		sed 's/^/    | /' "$3"
	fi
}

# run KIND NAME CMD...: run a command with a timeout, its output going to a log.
run() {
	local kind=$1 name=$2 log rc
	shift 2
	# shellcheck disable=SC2053 # TEST_FILTER is a glob on purpose
	[[ $name == $TEST_FILTER ]] || return 0
	mkdir -p "$LOGS/$kind"
	log=$LOGS/$kind/$name.log
	# A subshell, so a crash report ("Aborted") lands in the log, not on the terminal.
	(timeout --kill-after=10 "$TEST_TIMEOUT" "$@"; exit $?) >"$log" 2>&1
	rc=$?
	[ $rc -eq 124 ] && echo "timed out after ${TEST_TIMEOUT}s" >>"$log"
	result "$kind" "$name" "$log" $rc
}

# run_dir KIND SRCDIR BINDIR: run the binary built from each SRCDIR/test_*.c. Going by the
# sources means a stale binary whose source was deleted is not run, and a missing one fails.
run_dir() {
	local src name
	for src in "$2"/test_*.c; do
		[ -f "$src" ] || continue
		name=$(basename "$src" .c)
		run "$1" "$name" "$3/$name"
	done
}

# 1. Unit tests.
run_dir unit tests/unit "$BUILD/tests/unit"

# 2. The same unit tests built with ASan/UBSan.
san_log=$LOGS/asan-build.log
if DEPS_DONE=1 $MAKE --no-print-directory SAN=1 BUILD="$SAN_BUILD" unit-tests >"$san_log" 2>&1
then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_dir asan tests/unit "$SAN_BUILD/tests/unit"
else
	result asan build "$san_log" 1
fi

# 3. Integration tests: real kernel, root. Missing privileges are a failure, not a skip.
if [ "$(id -u)" -ne 0 ]; then
	for src in tests/integration/test_*.c; do
		[ -f "$src" ] || continue
		name=$(basename "$src" .c)
		log=$LOGS/integration/$name.log
		mkdir -p "$LOGS/integration"
		echo "integration tests need root (BPF load, tracefs, network namespaces)" >"$log"
		result integration "$name" "$log" 1
	done
else
	run_dir integration tests/integration "$BUILD/tests/integration"
	# The agent's end-to-end tests again on the socket flavor (opt-in, KSPAN_FLAVOR),
	# which the loader never picks by itself: the same exact spans from other hooks.
	for name in test_agent_http test_agent_nginx test_agent_traces; do
		run integration-socket "$name" env KSPAN_FLAVOR=socket "$BUILD/tests/integration/$name"
	done
fi

# 4. Fuzz targets replay their checked-in corpus (no mutation).
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	run fuzz "$name" bash scripts/fuzz.sh replay "$BUILD/fuzz/$name"
done

# 5. Install into a scratch DESTDIR and build a program against it with pkg-config.
run install install_test env BUILD="$BUILD" MAKE="$MAKE" bash tests/install_test.sh

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
