#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# examples/demo.sh: what `make demo` runs (after building). Runs the SDK example
# (examples/exercise.c): with no collector configured its trace is printed on the
# console; with OTEL_EXPORTER_OTLP_ENDPOINT set it is sent there over OTLP/HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
exe=$BUILD/examples/exercise
if [ ! -x "$exe" ]; then
	echo "demo: $exe is not built" >&2
	exit 1
fi
if [ -z "${OTEL_EXPORTER_OTLP_ENDPOINT:-}${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-}" ]; then
	export OTEL_TRACES_EXPORTER=${OTEL_TRACES_EXPORTER:-console}
	echo "demo: no OTEL_EXPORTER_OTLP_ENDPOINT set: printing the trace on the console"
else
	echo "demo: exporting to ${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-$OTEL_EXPORTER_OTLP_ENDPOINT}"
fi
"$exe"
echo "demo: done (a SERVER span handle-request with a failing CLIENT child call-database)"
