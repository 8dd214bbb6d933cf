#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/fuzz.sh: runs libFuzzer targets built by the Makefile ($BUILD/fuzz/fuzz_<name>).
# The checked-in corpus of fuzz_<name> is tests/fuzz/corpus/<name>/.
#
#   scripts/fuzz.sh replay BIN     run BIN once over every corpus file, no mutation
#                                  (what `make test` does); fails if there is no corpus
#   scripts/fuzz.sh run BIN...     fuzz each BIN for $FUZZ_TIME seconds (`make fuzz`); new
#                                  inputs go to $BUILD/fuzz/work/<name>/, crashes to
#                                  $BUILD/fuzz/artifacts/<name>/; the checked-in corpus is
#                                  only read. To keep new inputs, minimize them into it:
#                                  BIN -merge=1 tests/fuzz/corpus/<name> $BUILD/fuzz/work/<name>
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
FUZZ_TIME=${FUZZ_TIME:-60}

corpus_of() {
	local name
	name=$(basename "$1")
	echo "tests/fuzz/corpus/${name#fuzz_}"
}

replay() {
	local bin=$1 corpus
	corpus=$(corpus_of "$bin")
	if [ -z "$(find "$corpus" -type f -print -quit 2>/dev/null)" ]; then
		echo "$bin: no checked-in corpus: add seed inputs to $corpus/" >&2
		return 1
	fi
	# Files as arguments: libFuzzer executes each one and exits (non-zero on a crash).
	mkdir -p "$BUILD/fuzz/artifacts/$(basename "$corpus")"
	find "$corpus" -type f -print0 | sort -z |
		xargs -0 "$bin" -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$BUILD/fuzz/artifacts/$(basename "$corpus")/"
}

run() {
	local bin name work arts corpus rc=0 dirs
	for bin in "$@"; do
		name=$(basename "$bin")
		work=$BUILD/fuzz/work/${name#fuzz_}
		arts=$BUILD/fuzz/artifacts/${name#fuzz_}
		corpus=$(corpus_of "$bin")
		mkdir -p "$work" "$arts"
		# libFuzzer writes new inputs to the first directory only.
		dirs=("$work")
		[ -d "$corpus" ] && dirs+=("$corpus")
		echo "== $name: ${FUZZ_TIME}s, corpus $corpus, new inputs in $work"
		if ! "$bin" -max_total_time="$FUZZ_TIME" -print_final_stats=1 \
			-artifact_prefix="$arts/" "${dirs[@]}"; then
			echo "== $name: FAILED, reproducer in $arts/"
			rc=1
		fi
	done
	return $rc
}

case "${1:-}" in
replay) shift; [ $# -eq 1 ] || { echo "usage: $0 replay BIN" >&2; exit 2; }; replay "$1" ;;
run) shift; run "$@" ;;
*) echo "usage: $0 replay BIN | run BIN..." >&2; exit 2 ;;
esac
