#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# examples/demo.sh: what `make demo` runs (after building).
#  1. The SDK example (examples/exercise.c): its trace, a SERVER span with a failing
#     CLIENT child, on the console (or to OTEL_EXPORTER_OTLP_ENDPOINT when set).
#  2. The agent on two services that know nothing about OpenTelemetry: quote-service
#     (examples/quote_service.c), which calls rates-service (examples/rates_service.c) for
#     each quote and marks its business steps with <otel/usdt.h>. kspan attaches to both by
#     PID, a few requests are made with curl (a quote, a quote whose discount step fails, a
#     404, /health), then kspan is stopped and what it printed is shown: one trace per request
#     (or, with OTEL_EXPORTER_OTLP_ENDPOINT set, the spans go there). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
exe=$BUILD/examples/exercise
for f in "$exe" "$BUILD/kspan" "$BUILD/examples/quote_service" "$BUILD/examples/rates_service"; do
	[ -x "$f" ] || { echo "demo: $f is not built" >&2; exit 1; }
done
exporter_set_here=0
if [ -z "${OTEL_EXPORTER_OTLP_ENDPOINT:-}${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-}" ]; then
	if [ -z "${OTEL_TRACES_EXPORTER:-}" ]; then
		export OTEL_TRACES_EXPORTER=console
		exporter_set_here=1
	fi
	where="the console"
else
	where="${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-$OTEL_EXPORTER_OTLP_ENDPOINT}"
fi

echo "== 1. libotel: examples/exercise.c, spans to $where"
"$exe"

echo
echo "== 2. kspan: tracing two services that know nothing about OpenTelemetry"
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: part 2 skipped: kspan needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)"
	exit 0
fi
# The services and kspan get no OTEL_TRACES_EXPORTER this script chose: the services have no
# SDK, and kspan prints trace trees by itself when no collector is configured.
if [ "$exporter_set_here" = 1 ]; then
	unset OTEL_TRACES_EXPORTER
fi

tmp=$(mktemp -d)
rates_pid=''
quote_pid=''
kspan_pid=''
cleanup() {
	local pid
	for pid in $kspan_pid $quote_pid $rates_pid; do
		if kill "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
	done
	rm -rf "$tmp"
	return 0
}
trap cleanup EXIT

# wait_for FILE PATTERN SECONDS: until PATTERN shows up in FILE; 1 on timeout.
wait_for() {
	for _ in $(seq $(($3 * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# port_of NAME FILE: the port a service printed ("port N") in FILE, once it did.
port_of() {
	wait_for "$2" '^port ' 5 || { echo "demo: $1 did not start" >&2; exit 1; }
	awk '/^port / { print $2 }' "$2"
}

OTEL_SERVICE_NAME=rates-service "$BUILD/examples/rates_service" --port 0 >"$tmp/rates.port" &
rates_pid=$!
rates_port=$(port_of rates-service "$tmp/rates.port")
OTEL_SERVICE_NAME=quote-service "$BUILD/examples/quote_service" --port 0 \
	--rates-port "$rates_port" >"$tmp/quote.port" &
quote_pid=$!
quote_port=$(port_of quote-service "$tmp/quote.port")
echo "   quote-service (pid $quote_pid) on 127.0.0.1:$quote_port calls rates-service" \
	"(pid $rates_pid) on 127.0.0.1:$rates_port"

"$BUILD/kspan" --pid "$quote_pid" --pid "$rates_pid" --no-stats >"$tmp/spans" 2>"$tmp/log" &
kspan_pid=$!
if ! wait_for "$tmp/log" "kspan: tracing" 10; then
	echo "demo: kspan did not start:" >&2
	cat "$tmp/log" >&2
	exit 1
fi
sed 's/^/   /' "$tmp/log"
echo "   requests:"
for path in "/quote/sku-1?qty=3" "/quote/sku-err?qty=1" "/nothing/here" "/health"; do
	code=$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$quote_port$path" ||
		true)
	printf '     GET %-22s %s %s\n' "$path" "$code" "$(tr -d '\n' <"$tmp/body")"
done
sleep 1
kill -TERM "$kspan_pid"
wait "$kspan_pid" || true
kspan_pid=
if [ "$where" = "the console" ]; then
	echo "   what kspan printed:"
	sed 's/^/   /' "$tmp/spans"
else
	echo "   spans sent to $where"
fi
echo "demo: done"
