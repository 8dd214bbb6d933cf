#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/demo_wrk.sh: the agent's overhead on the demo services (examples/quote_service.c and
# examples/rates_service.c, thread per connection): wrk asks quote-service for
# GET /quote/sku-1?qty=3, and each request makes quote-service call rates-service over a
# kept-alive connection and fire its <otel/usdt.h> business probes (9 spans per request once
# the agent attaches to them: 2 SERVER, 1 CLIENT, 6 INTERNAL). Runs alternate without and with
# build/kspan attached to both by --pid, PAIRS pairs, then one run with the console exporter
# writing to /dev/null. What is measured and reported, and the knobs (BUILD, PAIRS, DURATION,
# CONNS, THREADS, PROG_STATS, BPF_STATS): bench/wrk_agent.sh. Needs root (BPF) and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

WRK_NAME=demo_wrk.sh
# shellcheck source=bench/wrk_agent.sh
. bench/wrk_agent.sh
wrk_agent_check curl
# `make bench` builds the benchmarks and the agent, not the examples: build them here.
if [ ! -x "$BUILD/examples/quote_service" ] || [ ! -x "$BUILD/examples/rates_service" ]; then
	${MAKE:-make} --no-print-directory -s DEPS_DONE=1 BUILD="$BUILD" \
		"$BUILD/examples/quote_service" "$BUILD/examples/rates_service" >&2
fi

work=$(mktemp -d /tmp/kspan-bench-demo-XXXXXX)
rates_pid=''
quote_pid=''

cleanup() {
	local pid
	wrk_agent_cleanup
	for pid in $quote_pid $rates_pid; do
		if kill "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
	done
	rm -rf "$work"
}
trap cleanup EXIT

# port_of FILE: the port a service printed ("port N") in FILE, once it did.
port_of() {
	for _ in $(seq 100); do
		grep -q '^port ' "$1" 2>/dev/null && break
		sleep 0.05
	done
	awk '/^port / { print $2 }' "$1"
}

OTEL_SERVICE_NAME=rates-service "$BUILD/examples/rates_service" >"$work/rates.port" &
rates_pid=$!
rates_port=$(port_of "$work/rates.port")
OTEL_SERVICE_NAME=quote-service "$BUILD/examples/quote_service" --rates-port "$rates_port" \
	>"$work/quote.port" &
quote_pid=$!
quote_port=$(port_of "$work/quote.port")
if [ -z "$rates_port" ] || [ -z "$quote_port" ]; then
	echo "$WRK_NAME: a service did not start" >&2
	exit 1
fi
URL="http://127.0.0.1:$quote_port/quote/sku-1?qty=3"
SELECT="--pid $quote_pid --pid $rates_pid"
curl -fs -o /dev/null "$URL" || { echo "$WRK_NAME: $URL fails" >&2; exit 1; }

wrk_agent_compare "quote-service and rates-service under wrk" \
	"examples/quote_service calling examples/rates_service"
