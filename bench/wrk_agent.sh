# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2154 # $work and $URL come from the caller
#
# bench/wrk_agent.sh: sourced (not run) by the benchmarks that measure a server under wrk
# without and with the agent (bench/nginx_wrk.sh, bench/demo_wrk.sh). Owns the measurement and
# the report; the caller owns its server. The caller sets, before sourcing or before calling
# wrk_agent_compare:
#   WRK_NAME    its name, for messages ("nginx_wrk.sh")
#   URL         what wrk requests
#   SELECT      the agent's target selector (a list of arguments, e.g. "--port 8080")
#   work        a scratch directory (removed by the caller)
# and calls wrk_agent_compare TITLE SETUP_LINE, then wrk_agent_cleanup from its exit trap.
#
# What is measured, alternating PAIRS pairs of runs without and with build/kspan, then one more
# run with the console exporter writing to /dev/null. A markdown table:
#   - throughput with/without the agent per pair, the ratio (median, min, max) and wrk's
#     p50/p99 latency (medians over the runs);
#   - BPF CPU per request: run_time_ns summed over the agent's programs (from the fdinfo of its
#     program fds, with kernel.bpf_stats_enabled=1) during the run, divided by the requests
#     served. The syscall tracepoints fire for every process (wrk too) and return early for
#     non-targets, so this is an upper bound of the cost inside the server;
#   - agent CPU (utime+stime from /proc/PID/stat) during the run, per request and as a share of
#     one core; agent RSS (VmRSS) at the end of the run;
#   - drops from the agent's last stats line (--stats-interval 1).
# The with-agent runs export nothing (OTEL_TRACES_EXPORTER=none): spans are built and go
# through the batch processor, but no exporter cost, which the console run shows.
#
# Environment: BUILD (build), PAIRS (3), DURATION (seconds per run, 10), CONNS (16),
# THREADS (1), PROG_STATS (1: also print run_cnt and ns/run per BPF program of the last
# with-agent run), BPF_STATS (1; 0: leave kernel.bpf_stats_enabled off, which takes two clock
# reads per program run out of the with-agent runs; BPF ns/req then reads 0), KSPAN_FLAVOR (passed
# to the agent, which then tries only that hook flavor, e.g. "socket"; unset: the agent chooses).

BUILD=${BUILD:-build}
PAIRS=${PAIRS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
THREADS=${THREADS:-1}
PROG_STATS=${PROG_STATS:-0}
BPF_STATS=${BPF_STATS:-1}
KSPAN=${KSPAN:-$BUILD/kspan}
HZ=$(getconf CLK_TCK)
agent_pid=
stats_old=

# wrk_agent_check TOOL...: the tools, the agent and root are there, or a message and exit 1.
wrk_agent_check() {
	local tool
	for tool in wrk ss "$@"; do
		command -v "$tool" >/dev/null || { echo "$WRK_NAME: $tool is missing" >&2; exit 1; }
	done
	[ -x "$KSPAN" ] || { echo "$WRK_NAME: $KSPAN is not built" >&2; exit 1; }
	[ "$(id -u)" -eq 0 ] || { echo "$WRK_NAME: needs root (BPF)" >&2; exit 1; }
}

# free_port FROM: the first loopback port from FROM nobody listens on.
free_port() {
	local p=$1
	while ss -Hltn "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

wrk_agent_cleanup() {
	if [ -n "$agent_pid" ]; then
		if kill "$agent_pid" 2>/dev/null; then wait "$agent_pid" 2>/dev/null || true; fi
		agent_pid=
	fi
	if [ -n "$stats_old" ]; then
		sysctl -qw kernel.bpf_stats_enabled="$stats_old"
		stats_old=
	fi
}

# wrk_run OUT: one wrk run; prints "rps requests p50_us p99_us errors" to OUT.
wrk_run() {
	local raw=$work/wrk.out
	wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$URL" >"$raw"
	awk '
		function us(v) {
			if (v ~ /us$/) return v + 0
			if (v ~ /ms$/) return (v + 0) * 1000
			if (v ~ /s$/) return (v + 0) * 1000000
			return v + 0
		}
		/^ +50%/ { p50 = us($2) }
		/^ +99%/ { p99 = us($2) }
		/requests in/ { req = $1 }
		/^Requests\/sec:/ { rps = $2 }
		/Non-2xx|Socket errors/ { err = err $0 ";" }
		END { printf "%s %s %s %s %s\n", rps, req, p50, p99, (err == "" ? "none" : "yes") }
	' "$raw" >"$1"
	if grep -q 'Non-2xx\|Socket errors' "$raw"; then
		echo "$WRK_NAME: wrk reported errors:" >&2
		cat "$raw" >&2
	fi
}

# Sum of run_time_ns over the BPF programs the agent holds, each counted once. The
# kernel prints the counters (the same as `bpftool prog show` does) in the fdinfo of
# every program fd; going by the agent's fds attributes programs exactly, which
# bpftool's own pid lookup cannot do on kernels without its BPF iterator.
bpf_ns() {
	awk 'FNR == 1 { id = "" }
	     /^prog_id:/ { id = $2 }
	     /^run_time_ns:/ && id != "" && !(id in seen) { seen[id] = 1; sum += $2 }
	     END { printf "%.0f\n", sum }' /proc/"$agent_pid"/fdinfo/* 2>/dev/null
}

# Per program: "id run_time_ns run_cnt", one line each, from the same fdinfo.
prog_counters() {
	awk 'FNR == 1 { id = "" }
	     /^prog_id:/ { id = $2 }
	     /^run_time_ns:/ && id != "" { ns[id] = $2 }
	     /^run_cnt:/ && id != "" { cnt[id] = $2 }
	     END { for (i in ns) print i, ns[i], cnt[i] }' /proc/"$agent_pid"/fdinfo/* 2>/dev/null |
		sort
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$agent_pid/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$agent_pid/status"; }
# RSS of the BPF map mappings (the ring buffer: its data pages are mapped twice, so
# 8 MiB of ring shows as 16 MiB), reported apart from the agent's own memory.
maps_kb() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { bpf = ($6 == "anon_inode:bpf-map") }
	     /^Rss:/ && bpf { sum += $2 } END { print sum + 0 }' "/proc/$agent_pid/smaps"
}

# agent_start EXPORTER: kspan attached by $SELECT, stats every second on $work/agent.err.
agent_start() {
	# shellcheck disable=SC2086 # SELECT is a list of arguments
	OTEL_TRACES_EXPORTER=$1 "$KSPAN" $SELECT --stats-interval 1 \
		>/dev/null 2>"$work/agent.err" &
	agent_pid=$!
	for _ in $(seq 200); do
		grep -q 'kspan: tracing' "$work/agent.err" && return 0
		sleep 0.05
	done
	echo "$WRK_NAME: kspan did not start:" >&2
	cat "$work/agent.err" >&2
	exit 1
}

agent_stop() {
	kill -TERM "$agent_pid"
	wait "$agent_pid" || { echo "$WRK_NAME: kspan exited with $?" >&2; exit 1; }
	agent_pid=
}

# with_agent EXPORTER OUT: one wrk run with the agent; OUT gets
# "rps requests p50 p99 errors bpf_ns_per_req agent_us_per_req agent_core_pct rss_kb
#  maps_kb drops"
with_agent() {
	local b0 b1 c0 c1 rss maps drops
	agent_start "$1"
	sleep 1
	b0=$(bpf_ns)
	c0=$(cpu_ticks)
	prog_counters >"$work/progs.0"
	wrk_run "$work/run"
	b1=$(bpf_ns)
	c1=$(cpu_ticks)
	prog_counters >"$work/progs.1"
	[ "$PROG_STATS" = 1 ] && for id in $(awk '{ print $1 }' "$work/progs.1"); do
		echo "$id $(bpftool prog show id "$id" 2>/dev/null | sed -n 's/.* name \([^ ]*\) .*/\1/p' | head -1)"
	done >"$work/names"
	rss=$(rss_kb)
	maps=$(maps_kb)
	sleep 1.2 # one more stats line covering the end of the run
	agent_stop
	# "drops: ringbuf A truncated B queue C": ring buffer and queue drops (truncated
	# payloads are not lost events).
	drops=$(grep 'kspan: stats:' "$work/agent.err" | tail -1 |
		sed -E 's/.*drops: ringbuf ([0-9]+) truncated [0-9]+ queue ([0-9]+).*/\1+\2/')
	drops=$((drops))
	read -r rps req p50 p99 err <"$work/run"
	awk -v rps="$rps" -v req="$req" -v p50="$p50" -v p99="$p99" -v err="$err" \
		-v bns=$((b1 - b0)) -v ticks=$((c1 - c0)) -v hz="$HZ" -v dur="$DURATION" \
		-v rss="$rss" -v maps="$maps" -v drops="$drops" 'BEGIN {
		printf "%s %s %s %s %s %.0f %.2f %.1f %s %s %s\n", rps, req, p50, p99, err,
			bns / req, ticks / hz * 1e6 / req, ticks / hz / dur * 100, rss, maps, drops
	}' >"$2"
}

# wrk_agent_compare TITLE SETUP: the whole comparison and its report. TITLE names the server
# (a markdown heading); SETUP is a line describing it.
wrk_agent_compare() {
	local i flavor r0 r1 p50a p50b p99a p99b bns aus pct rss maps drops req
	stats_old=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS"

	# Warm-up (not counted).
	wrk -t"$THREADS" -c"$CONNS" -d2s "$URL" >/dev/null

	echo "## $1: without and with kspan"
	echo
	echo "$(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "$2, wrk -t$THREADS -c$CONNS -d${DURATION}s --latency $URL, $PAIRS pairs"
	echo "${KSPAN_FLAVOR:+KSPAN_FLAVOR=$KSPAN_FLAVOR }kspan $SELECT --stats-interval 1, OTEL_TRACES_EXPORTER=none (last row: console > /dev/null)"
	echo
	: >"$work/off.all"
	: >"$work/on.all"
	for i in $(seq "$PAIRS"); do
		wrk_run "$work/off.$i"
		cat "$work/off.$i" >>"$work/off.all"
		with_agent none "$work/on.$i"
		cat "$work/on.$i" >>"$work/on.all"
	done
	with_agent console "$work/console"
	flavor=$(sed -n 's/.*with the \([a-z_]*\) flavor.*/\1/p' "$work/agent.err" | head -1)

	echo "| run | req/s without | req/s with | ratio | p50 without / with (µs) | p99 without / with (µs) | BPF ns/req | agent µs/req | agent CPU (% of a core) | agent RSS (MiB): total / BPF maps / rest | drops |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for i in $(seq "$PAIRS"); do
		read -r r0 _ p50a p99a _ <"$work/off.$i"
		read -r r1 _ p50b p99b _ bns aus pct rss maps drops <"$work/on.$i"
		awk -v i="$i" -v r0="$r0" -v r1="$r1" -v a="$p50a" -v b="$p50b" -v c="$p99a" -v d="$p99b" \
			-v bns="$bns" -v aus="$aus" -v pct="$pct" -v rss="$rss" -v maps="$maps" \
			-v drops="$drops" 'BEGIN {
			printf "| %d | %.0f | %.0f | %.3f | %s / %s | %s / %s | %s | %s | %s | %.1f / %.1f / %.1f | %s |\n",
				i, r0, r1, r1 / r0, a, b, c, d, bns, aus, pct, rss / 1024, maps / 1024,
				(rss - maps) / 1024, drops
		}'
	done
	read -r r1 _ p50b p99b _ bns aus pct rss maps drops <"$work/console"
	awk -v r1="$r1" -v b="$p50b" -v d="$p99b" -v bns="$bns" -v aus="$aus" -v pct="$pct" \
		-v rss="$rss" -v maps="$maps" -v drops="$drops" 'BEGIN {
		printf "| console | | %.0f | | / %s | / %s | %s | %s | %s | %.1f / %.1f / %.1f | %s |\n",
			r1, b, d, bns, aus, pct, rss / 1024, maps / 1024, (rss - maps) / 1024, drops
	}'
	echo
	# Ratios of the pairs: median, min, max; latency medians.
	paste -d' ' "$work/off.all" "$work/on.all" | awk -v flavor="$flavor" '
		{ ratio[NR] = $6 / $1; p50a[NR] = $3; p50b[NR] = $8; p99a[NR] = $4; p99b[NR] = $9 }
		function median(a, n,    i, j, t, b) {
			for (i = 1; i <= n; i++) b[i] = a[i]
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t }
			return n % 2 ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
		}
		END {
			lo = hi = ratio[1]
			for (i = 2; i <= NR; i++) { if (ratio[i] < lo) lo = ratio[i]; if (ratio[i] > hi) hi = ratio[i] }
			printf "Throughput with/without (%s flavor): median %.3f, min %.3f, max %.3f over %d pairs.\n",
				flavor, median(ratio, NR), lo, hi, NR
			printf "Latency medians: p50 %s -> %s µs, p99 %s -> %s µs.\n",
				median(p50a, NR), median(p50b, NR), median(p99a, NR), median(p99b, NR)
		}'
	if [ "$PROG_STATS" = 1 ]; then
		echo
		echo "Per program over the console run (${DURATION}s): name, runs, ns per run, ns per request."
		echo
		read -r _ req _ <"$work/console"
		join "$work/progs.0" "$work/progs.1" | join - "$work/names" |
			awk -v req="$req" '{ dn = $4 - $2; dc = $5 - $3 }
				dc > 0 { printf "| %s | %d | %.0f | %.0f |\n", $6, dc, dn / dc, dn / req }' |
			sort -t'|' -k5 -nr
	fi
}
