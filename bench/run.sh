#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/run.sh: what `make bench` runs (after building). It runs every benchmark
# binary in $BUILD/bench/ and prints its output under a header with the machine and
# kernel, then the side-by-side comparisons: bench/nginx_wrk.sh (nginx under wrk
# without and with the agent; needs root) and bench/demo_wrk.sh (the same for the demo
# services, quote-service calling rates-service, with their USDT business spans). Benchmarks that attach the agent to
# themselves (bench_usdt) find it in $KSPAN.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
export KSPAN=${KSPAN:-$BUILD/kspan}
echo "# kspan benchmarks: $(uname -srm), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
found=0
for bin in "$BUILD"/bench/*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
	found=1
	echo "## $(basename "$bin")"
	"$bin"
done
[ $found -eq 1 ] || echo "no benchmarks built (bench/*.c)"
BUILD=$BUILD bash bench/nginx_wrk.sh
BUILD=$BUILD bash bench/demo_wrk.sh
