#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# examples/demo.sh: what `make demo` runs (after building).
#  1. The SDK example (examples/exercise.c): its trace, a SERVER span with a failing
#     CLIENT child, on the console (or to OTEL_EXPORTER_OTLP_ENDPOINT when set).
#  2. The agent: a small HTTP server (tests/servers/http_server) is started, kspan
#     attaches to it by PID, a few requests are made with curl, and the spans kspan
#     built from the kernel's view of the traffic are printed. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
exe=$BUILD/examples/exercise
for f in "$exe" "$BUILD/kspan" "$BUILD/tests/servers/http_server"; do
	[ -x "$f" ] || { echo "demo: $f is not built" >&2; exit 1; }
done
if [ -z "${OTEL_EXPORTER_OTLP_ENDPOINT:-}${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-}" ]; then
	export OTEL_TRACES_EXPORTER=${OTEL_TRACES_EXPORTER:-console}
	where="the console"
else
	where="${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-$OTEL_EXPORTER_OTLP_ENDPOINT}"
fi

echo "== 1. libotel: examples/exercise.c, spans to $where"
"$exe"

echo
echo "== 2. kspan: tracing an HTTP server that knows nothing about OpenTelemetry"
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: skipped: kspan needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)"
	exit 0
fi
tmp=$(mktemp -d)
server_pid= kspan_pid=
cleanup() {
	[ -n "$kspan_pid" ] && kill "$kspan_pid" 2>/dev/null || true
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
OTEL_SERVICE_NAME=demo-shop "$BUILD/tests/servers/http_server" 0 >"$tmp/port" &
server_pid=$!
for _ in $(seq 50); do grep -q port "$tmp/port" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/port/ { print $2 }' "$tmp/port")
"$BUILD/kspan" --pid "$server_pid" --no-stats >"$tmp/spans" 2>"$tmp/log" &
kspan_pid=$!
for _ in $(seq 100); do grep -q "kspan: tracing" "$tmp/log" 2>/dev/null && break; sleep 0.1; done
sed 's/^/   /' "$tmp/log"
echo "   requests: GET /users/42, GET /users/7, GET /chunked, GET /missing, GET /fail"
for path in /users/42 /users/7 /chunked /missing /fail; do
	curl -s -o /dev/null "http://127.0.0.1:$port$path" || true
done
sleep 0.5
kill -TERM "$kspan_pid"
wait "$kspan_pid" || true
kspan_pid=
echo "   spans:"
cat "$tmp/spans"
echo "demo: done"
